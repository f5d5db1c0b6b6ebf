"""The command line: the entry point (`main`), `exec` scripts, the shell, output formats and progress."""

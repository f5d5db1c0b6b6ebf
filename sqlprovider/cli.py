"""Command line: argument parsing only; each sub-command hands off to a module."""

from __future__ import annotations

import argparse
import sys


def _add_sandbox(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider sandbox ...`: the local workspace server (see sqlprovider.sandbox)."""
    # Filled in by the sandbox work: `sandbox serve` with its flags.


def _add_exec(subparsers: argparse._SubParsersAction) -> None:
    """`sqlprovider exec`: run statements from files, -e or stdin."""
    from sqlprovider.output import FORMATS

    p = subparsers.add_parser("exec", help="run SQL statements from files, -e or stdin",
                              description="Run every statement in order; the first error stops the run.")
    p.add_argument("files", nargs="*", metavar="FILE", help="SQL files to run ('-' for stdin)")
    p.add_argument("-e", "--execute", action="append", default=[], metavar="SQL", help="SQL text to run")
    p.add_argument("-o", "--output", choices=FORMATS, default="table", help="output format (default: table)")
    p.add_argument("-f", "--outfile", metavar="OUTFILE", help="write results to this file instead of stdout")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="fill {{ NAME }} placeholders")
    p.add_argument("--vars-file", metavar="FILE.json", help="placeholder values from a JSON object")
    p.set_defaults(handler=_run_exec)


def _run_exec(args: argparse.Namespace) -> int:
    import sqlprovider
    from sqlprovider import script

    variables = script.load_variables(args.var, args.vars_file)
    sources = script.read_sources(args.files, args.execute)
    out = open(args.outfile, "w", encoding="utf-8") if args.outfile else sys.stdout
    try:
        with sqlprovider.connect() as connection:
            script.run(connection, sources, variables, out, args.output)
    finally:
        if args.outfile:
            out.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sqlprovider", description="Manage Databricks registry webhooks with SQL.")
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_exec(subparsers)
    _add_sandbox(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `sqlprovider` command: errors are one line on stderr, never a traceback."""
    from sqlprovider.errors import Error

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except Error as exc:
        print(f"sqlprovider: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sqlprovider: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

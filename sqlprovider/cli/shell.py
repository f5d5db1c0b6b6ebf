"""`sqlprovider shell`: the interactive REPL, an `apsw.shell.Shell` whose statements go through sqlprovider.

apsw gives multi-line input, dot-commands, output modes and `.read`; this subclass sends every complete
statement (typed, piped or read from a file) through `Connection.run`, so EXEC, RETURNING, StackQL names,
DESCRIBE and SHOW work. It adds a `markdown` mode, JSON modes that nest JSON columns, `.dryrun on|off`,
a row count and the elapsed time after each statement, one-line errors, its own history file (the
shape of each typed statement, none of its values) and completion of resource, column, method, parameter
and value names.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

import apsw
import apsw.shell

from sqlprovider import paths
from sqlprovider.cli import output

from sqlprovider.engine import statements
from sqlprovider.engine.connection import _translate
from sqlprovider.cli.progress import Reporter
from sqlprovider.errors import ProgrammingError
from sqlprovider.redact import mask_literals, sql_tokens
from sqlprovider.resources import BY_NAME, RESOURCES

HISTORY_LIMIT = 1000
#: readline word breaks: quotes break words (values are completed inside them); '@', '.' and '_' do not.
COMPLETER_DELIMS = " \t\n`~!#$%^&*()=+[{]}\\|;:'\",<>/?-"
INTRO = ("sqlprovider shell (SQLite {sqlite}). Statements end with ';'. Try: SHOW RESOURCES; "
         "DESCRIBE model_registry_webhooks; .dryrun on; .help\n")


class Shell(apsw.shell.Shell):
    """The REPL. `connection` is a sqlprovider Connection; its SQLite database is the shell's `db`."""

    _command_params = {**apsw.shell.Shell._command_params, "dryrun": bool}

    def __init__(self, connection, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 stderr: TextIO | None = None, history: History | None = None,
                 interactive: bool | None = None) -> None:
        self.connection = connection
        super().__init__(stdin=stdin, stdout=stdout, stderr=stderr, db=connection.db)
        if interactive is not None:
            self.interactive = interactive
        # a person typing is asked before a bulk UPDATE/DELETE; piped input runs as written, like a script
        connection.engine.confirm = self.confirm if self.interactive else None
        self.prompt, self.moreprompt = "sqlprovider> ", "        ...> "
        self.history = history
        self.reporter = Reporter(connection.requests, self.stderr)
        self.errors = 0
        self._where = ""  # `FILE:LINE: ` of the input being run, for error messages when not interactive

    def confirm(self, verb: str, count: int) -> bool:
        """Called by the engine before an UPDATE/DELETE of several rows not pinned to ids is sent: show how
        many rows, and go on only on `y`. Under .dryrun nothing is sent, so the listing is shown instead."""
        if self.connection.requests.dry_run:
            return True
        self.write(self.stderr, f"{verb} would change {count} rows (not pinned to ids); send it? [y/N] ")
        self.stderr.flush()
        return self.stdin.readline().strip().lower() in ("y", "yes")

    # --- the loop -------------------------------------------------------------------------------------
    def cmdloop(self, intro: str | None = None, transient: str | None = None) -> None:
        """Read and run input until EOF or .exit; on a terminal with readline, complete and keep history."""
        if self.interactive:
            self.write(self.stdout, intro or INTRO.format(sqlite=apsw.sqlite_lib_version()))
        readline = self._setup_readline() if self.interactive and self.stdin is sys.stdin else None
        self._using_readline = readline is not None
        while True:
            self._input_descriptions = []
            try:
                command = self.get_complete_line()
                if command is None:
                    if self.interactive:
                        self.write(self.stdout, "\n")
                    return
                self.process_complete_line(command)
            except BaseException:  # noqa: B036 - as apsw's loop: handle_exception decides what ends it
                self.handle_exception()

    def _setup_readline(self) -> Any:
        try:
            import readline
        except ImportError:
            return None
        readline.set_auto_history(False)  # entries are added without their values, one per input (remember)
        readline.set_completer(self.complete)
        readline.set_completer_delims(COMPLETER_DELIMS)
        readline.parse_and_bind("tab: complete")
        if self.history is not None:
            for entry in self.history.load():
                readline.add_history(entry)
        return readline

    def process_complete_line(self, command: str) -> None:
        """apsw calls this with each complete input (typed, piped, or a line of a `.read` file):
        dot-commands go to apsw, SQL statements one by one to the connection."""
        if self.interactive:
            self.remember(command)
        first_line = self.input_line_number - command.count("\n")
        self._where = "" if self.interactive else f"{self._source()}:{first_line}: "
        if not command.strip() or command.lstrip().startswith("."):
            return super().process_complete_line(command.lstrip())
        for statement in statements.split_statements(command):
            if not self.interactive:
                self._where = f"{self._source()}:{first_line + statement.line - 1}: "
            self.run_statement(statement.text)

    def run_statement(self, text: str) -> None:
        """Run one statement, show its rows in the current mode, then `N rows in 0.12s` on stderr."""
        if any(kind == "parameter" and text[start] == "?" for kind, start, _ in sql_tokens(text)):
            raise ProgrammingError("the statement has ? where values go, and the shell binds only named "
                                   "parameters (the history keeps no values): write each value in place of its ?")
        started = time.perf_counter()
        with self.reporter.statement():
            result = self.connection.run(text, self.bindings or None)  # .parameter set NAME VALUE
            try:
                shown = self.show(result.columns, result.rows)
            except apsw.Error as exc:  # while reading rows: as the connection words it, quoting no literal
                raise _translate(exc, sql=text) from None
        seconds = time.perf_counter() - started
        rows = result.columns or statements.statement_kind(text) == "select"  # an empty SELECT has no columns
        self.write(self.stderr, summary(shown if rows else None, result.rowcount, seconds) + "\n")

    def show(self, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Write the rows with the current output mode, as apsw's process_sql does; return how many."""
        if not columns:
            return 0
        if getattr(self.output, "all_at_once", False):
            rows = [tuple(r) for r in rows]
            if rows:
                self.output(tuple(columns), rows)
            return len(rows)
        count = 0
        for count, row in enumerate(rows, 1):
            if count == 1:  # as sqlite3: no header for an empty result
                self.output(True, tuple(columns))
            self.output(False, tuple(row))
        return count

    def remember(self, command: str) -> None:
        """Keep a typed input in the history (readline's and the file), without its values."""
        if not command.strip() or self.history is None:
            return
        entry = self.history.add(command)
        if self._using_readline:
            import readline

            readline.add_history(entry)

    def handle_exception(self) -> None:
        """apsw calls this for any error of a command: print it as one line (no traceback) and go on;
        end the loop for .exit, a broken pipe, or an interrupt when not interactive."""
        exc = sys.exc_info()[1]
        if isinstance(exc, SystemExit):
            raise exc
        if isinstance(exc, BrokenPipeError):
            raise SystemExit(1) from None
        if isinstance(exc, KeyboardInterrupt):
            self.handle_interrupt()  # re-raises unless interactive
            return
        self.errors += 1
        prefix = "error: " if self.interactive else "sqlprovider: error: "
        self.write(self.stderr, prefix + self._where + _message(exc) + "\n")
        if self.bail:
            raise SystemExit(1) from None

    def _source(self) -> str:
        name = getattr(self.stdin, "name", "<stdin>")
        return name if isinstance(name, str) else "<stdin>"

    # --- commands and modes (apsw builds .help from these docstrings) --------------------------------
    def command_tables(self, cmd: list[str]) -> None:
        """tables ?PATTERN?: List the resources, then your own tables and views, matching LIKE patterns

        The resources are eponymous virtual tables, which SQLite's catalogue does not list.
        """
        for name in self._table_names(cmd):
            self.write(self.stdout, name + "\n")

    def command_schema(self, cmd: list[str]) -> None:
        """schema ?TABLE? [TABLE...]: Show the CREATE statement of resources and tables (LIKE patterns)

        A resource's hidden columns (HIDDEN) are its request parameters, usable in WHERE.
        """
        schemas = {r.name: r.schema() for r in RESOURCES}
        rows = self.db.execute("SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL UNION ALL "
                               "SELECT name, sql FROM sqlite_temp_schema WHERE sql IS NOT NULL")
        schemas.update((name, sql) for name, sql in rows if name not in _INTERNAL_TABLES)
        for name in self._table_names(cmd, every_kind=True):
            self.write(self.stdout, schemas[name] + ";\n")

    def _table_names(self, patterns: list[str], every_kind: bool = False) -> list[str]:
        """Resources first, then the user's tables and views (and with every_kind, indexes and triggers)."""
        kinds = "" if every_kind else "AND type IN ('table', 'view')"
        own = [name for (name,) in self.db.execute(
            f"SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL {kinds} UNION ALL "
            f"SELECT name FROM sqlite_temp_schema WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL {kinds} "
            f"ORDER BY 1") if name not in _INTERNAL_TABLES]
        names = [r.name for r in RESOURCES] + own
        return [n for n in names
                if any(self.db.execute("SELECT ?1 LIKE ?2", (n, p)).fetchall()[0][0] for p in patterns or ["%"])]

    def command_dryrun(self, cmd: list[str]) -> None:
        """dryrun ON|OFF: Print the HTTP requests statements make (stderr) and send no mutating request

        With dry-run on, INSERT, UPDATE, DELETE and EXEC print each request they would send as
        `would send: ...`; listings needed to find the affected rows still run and print as `listing: ...`.
        """
        if not cmd:
            self.write(self.stdout, f"dryrun: {'on' if self.connection.requests.dry_run else 'off'}\n")
            return
        self.connection.requests.dry_run = self._boolean_command("dryrun", cmd)

    def complete_sql(self, line: str, token: str, beg: int, end: int) -> list[str]:
        """apsw calls this (through readline) to complete SQL: see `complete`."""
        return complete(line[:end], token)

    def output_markdown(self, column_names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A Markdown (GitHub) table; numbers right-aligned."""
        self.write(self.stdout, output.render("markdown", column_names, rows))

    output_markdown.all_at_once = True

    def output_json(self, column_names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """A JSON array of objects; JSON columns (events, specs, webhook) nested as JSON."""
        self.write(self.stdout, output.render("json", column_names, rows))

    output_json.all_at_once = True

    def output_jsonl(self, column_names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """One JSON object per line; JSON columns nested as JSON."""
        self.write(self.stdout, output.render("jsonl", column_names, rows))

    output_jsonl.all_at_once = True


#: Temp tables the connection keeps for RETURNING: not the user's.
_INTERNAL_TABLES = frozenset(f"returning_{r.name}" for r in RESOURCES)


def summary(shown: int | None, rowcount: int, seconds: float) -> str:
    """`3 rows in 0.12s` (rows shown), `1 row affected in 0.05s` (a write), or `done in 0.00s`."""
    if shown is not None:
        what = f"{shown} row{'s' if shown != 1 else ''}"
    elif rowcount >= 0:
        what = f"{rowcount} row{'s' if rowcount != 1 else ''} affected"
    else:
        what = "done"
    return f"{what} in {seconds:.2f}s"


def _message(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    for prefix in ("SQLError: ", "Error: "):
        text = text.removeprefix(prefix)
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def run(*, options: Mapping[str, Any] | None = None, history_path: Path | None = None) -> int:
    """`sqlprovider shell`: run the REPL on stdin; exit code 1 when piped input had errors.

    `options` are sqlprovider.connect()'s (dry_run, deployment, max_affected).
    """
    import sqlprovider

    with sqlprovider.connect(**(options or {})) as connection:
        shell = Shell(connection, history=History(history_path or default_history_path()))
        try:
            shell.cmdloop()
        except SystemExit as exc:
            if isinstance(exc.code, int) and exc.code:
                return exc.code
        finally:
            shell.reporter.close()
    return 1 if shell.errors and not shell.interactive else 0


# --- history --------------------------------------------------------------------------------------------
def default_history_path() -> Path:
    """`history` in the data directory: $SQLPROVIDER_DATA_DIR, else the user's data dir (see paths.py)."""
    return paths.data_dir() / "history"


#: Dot-commands whose arguments are names, paths, modes or numbers, kept as typed; any other keeps its word
#: only (.print, .find, .py, .shell... take free text), and `.parameter set NAME VALUE` keeps no VALUE.
_DOT_ARGUMENTS_KEPT = frozenset({
    "autoimport", "backup", "bail", "cd", "changes", "close", "color", "colour", "connection", "databases",
    "dbconfig", "dbinfo", "dryrun", "dump", "echo", "encoding", "exceptions", "exit", "header", "headers", "help",
    "import", "indices", "limit", "load", "log", "mode", "nullvalue", "open", "output", "pages", "pages_svg",
    "quit", "read", "restore", "schema", "separator", "show", "tables", "timeout", "timer", "version", "vfsinfo",
    "vfslist", "vfsname", "width"})


def redact_history(text: str) -> str:
    """A typed input fit for the history file: its shape, none of its values.

    A value may be a secret whatever its form ('a' || 'b', char(...), x'...', a CTE, a temp table it is
    staged in), so of SQL every literal (string, blob, number, and a double-quoted word that is not one of
    the resources' names) becomes `?` and comments go; of `.parameter set NAME VALUE` the VALUE goes.
    """
    text = text.strip()
    if not text.startswith("."):
        return mask_literals(text, keep_name=_known_name).strip()
    words = text.split()
    command = words[0][1:].lower()
    if command in _DOT_ARGUMENTS_KEPT:
        return " ".join(words)
    if command == "parameter" and len(words) > 1 and words[1].lower() in ("list", "clear", "unset", "set"):
        return " ".join(words[:3])  # .parameter set NAME (never its value), .parameter unset NAME
    return words[0]


def _known_name(name: str) -> bool:
    return name.lower() in NAMES or name.lower() in BY_NAME


class History:
    """The shell's history file: one JSON string per line (entries may span lines), values dropped
    (redact_history)."""

    def __init__(self, path: Path, limit: int = HISTORY_LIMIT) -> None:
        self.path = Path(path)
        self.limit = limit

    def load(self) -> list[str]:
        """The last `limit` entries (the file is trimmed to them)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        entries = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, str):
                entries.append(entry)
        if len(lines) > self.limit:
            self._write(entries[-self.limit:], "w")
        return entries[-self.limit:]

    def add(self, text: str) -> str:
        """Append one entry without its values (redact_history); return the entry as stored."""
        entry = redact_history(text.strip())
        self._write([entry], "a")
        return entry

    def _write(self, entries: list[str], mode: str) -> None:
        try:
            paths.create_private(self.path)
            fd = os.open(self.path, os.O_WRONLY | (os.O_APPEND if mode == "a" else os.O_TRUNC))
            with open(fd, "w", encoding="utf-8") as handle:
                handle.writelines(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries)
        except OSError:
            pass  # history is a convenience: never stop the shell for it


# --- completion -----------------------------------------------------------------------------------------
def _choices() -> dict[str, tuple[str, ...]]:
    """Name (column or parameter) -> the values it takes, from the resource definitions."""
    found: dict[str, tuple[str, ...]] = {}
    for resource in RESOURCES:
        found.setdefault(resource.deployment_param, ("sandbox",))
        for column in resource.columns:
            if column.choices:
                found.setdefault(column.name, column.choices)
        for method in resource.exec_methods:
            for param in method.params:
                if param.choices:
                    found.setdefault(param.name, param.choices)
    return found


CHOICES = _choices()
NAMES = frozenset({n for r in RESOURCES for n in r.all_names}
                  | {p.name for r in RESOURCES for m in r.exec_methods for p in m.params})
RESOURCE_NAMES = sorted(BY_NAME)
EXEC_TARGETS = sorted(f"{name}.{m.name}" for name, r in BY_NAME.items() for m in r.exec_methods)
TABLE_WORDS = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "DESCRIBE", "DESC", "EXTENDED"}
KEYWORDS = sorted(apsw.keywords)
_WORDS = re.compile(r"@@?\w+|[\w.]+|\S")


def complete(before: str, word: str) -> list[str]:
    """Completions for `word`, the word being typed at the end of `before` (the text before the cursor).

    Resource names after FROM/JOIN/INTO/UPDATE/DESCRIBE/SHOW METHODS IN; `resource.method` after EXEC and
    then its `@params`; inside a quoted value, the values of the column or parameter named before it
    (events, statuses, 'sandbox'); elsewhere the columns and parameters of the resources named, and keywords.
    """
    statement = before[before.rfind(";") + 1:]
    head = statement[:len(statement) - len(word)] if word and statement.endswith(word) else statement
    if head.count("'") % 2:  # inside a quoted value
        return _matching(_values(head), word)
    tokens = _WORDS.findall(head)
    upper = [t.upper() for t in tokens]
    if upper[:1] in (["EXEC"], ["EXECUTE"]):
        return _matching(EXEC_TARGETS if len(tokens) == 1 else _exec_params(tokens), word)
    if upper[-1:] and (upper[-1] in TABLE_WORDS or upper[-2:] == ["METHODS", "IN"]):
        return _matching(RESOURCE_NAMES, word)
    named = [BY_NAME[t.lower()] for t in tokens if t.lower() in BY_NAME] or list(RESOURCES)
    columns = sorted({n for r in named for n in r.all_names})
    keywords = [k.lower() for k in KEYWORDS] if word.islower() else KEYWORDS
    return _matching(columns, word) + _matching(keywords, word)


def _exec_params(tokens: list[str]) -> list[str]:
    """`@param` names of the EXEC target, those not given yet; `@@json` too."""
    target, _, method_name = tokens[1].rpartition(".")
    resource = BY_NAME.get(target.lower())
    method = resource.exec_method(method_name.lower()) if resource else None
    if method is None:
        return []
    given = {t.lower() for t in tokens if t.startswith("@")}
    names = [f"@{resource.deployment_param}"] + [f"@{p.name}" for p in method.params] + ["@@json"]
    return [n for n in names if n.lower() not in given]


def _values(head: str) -> list[str]:
    """Inside a quoted value: the values of the nearest name before the cursor that is a column or
    parameter (`events = '`, `'{"event": "`, `@status='`); events and statuses when none is."""
    for name in reversed(re.findall(r"[A-Za-z_]\w*", head)):
        if name.lower() in NAMES:
            return list(CHOICES.get(name.lower(), ()))
    return sorted({v for key in ("events", "status") for v in CHOICES.get(key, ())})


def _matching(candidates: Iterable[str], word: str) -> list[str]:
    prefix = word.lower()
    return [c for c in candidates if c.lower().startswith(prefix) and c != word]

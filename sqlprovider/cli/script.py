"""`sqlprovider exec`: run scripted statements in order and print each result.

Every source is read, split and checked for unfilled placeholders before anything runs; then the
statements run one by one and the first error stops the run, its message naming the file and line.
Human formats (table, box, markdown) print the `--` comment lines just above a statement as its
title; machine formats (json, jsonl, csv) print the rows only.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlprovider.cli import output

from sqlprovider.engine import statements
from sqlprovider.errors import Error, TemplateError

HUMAN = ("table", "box", "markdown")


@dataclass(frozen=True)
class Source:
    name: str  # file path, "<stdin>" or "-e"
    text: str


@dataclass(frozen=True)
class Step:
    """One statement ready to run: where it came from, its filled text and its title comment."""

    source: str
    line: int
    text: str
    title: tuple[str, ...]

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


class LocatedError(Error):
    """An error with the file and line of the statement that raised it."""


def execute(files: list[str], expressions: list[str], *, fmt: str = "table", outfile: str | None = None,
            var_pairs: list[str] = (), vars_file: str | None = None, options: Mapping[str, Any] | None = None) -> int:
    """The whole `sqlprovider exec` command: read, check, open the output, run. Returns the exit code.

    `options` are sqlprovider.connect()'s (dry_run, deployment, max_affected).
    """
    import sqlprovider
    from sqlprovider.cli.progress import Reporter

    variables = load_variables(list(var_pairs), vars_file)
    steps = prepare(read_sources(files, expressions), variables)
    connection = sqlprovider.connect(**(options or {}))  # a bad option is an error before any output file is made
    with connection, _output(outfile) as out:
        reporter = Reporter(connection.requests, sys.stderr)
        try:
            run_steps(connection, steps, out, fmt, reporter)
        finally:
            reporter.close()
    return 0


def load_variables(pairs: list[str], vars_file: str | None) -> dict[str, object]:
    """--vars-file values, overridden by each --var NAME=VALUE."""
    variables: dict[str, object] = {}
    if vars_file:
        try:
            loaded = json.loads(Path(vars_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else exc
            raise TemplateError(f"cannot read --vars-file {vars_file}: {reason}") from None
        if not isinstance(loaded, dict):
            raise TemplateError(f"--vars-file {vars_file} must hold a JSON object of name: value")
        variables.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise TemplateError(f"--var {pair!r} is not NAME=VALUE")
        variables[name.strip()] = value
    return variables


def read_sources(files: list[str], expressions: list[str]) -> list[Source]:
    """The files in order ('-' is stdin), then each -e text; stdin alone when neither is given."""
    sources = []
    for name in files:
        if name == "-":
            sources.append(Source("<stdin>", sys.stdin.read()))
            continue
        try:
            sources.append(Source(name, Path(name).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise LocatedError(f"cannot read {name}: {reason}") from None
    sources += [Source("-e", e) for e in expressions]
    if not sources:
        sources.append(Source("<stdin>", sys.stdin.read()))
    return sources


def prepare(sources: list[Source], variables: Mapping[str, object]) -> list[Step]:
    """Split every source and fill its placeholders; any unfilled placeholder fails here, before anything runs."""
    steps = []
    for source in sources:
        try:
            statements.fill_template(source.text, variables)  # names every unfilled placeholder at once
            parts = statements.split_statements(source.text)
            steps += [Step(source.name, part.line, statements.fill_template(part.text, variables),
                           leading_comment(source.text, part.line)) for part in parts]
        except Error as exc:
            raise LocatedError(f"{source.name}: {exc}") from None
    return steps


def leading_comment(text: str, line: int) -> tuple[str, ...]:
    """The `--` comment lines directly above line `line` (1-based): the statement's title."""
    lines = text.splitlines()
    first = line - 1
    while first > 0 and lines[first - 1].lstrip().startswith("--"):
        first -= 1
    return tuple(lines[i].strip() for i in range(first, line - 1))


def run(connection, sources: list[Source], variables: Mapping[str, object], out: TextIO, fmt: str) -> int:
    """Run every statement of every source; return the number of statements run."""
    return run_steps(connection, prepare(sources, variables), out, fmt)


def run_steps(connection, steps: list[Step], out: TextIO, fmt: str, reporter=None) -> int:
    """Run the steps in order, writing each result to `out`; the first error stops with a LocatedError."""
    printed = False
    for step in steps:
        with reporter.statement() if reporter is not None else nullcontext():
            try:
                printed = _run_step(connection, step, out, fmt, separate=printed) or printed
            except Error as exc:
                raise LocatedError(f"{step.where}: {_one_line(exc)}") from None
            except OSError:  # writing the output failed: not the statement's fault
                raise
            except Exception as exc:  # a bug, still reported as one line with its place
                raise LocatedError(f"{step.where}: internal error ({type(exc).__name__}): {_one_line(exc)}") from exc
        out.flush()
    return len(steps)


def _run_step(connection, step: Step, out: TextIO, fmt: str, separate: bool) -> bool:
    """Run one statement and print its result; return whether anything was printed."""
    cursor = connection.execute(step.text)
    human = fmt in HUMAN
    if cursor.description:
        columns = [d[0] for d in cursor.description]
        if not human:
            output.write(out, fmt, columns, cursor)
            return True
        text = output.render(fmt, columns, cursor)  # rows first: an error mid-listing prints no title
    elif human and cursor.rowcount >= 0:
        text = f"({cursor.rowcount} row{'s' if cursor.rowcount != 1 else ''} affected)\n"
    else:
        return False
    out.write(("\n" if separate else "") + output.title(fmt, step.title) + text)
    return True


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).splitlines())


@contextmanager
def _output(outfile: str | None) -> Iterator[TextIO]:
    """stdout, or OUTFILE opened for writing (an unwritable path is a one-line error, before anything runs)."""
    if not outfile:
        yield sys.stdout
        return
    try:
        handle = open(outfile, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise LocatedError(f"cannot write -f {outfile}: {exc.strerror}") from None
    with handle:
        yield handle


def silence_stdout() -> None:
    """After a broken pipe (`... | head`): point stdout at /dev/null so the exit flush cannot fail."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())

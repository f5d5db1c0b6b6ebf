"""`sqlprovider exec`: run scripted statements in order and print each result.

The first error stops the run; its message names the file and line of the statement.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlprovider import output, statements
from sqlprovider.errors import Error, TemplateError

HUMAN = ("table", "box", "markdown")


@dataclass(frozen=True)
class Source:
    name: str  # file path, "<stdin>" or "-e"
    text: str


def load_variables(pairs: list[str], vars_file: str | None) -> dict[str, object]:
    """--vars-file values, overridden by each --var NAME=VALUE."""
    variables: dict[str, object] = {}
    if vars_file:
        try:
            loaded = json.loads(Path(vars_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise TemplateError(f"cannot read --vars-file {vars_file}: {exc}") from None
        if not isinstance(loaded, dict):
            raise TemplateError(f"--vars-file {vars_file} must hold a JSON object of name: value")
        variables.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise TemplateError(f"--var {pair!r} is not NAME=VALUE")
        variables[name.strip()] = value
    return variables


class LocatedError(Error):
    """An error with the file and line of the statement that raised it."""


def run(connection, sources: list[Source], variables: Mapping[str, object], out: TextIO, fmt: str) -> int:
    """Run every statement of every source; return the number of statements run."""
    filled = []
    for source in sources:  # fill every template first: an unfilled placeholder stops the run before anything runs
        try:
            filled.append((source, statements.fill_template(source.text, variables)))
        except TemplateError as exc:
            raise LocatedError(f"{source.name}: {exc}") from None
    count = 0
    for source, text in filled:
        for statement in statements.split_statements(text):
            try:
                cursor = connection.execute(statement.text)
                if cursor.description:
                    columns = [d[0] for d in cursor.description]
                    output.write(out, fmt, columns, cursor)
                elif fmt in HUMAN and cursor.rowcount >= 0:
                    out.write(f"({cursor.rowcount} row{'s' if cursor.rowcount != 1 else ''} affected)\n")
            except Error as exc:
                raise LocatedError(f"{source.name}:{statement.line}: {exc}") from None
            out.flush()
            count += 1
    return count


def read_sources(files: list[str], expressions: list[str]) -> list[Source]:
    sources = []
    for name in files:
        if name == "-":
            sources.append(Source("<stdin>", sys.stdin.read()))
            continue
        try:
            sources.append(Source(name, Path(name).read_text(encoding="utf-8")))
        except OSError as exc:
            raise LocatedError(f"cannot read {name}: {exc.strerror}") from None
    sources += [Source("-e", e) for e in expressions]
    if not sources:
        sources.append(Source("<stdin>", sys.stdin.read()))
    return sources

"""Render rows for people and programs: table, box, markdown, csv, json, jsonl.

JSON output nests the JSON columns (events, specs, webhook) as JSON values, not strings.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from sqlprovider.resources import RESOURCES

FORMATS = ("table", "box", "json", "jsonl", "csv", "markdown")
JSON_COLUMNS = frozenset({c.name for r in RESOURCES for c in r.columns if c.is_json} | {"webhook"})


def write(out: TextIO, fmt: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write the rows in `fmt`; return how many were written."""
    if fmt == "jsonl":
        count = 0
        for row in rows:
            out.write(json.dumps(_record(columns, row), ensure_ascii=False) + "\n")
            count += 1
        return count
    rows = list(rows)
    if fmt == "json":
        out.write(json.dumps([_record(columns, r) for r in rows], indent=2, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([[_text(v) if v is None or isinstance(v, bytes) else v for v in r] for r in rows])
    elif fmt == "markdown":
        out.write(_markdown(columns, rows))
    else:
        out.write(_grid(columns, rows, box=fmt == "box"))
    return len(rows)


def _record(columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    record = {}
    for name, value in zip(columns, row):
        if name in JSON_COLUMNS and isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        elif isinstance(value, bytes):
            value = value.hex()
        record[name] = value
    return record


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.hex()
    return str(value).replace("\n", "\\n")


def _grid(columns: Sequence[str], rows: Sequence[Sequence[Any]], box: bool) -> str:
    cells = [[_text(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    numeric = _numeric(len(columns), rows)

    def line(values: Sequence[str], sep: str) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)]
        return f"{sep} " + f" {sep} ".join(parts) + f" {sep}\n"

    if box:
        top = "┌" + "┬".join("─" * (w + 2) for w in widths) + "┐\n"
        mid = "├" + "┼".join("─" * (w + 2) for w in widths) + "┤\n"
        bottom = "└" + "┴".join("─" * (w + 2) for w in widths) + "┘\n"
        header = "│ " + " │ ".join(c.ljust(w) for c, w in zip(columns, widths)) + " │\n"
        return top + header + mid + "".join(line(r, "│") for r in cells) + bottom
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"
    header = "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |\n"
    return rule + header + rule + "".join(line(r, "|") for r in cells) + rule


def _numeric(count: int, rows: Sequence[Sequence[Any]]) -> list[bool]:
    """Which columns hold only numbers (and NULLs): they are right-aligned."""
    return [bool(rows) and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) for i in range(count)]


def _markdown(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def esc(value: Any) -> str:
        return _text(value).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(c) for c in columns) + " |",
             "|" + "|".join("---:" if num else "---" for num in _numeric(len(columns), rows)) + "|"]
    lines += ["| " + " | ".join(esc(v) for v in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def title(fmt: str, comment: Sequence[str]) -> str:
    """A statement's `--` comment lines as a title: verbatim, or as a paragraph in markdown."""
    if not comment:
        return ""
    if fmt == "markdown":
        return " ".join(line.lstrip("-").strip() for line in comment) + "\n\n"
    return "\n".join(comment) + "\n"


def render(fmt: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The rows as a string (for tests and the shell)."""
    buffer = io.StringIO()
    write(buffer, fmt, columns, rows)
    return buffer.getvalue()

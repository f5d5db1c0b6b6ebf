"""Resource query files (`resources/*.iql`): the queries under their anchors, as stackql-deploy defines them.

An anchor is a line starting with `/*+ name[, option=N ...] */`; the query is the text up to the next
anchor. Names: exists (or preflight), statecheck (or postdeploy), create, update, createorupdate, exports,
delete, command. Options: retries and retry_delay (seconds) for any anchor, postdelete_retries and
postdelete_retry_delay for exists (used after a delete, until the resource is gone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlprovider.stacks.manifest import ManifestError

NAMES = ("exists", "statecheck", "create", "update", "createorupdate", "exports", "delete", "command")
ALIASES = {"preflight": "exists", "postdeploy": "statecheck"}
OPTIONS = ("retries", "retry_delay", "postdelete_retries", "postdelete_retry_delay")
_ANCHOR = re.compile(r"/\*\+(?P<body>.*?)\*/")


@dataclass(frozen=True)
class Query:
    """One anchored query: its template text, options, and where it starts (file and line) for messages."""

    anchor: str
    template: str
    line: int
    retries: int = 1
    retry_delay: float = 0.0
    postdelete_retries: int = 1
    postdelete_retry_delay: float = 0.0


def load(path: Path) -> dict[str, Query]:
    """The anchored queries of a file, by anchor name; ManifestError names the file and line of a mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"query file {path} not found: create it, or set the resource's file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from None
    return parse(text, str(path))


def parse(text: str, where: str) -> dict[str, Query]:
    queries: dict[str, Query] = {}
    current: tuple[str, dict[str, float], int] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            name, options, line = current
            template = "".join(body).strip()
            if not template:
                raise ManifestError(f"{where}:{line}: anchor {name} has no query under it")
            queries[name] = Query(name, template, line + 1, **options)  # type: ignore[arg-type]

    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        match = _ANCHOR.match(line)
        if match is None:
            body.append(line)
            continue
        close()
        name, options = _anchor(match.group("body"), f"{where}:{number}")
        if name in queries or (current is not None and current[0] == name):
            raise ManifestError(f"{where}:{number}: anchor {name} appears twice: keep one")
        current, body = (name, options, number), [line[match.end():]]
    close()
    return queries


def _anchor(text: str, where: str) -> tuple[str, dict[str, float]]:
    """`statecheck, retries=5, retry_delay=10` -> ('statecheck', {'retries': 5, 'retry_delay': 10.0})."""
    name, *parts = [p.strip() for p in text.split(",")]
    name = ALIASES.get(name.lower(), name.lower())
    if name not in NAMES:
        raise ManifestError(f"{where}: unknown anchor {name!r}; the anchors are {', '.join(NAMES)}")
    options: dict[str, float] = {}
    for part in parts:
        key, _, value = (p.strip() for p in part.partition("="))
        if key not in OPTIONS:
            raise ManifestError(f"{where}: unknown option {key!r} of {name}; the options are {', '.join(OPTIONS)}")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if number < 0 or (key.endswith("retries") and (number != int(number) or number < 1)):
            raise ManifestError(f"{where}: {key}={value!r}: give a {'whole number of at least 1' if key.endswith('retries') else 'number of seconds'}")
        options[key] = int(number) if key.endswith("retries") else number
    return name, options

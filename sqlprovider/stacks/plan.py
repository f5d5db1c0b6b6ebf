"""What a stack run shows: per resource one line (`created`, `update`, `no change`, ...), in a dry run or a
plan the requests a build would send under it (secrets masked), a summary line, and one error line per
failing resource. `sqlprovider stack ...` (cli/main.py) hands off to `command` here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import urlencode

from sqlprovider.errors import ConfigurationError, Error
from sqlprovider.stacks.runner import Report, Stack
from sqlprovider.workspace.client import RequestRecord

COMMANDS = ("build", "test", "teardown", "plan")
#: The summary's counts, per command, in order: (label, the actions it counts).
SUMMARIES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "build": (("created", ("created",)), ("updated", ("updated",)), ("unchanged", ("no change",))),
    "plan": (("to create", ("create",)), ("to update", ("update",)), ("unchanged", ("no change",))),
    "test": (("in the desired state", ("in the desired state",)),),
    "teardown": (("deleted", ("deleted",)), ("not found", ("not found",))),
    "teardown --dry-run": (("to delete", ("delete",)), ("not found", ("not found",))),
}


def command(name: str, stack_dir: str, stack_env: str, *, env_pairs: Sequence[str] = (), env_file: str | None = None,
            dry_run: bool = False, show_queries: bool = False, output_file: str | None = None,
            out: TextIO, err: TextIO) -> int:
    """Run `sqlprovider stack NAME STACK_DIR STACK_ENV ...`: 0 when every resource succeeded, else 1."""
    variables = environment(env_pairs, env_file)
    show = (lambda text: (err.write(text), err.flush())) if show_queries else None
    stack = Stack(stack_dir, stack_env, variables, dry_run=dry_run or name == "plan", show=show)
    report = getattr(stack, name)()
    out.write(format_report(report))
    out.flush()
    for failure in report.failures:
        err.write(f"sqlprovider: error: {failure.failure}\n")
    if output_file and report.ok:
        write_exports(report, output_file)
    return 0 if report.ok else 1


def environment(pairs: Sequence[str], env_file: str | None) -> dict[str, str]:
    """The variables templates see: the process environment, then the env file (default `.env` in the
    working directory, if there is one), then each `-e NAME=VALUE`; a later one wins."""
    variables = dict(os.environ)
    path = Path(env_file) if env_file else Path(".env")
    if env_file or path.is_file():
        variables.update(read_env_file(path))
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"-e {pair!r}: expected NAME=VALUE")
        variables[name.strip()] = value
    return variables


def read_env_file(path: Path) -> dict[str, str]:
    """`NAME=VALUE` lines (an `export ` prefix, quotes around the value, `#` comments and blank lines allowed)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"--env-file {str(path)!r}: cannot read it ({exc.strerror or exc})") from None
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"{path}:{number}: expected NAME=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        variables[name.strip()] = value
    return variables


def format_report(report: Report) -> str:
    """Stdout of a run: a line per resource (and its held-back requests in a dry run), then the summary."""
    lines = []
    for outcome in report.outcomes:
        if outcome.failure:
            lines.append(f"{outcome.label}: failed")
            continue
        lines.append(f"{outcome.label}: {outcome.action}")
        if report.dry_run:
            lines += [f"  would send: {describe_request(r)}" for r in outcome.writes]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def summary(report: Report) -> str:
    key = {"build": "plan", "teardown": "teardown --dry-run"}.get(report.command) if report.dry_run else None
    counts = SUMMARIES[key or report.command]
    parts = [f"{sum(o.action in actions for o in report.outcomes if not o.failure)} {label}"
             for label, actions in counts]
    if report.failures:
        parts.append(f"{len(report.failures)} failed")
    sent = [r for o in report.outcomes for r in o.requests if r.sent]
    writes = [r for r in sent if r.method != "GET"]
    held = [r for o in report.outcomes for r in o.requests if not r.sent]
    traffic = f"{len(sent)} request{'s' * (len(sent) != 1)} sent, {len(writes)} write{'s' * (len(writes) != 1)}"
    if report.dry_run:
        traffic += f", {len(held)} held back"
    dry = ", dry run" if report.dry_run and report.command != "plan" else ""
    return f"{report.command} {report.stack_name} ({report.stack_env}{dry}): {', '.join(parts)}; {traffic}"


def describe_request(record: RequestRecord) -> str:
    """`sandbox POST /api/...?a=b {"json": "body"}` (the body is masked already)."""
    text = f"{record.workspace} {record.method} {record.path}"
    if record.query:
        text += "?" + urlencode(record.query)
    if record.body is not None:
        text += " " + json.dumps(record.body, separators=(",", ":"), ensure_ascii=False)
    return text


def write_exports(report: Report, path: str) -> None:
    """--output-file: the stack-level exports (protected ones masked) as a JSON object."""
    try:
        Path(path).write_text(json.dumps(report.exports, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise Error(f"--output-file {path!r}: cannot write it ({exc.strerror or exc})") from None


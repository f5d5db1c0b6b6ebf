"""`sqlprovider snapshot`: copy the resources' rows into a plain SQLite file for tools that only open files.

One table per resource (its visible columns plus `deployment_name`; JSON columns stay JSON text)
and `_snapshot(deployment_name, resource, fetched_at, row_count, error)`. The file is written
beside OUT.db and then `os.replace`d over it, so a reader sees the old file or the new one, never
a half-written one. A workspace that fails keeps its previous rows (copied from the old file); when
every fetch of a run fails, nothing is written and an existing file is left as it was.
A sandbox-only resource (`Resource.sandbox_only`) is copied by default only from deployment 'sandbox',
since a Databricks workspace has no such endpoint; naming it (`resources=`, `--resource`) copies it
from every deployment, e.g. from a profile that points at `sqlprovider sandbox serve`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from sqlprovider.workspace.deployments import SANDBOX
from sqlprovider.errors import Error, InterfaceError, OperationalError, ProgrammingError
from sqlprovider.resources import RESOURCES, lookup
from sqlprovider.resources.base import Resource

STATUS_TABLE = "_snapshot"
STATUS_SCHEMA = (f'CREATE TABLE "{STATUS_TABLE}" (deployment_name TEXT, resource TEXT, fetched_at TEXT, '
                 "row_count INTEGER, error TEXT)")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
Row = tuple[Any, ...]


@dataclass(frozen=True)
class TableStatus:
    """One (workspace, resource) of a snapshot: a row of `_snapshot`."""

    deployment: str
    resource: str
    fetched_at: str | None  # when the rows in the file were fetched (ISO 8601, UTC); None: never
    row_count: int
    error: str | None = None  # why this run could not fetch them (the rows are the previous ones)


@dataclass(frozen=True)
class SnapshotReport:
    path: Path
    tables: tuple[TableStatus, ...]
    #: (deployment, resource) pairs not copied: sandbox-only resources of other deployments (no `_snapshot` row)
    skipped: tuple[tuple[str, str], ...] = ()
    #: False when every fetch failed: the file was not written (an existing one is as it was)
    written: bool = True

    @property
    def errors(self) -> list[TableStatus]:
        return [t for t in self.tables if t.error]

    @property
    def row_count(self) -> int:
        return sum(t.row_count for t in self.tables)


@dataclass
class _Fetched:
    deployment: str
    resource: Resource
    rows: list[Row] | None  # None: the fetch failed
    fetched_at: str | None = None
    error: str | None = None


# --- the library function ----------------------------------------------------------------------------
def write_snapshot(path: str | os.PathLike[str], deployments: Sequence[str],
                   connect_options: dict[str, Any] | None = None,
                   resources: Sequence[str] | None = None) -> SnapshotReport:
    """Fetch every resource (default: all) of every deployment and atomically replace `path` with the result.

    By default a sandbox-only resource is fetched only from deployment 'sandbox' (the others are in
    `skipped`); one named in `resources` is fetched from every deployment. Every chosen resource gets
    its table either way. Fetch failures do not raise: they are in the report (and `_snapshot`), with
    the previous rows kept. When every fetch failed, `path` is left untouched (`written` is False).
    """
    path = Path(path)
    chosen = _resources(resources)
    names = list(dict.fromkeys(deployments))
    if not names:
        raise ProgrammingError("snapshot needs at least one deployment: add --deployment NAME")
    _check_target(path)
    plan = {name: [r for r in chosen if resources or _copied_by_default(r, name)] for name in names}
    with ThreadPoolExecutor(max_workers=min(len(names), 8), thread_name_prefix="snapshot") as pool:
        fetched = [f for batch in pool.map(lambda name: _fetch(name, plan[name], connect_options or {}), names)
                   for f in batch]
    skipped = tuple((name, r.name) for name in names for r in chosen if r not in plan[name])
    if fetched and all(item.rows is None for item in fetched):  # nothing new: keep the old file as it is
        return SnapshotReport(path, tuple(_kept(path, item) for item in fetched), skipped, written=False)
    return SnapshotReport(path, _write(path, chosen, fetched), skipped)


def _copied_by_default(resource: Resource, deployment: str) -> bool:
    """False for a sandbox-only resource of any deployment but the sandbox: a workspace has no such endpoint."""
    return not resource.sandbox_only or deployment == SANDBOX


def _resources(names: Sequence[str] | None) -> list[Resource]:
    if not names:
        return list(RESOURCES)
    chosen = []
    for name in dict.fromkeys(names):
        resource = lookup(name)
        if resource is None:
            raise ProgrammingError(f"unknown resource {name!r}; known: " + ", ".join(r.name for r in RESOURCES))
        chosen.append(resource)
    return chosen


def _check_target(path: Path) -> None:
    """Refuse to replace a file that is not an earlier snapshot: it may be someone's database."""
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return
    if path.is_dir():
        raise InterfaceError(f"{path} is a directory; give the snapshot a file name, e.g. {path / 'snapshot.db'}")
    if STATUS_TABLE not in _tables(path):
        raise InterfaceError(f"{path} exists and is not a sqlprovider snapshot (no {STATUS_TABLE} table): "
                             f"choose another file or remove it")


# --- fetching ------------------------------------------------------------------------------------------
def _fetch(deployment: str, resources: Sequence[Resource], options: dict[str, Any]) -> list[_Fetched]:
    """Every row of each resource in one workspace; a failure is recorded, not raised."""
    import sqlprovider

    out: list[_Fetched] = []
    if not resources:
        return out
    with sqlprovider.connect(**options) as conn:
        for resource in resources:
            columns = ", ".join(f'"{name}"' for name in _columns(resource))
            try:
                rows = conn.execute(f'SELECT {columns} FROM "{resource.name}" WHERE "{resource.deployment_param}" = ?',
                                    (deployment,)).fetchall()
            except Error as exc:
                out.append(_Fetched(deployment, resource, None, error=str(exc)))
            else:
                out.append(_Fetched(deployment, resource, rows, fetched_at=_now()))
    return out


def _columns(resource: Resource) -> list[str]:
    return [c.name for c in resource.columns] + [resource.deployment_param]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- writing -------------------------------------------------------------------------------------------
def _write(path: Path, resources: Sequence[Resource], fetched: Sequence[_Fetched]) -> tuple[TableStatus, ...]:
    """Write a complete new file beside `path`, then rename it over `path` (atomic on one file system)."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    statuses = []
    try:
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))  # an OSError that says why
    except OSError as exc:
        raise OperationalError(f"cannot write the snapshot beside {path}: {exc.strerror or exc}; the new file is "
                               f"written in {path.parent} and then renamed over {path.name}, so choose a "
                               f"directory you can write to") from None
    try:
        db = sqlite3.connect(temp)
        try:
            db.execute("PRAGMA journal_mode = OFF")  # a private file until the rename: no journal needed
            for resource in resources:
                types = [c.sql_type for c in resource.columns] + ["TEXT"]
                db.execute(f'CREATE TABLE "{resource.name}" ('
                           + ", ".join(f'"{n}" {t}' for n, t in zip(_columns(resource), types)) + ")")
            db.execute(STATUS_SCHEMA)
            for item in fetched:
                status = _store(db, path, item)
                db.execute(f'INSERT INTO "{STATUS_TABLE}" VALUES (?, ?, ?, ?, ?)',
                           (status.deployment, status.resource, status.fetched_at, status.row_count, status.error))
                statuses.append(status)
            db.commit()
        finally:
            db.close()
        _fsync(temp)
        if path.exists():
            os.chmod(temp, stat.S_IMODE(path.stat().st_mode))
        os.replace(temp, path)
        _fsync(path.parent)
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise OperationalError(f"cannot write the snapshot beside {path}: {reason}") from None
    finally:
        _remove(temp)
    return tuple(statuses)


def _remove(path: Path) -> None:
    """Delete a temporary file if it is there; best effort (a read-only file system cannot delete
    anything, and that must not hide the error being reported)."""
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _store(db: sqlite3.Connection, path: Path, item: _Fetched) -> TableStatus:
    """Insert the fetched rows, or on failure the previous file's rows and fetch time for that workspace."""
    resource, columns = item.resource, _columns(item.resource)
    rows, fetched_at = item.rows, item.fetched_at
    if rows is None:
        rows, fetched_at = _previous(path, resource, item.deployment)
    marks = ", ".join("?" * len(columns))
    db.executemany(f'INSERT INTO "{resource.name}" VALUES ({marks})', rows)
    return TableStatus(item.deployment, resource.name, fetched_at, len(rows), item.error)


def _kept(path: Path, item: _Fetched) -> TableStatus:
    """The status of a failed fetch when the file is not rewritten: what the existing file holds."""
    try:
        rows, fetched_at = _previous(path, item.resource, item.deployment)
    except sqlite3.Error:
        rows, fetched_at = [], None
    return TableStatus(item.deployment, item.resource.name, fetched_at, len(rows), item.error)


def _previous(path: Path, resource: Resource, deployment: str) -> tuple[list[Row], str | None]:
    """The rows and fetch time an earlier snapshot holds for one workspace (none if it holds none)."""
    if not path.is_file() or path.stat().st_size == 0:
        return [], None
    with _read_only(path) as old:
        tables = _tables_in(old)
        if resource.name not in tables or STATUS_TABLE not in tables:
            return [], None
        have = {row[1] for row in old.execute(f'PRAGMA table_info("{resource.name}")')}
        picks = ", ".join(f'"{c}"' if c in have else "NULL" for c in _columns(resource))
        rows = old.execute(f'SELECT {picks} FROM "{resource.name}" WHERE "{resource.deployment_param}" = ?',
                           (deployment,)).fetchall()
        found = old.execute(f'SELECT fetched_at FROM "{STATUS_TABLE}" WHERE deployment_name = ? AND resource = ?',
                            (deployment, resource.name)).fetchone()
    return rows, found[0] if found else None


def _tables(path: Path) -> set[str]:
    try:
        with _read_only(path) as db:
            return _tables_in(db)
    except sqlite3.DatabaseError:
        return set()


def _tables_in(db: sqlite3.Connection) -> set[str]:
    return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


class _read_only:  # noqa: N801 - used like a function
    """A read-only sqlite3 connection that is closed on exit (sqlite3's own context manager only commits)."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.db.close()


def _fsync(path: Path) -> None:
    """Flush a file (or a directory entry) to disk; best effort where the OS cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- the command ---------------------------------------------------------------------------------------
def parse_duration(text: str) -> float:
    """'30s', '5m', '1h', '500ms', '0.2s' or plain seconds -> seconds (> 0)."""
    match = _DURATION.fullmatch(text.strip())
    seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"] if match else 0.0
    if seconds <= 0:
        raise ValueError(f"expected a duration such as 30s, 5m or 1h, not {text!r}")
    return seconds


def run(path: str, deployments: Sequence[str], resources: Sequence[str] | None = None, every: float | None = None,
        count: int | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Write one snapshot (exit 1 if a workspace failed) or, with `every`, one per interval until Ctrl-C
    (or `count` snapshots); failures are reported on `err` and the loop goes on."""
    out, err = out or sys.stdout, err or sys.stderr
    runs = 0
    try:
        while True:
            started = time.monotonic()
            report = write_snapshot(path, deployments, resources=resources)
            _print(report, out, err)
            runs += 1
            if every is None:
                return 1 if report.errors else 0
            if count is not None and runs >= count:
                return 0
            time.sleep(max(0.0, every - (time.monotonic() - started)))
    except KeyboardInterrupt:
        if every is None:
            raise
        return 0


def _print(report: SnapshotReport, out: TextIO, err: TextIO) -> None:
    for status in report.errors:
        kept = f"kept {status.row_count} earlier row{'s' if status.row_count != 1 else ''}"
        print(f"sqlprovider: snapshot: {status.deployment} {status.resource}: {status.error} ({kept})", file=err)
    workspaces = len({t.deployment for t in report.tables})
    failed = ", ".join(dict.fromkeys(t.deployment for t in report.errors))
    if not report.written:
        state = "left as it was" if report.path.exists() else "not written"
        print(f"{_now()} {report.path} {state}: every fetch failed ({failed})", file=out, flush=True)
        err.flush()
        return
    print(f"{_now()} wrote {report.path}: {report.row_count} rows from {workspaces} workspace"
          f"{'s' if workspaces != 1 else ''}" + (f" (failed: {failed})" if failed else ""), file=out, flush=True)
    err.flush()

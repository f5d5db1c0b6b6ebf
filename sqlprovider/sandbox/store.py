"""SQLite persistence for the sandbox: the webhooks table, the delivery log and keyset page tokens.

Several Sandbox instances (in this process or another) may serve one file: the database runs in WAL
mode with a busy timeout, every read-modify-write is one `BEGIN IMMEDIATE` transaction, and rows are
ordered by an AUTOINCREMENT sequence that never reuses a value, so listings stay stable while other
writers insert and delete. Write-only fields (`http_url_spec.secret`, `.authorization`,
`job_spec.access_token`) are stored with the spec and dropped by `StoredWebhook.public()`.

The `deliveries` table logs every delivery (from `test` and from simulated events): it holds the
receiver's url without credentials or query, never a header or a payload.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlprovider import paths
from sqlprovider.errors import OperationalError
from sqlprovider.webhooks import WRITE_ONLY_FIELDS

DATA_FILE = "sandbox.db"
BUSY_TIMEOUT_MS = 10_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    model_name TEXT,
    events TEXT NOT NULL,
    description TEXT,
    status TEXT NOT NULL,
    http_url_spec TEXT,
    job_spec TEXT,
    creation_timestamp INTEGER NOT NULL,
    last_updated_timestamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhooks_model_name ON webhooks (model_name, seq);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id TEXT NOT NULL,
    event TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT,
    job_id TEXT,
    status_code INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    error TEXT,
    delivered_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_webhook_id ON deliveries (webhook_id, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_DELIVERY_COLUMNS = ("id", "webhook_id", "event", "source", "url", "job_id", "status_code", "duration_ms", "error",
                     "delivered_at")

_COLUMNS = ("seq, id, model_name, events, description, status, http_url_spec, job_spec, "
            "creation_timestamp, last_updated_timestamp")


def default_data_path() -> Path:
    """`sandbox.db` in the data directory: `$SQLPROVIDER_DATA_DIR`, else the user's (see paths.py)."""
    return paths.data_dir() / DATA_FILE


def now_ms() -> int:
    """The current time in Unix milliseconds, the unit of every API timestamp."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class StoredWebhook:
    """One row of the webhooks table, write-only fields included."""

    seq: int
    id: str
    model_name: str | None
    events: tuple[str, ...]
    description: str | None
    status: str
    http_url_spec: dict[str, Any] | None
    job_spec: dict[str, Any] | None
    creation_timestamp: int
    last_updated_timestamp: int

    def public(self) -> dict[str, Any]:
        """The webhook as the API returns it: empty fields and write-only fields omitted."""
        out: dict[str, Any] = {"id": self.id, "creation_timestamp": self.creation_timestamp,
                               "last_updated_timestamp": self.last_updated_timestamp}
        if self.model_name:
            out["model_name"] = self.model_name
        out["events"] = list(self.events)
        if self.description:
            out["description"] = self.description
        out["status"] = self.status
        for name in ("http_url_spec", "job_spec"):
            spec = getattr(self, name)
            if spec is not None:
                out[name] = {k: v for k, v in spec.items() if k not in WRITE_ONLY_FIELDS[name]}
        return out


def encode_page_token(after_seq: int) -> str:
    """An opaque page token: urlsafe base64 of the last sequence number already returned."""
    raw = json.dumps({"after": after_seq}, separators=(",", ":")).encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


#: The largest row id or AUTOINCREMENT value SQLite stores (a signed 64-bit integer).
MAX_ROW_ID = 2**63 - 1


def decode_page_token(token: str) -> int:
    """The sequence number inside a page token; ValueError if it is not one of ours (not base64 JSON,
    nested too deep to parse, or no position SQLite could hold: negative or past MAX_ROW_ID)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw.decode("ascii"))
    except (binascii.Error, UnicodeError, ValueError, RecursionError) as exc:
        raise ValueError("invalid page token") from exc
    after = data.get("after") if isinstance(data, dict) else None
    if type(after) is not int or not 0 <= after <= MAX_ROW_ID:
        raise ValueError("invalid page token")
    return after


class NotASandboxDatabase(OperationalError):
    """The data file exists but is not a sandbox database: not SQLite at all, damaged, or someone else's."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"sandbox data file {path} is not a sandbox database: move it away (or set "
                         f"SQLPROVIDER_DATA_DIR / --data)")
        self.path = path


class Store:
    """The webhooks of one data file. Thread-safe: one connection guarded by a lock.

    Raises NotASandboxDatabase when `path` holds something else (not SQLite, or SQLite tables of
    another application); an empty or missing file becomes a new sandbox database.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.exists():  # it holds write-only values (secrets): owner only, like the shell's history
            paths.create_private(self.path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                   timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        """Check the file is ours (or new), then set it up: WAL, the schema, the workspace id."""
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.OperationalError:  # locked, unreadable: not a question of what the file holds
            raise
        except sqlite3.DatabaseError:  # not SQLite at all, or damaged
            raise NotASandboxDatabase(self.path) from None
        if tables - {"sqlite_sequence"} and "webhooks" not in tables:  # another application's database
            raise NotASandboxDatabase(self.path)
        self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        with self._transaction():
            for statement in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('workspace_id', ?)",
                             (str(1_000_000_000_000_000 + secrets.randbelow(9_000_000_000_000_000)),))
        self.workspace_id: str = self._db.execute(
            "SELECT value FROM meta WHERE key = 'workspace_id'").fetchone()[0]

    def close(self) -> None:
        """Close the connection; the file stays for the next start."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and one write transaction (taken at BEGIN, so it never needs an upgrade)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def create(self, *, events: Sequence[str], model_name: str | None, description: str | None,
               status: str, http_url_spec: dict[str, Any] | None,
               job_spec: dict[str, Any] | None) -> StoredWebhook:
        """Insert a webhook with a fresh 32-hex id; return it as stored."""
        stamp = now_ms()
        while True:
            webhook_id = secrets.token_hex(16)
            try:
                with self._transaction() as db:
                    cursor = db.execute(
                        "INSERT INTO webhooks (id, model_name, events, description, status, http_url_spec, "
                        "job_spec, creation_timestamp, last_updated_timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (webhook_id, model_name, json.dumps(list(events)), description, status,
                         _dump(http_url_spec), _dump(job_spec), stamp, stamp))
                    seq = cursor.lastrowid
            except sqlite3.IntegrityError:  # a 128-bit id collision: draw again
                continue
            return StoredWebhook(seq, webhook_id, model_name, tuple(events), description, status,
                                 http_url_spec, job_spec, stamp, stamp)

    def get(self, webhook_id: str) -> StoredWebhook | None:
        """The webhook with this id, or None."""
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
        return _row(row) if row else None

    def update(self, webhook_id: str, changes: dict[str, Any]) -> StoredWebhook | None:
        """Replace the given fields whole and bump last_updated_timestamp; None if the id is unknown.

        The new timestamp is at least one millisecond after the previous one, so every update is
        visible as a change even when two land within the same millisecond.
        """
        with self._transaction() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM webhooks WHERE id = ?", (webhook_id,)).fetchone()
            if row is None:
                return None
            hook = replace(_row(row), **changes)
            hook = replace(hook, last_updated_timestamp=max(now_ms(), hook.last_updated_timestamp + 1))
            db.execute("UPDATE webhooks SET events = ?, description = ?, status = ?, http_url_spec = ?, "
                       "job_spec = ?, last_updated_timestamp = ? WHERE seq = ?",
                       (json.dumps(list(hook.events)), hook.description, hook.status,
                        _dump(hook.http_url_spec), _dump(hook.job_spec), hook.last_updated_timestamp, hook.seq))
        return hook

    def delete(self, webhook_id: str) -> bool:
        """Delete the webhook; False if the id is unknown."""
        with self._transaction() as db:
            return db.execute("DELETE FROM webhooks WHERE id = ?", (webhook_id,)).rowcount > 0

    def list(self, *, events: Sequence[str] = (), model_name: str | None = None, after: int = 0,
             limit: int = 100) -> tuple[list[StoredWebhook], int | None]:
        """One page in creation order: webhooks after sequence `after` having ANY of `events`.

        Returns the page and, when more rows follow, the sequence to continue after.
        """
        sql = f"SELECT {_COLUMNS} FROM webhooks WHERE seq > ?"
        params: list[Any] = [after]
        if model_name is not None:
            sql += " AND model_name = ?"
            params.append(model_name)
        if events:
            sql += (" AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE json_each.value IN "
                    f"({', '.join('?' * len(events))}))")
            params.extend(events)
        rows, more = self._page(sql, params, "seq", limit)
        page = [_row(r) for r in rows]
        return page, (page[-1].seq if more else None)

    def active_listeners(self, event: str, model_name: str) -> list[StoredWebhook]:
        """The ACTIVE webhooks, in creation order, that listen for `event` on `model_name`: the model's
        own webhooks and the registry-wide ones (no model_name)."""
        sql = (f"SELECT {_COLUMNS} FROM webhooks WHERE status = 'ACTIVE' "
               "AND (model_name IS NULL OR model_name = ?) "
               "AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE json_each.value = ?) ORDER BY seq")
        with self._lock:
            rows = self._db.execute(sql, (model_name, event)).fetchall()
        return [_row(r) for r in rows]

    def log_delivery(self, entry: dict[str, Any]) -> int:
        """Append one delivery to the log (keys: the columns but `id`); return its id."""
        names = _DELIVERY_COLUMNS[1:]
        with self._transaction() as db:
            cursor = db.execute(f"INSERT INTO deliveries ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                                tuple(entry.get(name) for name in names))
            return int(cursor.lastrowid or 0)

    def list_deliveries(self, *, webhook_id: str | None = None, after: int = 0,
                        limit: int = 100) -> tuple[list[dict[str, Any]], int | None]:
        """One page of the delivery log, oldest first, as dicts of every column (None for NULL).

        Returns the page and, when more rows follow, the id to continue after.
        """
        sql = f"SELECT {', '.join(_DELIVERY_COLUMNS)} FROM deliveries WHERE id > ?"
        params: list[Any] = [after]
        if webhook_id is not None:
            sql += " AND webhook_id = ?"
            params.append(webhook_id)
        rows, more = self._page(sql, params, "id", limit)
        page = [dict(zip(_DELIVERY_COLUMNS, row)) for row in rows]
        return page, (page[-1]["id"] if more else None)

    def _page(self, sql: str, params: list[Any], key: str, limit: int) -> tuple[list[tuple], bool]:
        """The first `limit` rows of `sql` ordered by `key`, and whether more follow."""
        with self._lock:
            rows = self._db.execute(f"{sql} ORDER BY {key} LIMIT ?", [*params, limit + 1]).fetchall()
        return rows[:limit], len(rows) > limit


def _dump(spec: dict[str, Any] | None) -> str | None:
    return None if spec is None else json.dumps(spec, separators=(",", ":"))


def _row(row: tuple) -> StoredWebhook:
    seq, webhook_id, model_name, events, description, status, http_spec, job_spec, created, updated = row
    job = json.loads(job_spec) if job_spec else None
    if job is not None and isinstance(job.get("job_id"), int):  # written before job ids were stored as strings
        job["job_id"] = str(job["job_id"])
    return StoredWebhook(seq, webhook_id, model_name, tuple(json.loads(events)), description, status,
                         json.loads(http_spec) if http_spec else None, job, created, updated)

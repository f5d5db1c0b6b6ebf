"""PEP 249 (DB-API 2.0) on top of the engine connection: module globals, types, Connection, Cursor.

`sqlprovider.connect()` returns the Connection defined here. Writes follow the engine's rules
(README "Transactions"): each statement is sent when it runs unless a transaction is open, in
which case `commit()` sends the queued writes and `rollback()` drops them.
"""

from __future__ import annotations

import datetime
import itertools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import apsw
import apsw.ext

from sqlprovider import apilevel, errors, paramstyle, threadsafety  # noqa: F401 - PEP 249 globals

from sqlprovider.engine import statements
from sqlprovider.engine.connection import Connection as EngineConnection
from sqlprovider.engine.connection import _SHORT_NAMES, _translate
from sqlprovider.errors import InterfaceError, NotSupportedError, ProgrammingError

sqlite_version = apsw.sqlite_lib_version()
sqlite_version_info = tuple(int(part) for part in sqlite_version.split("."))

Row = tuple[Any, ...]
Params = Sequence[Any] | Mapping[str, Any] | None
WRITES = ("insert", "update", "delete")
DEPLOYMENT_OPTIONS = ("deployment", "workspace", "profile")  # connect() names of the default workspace


# --- types (PEP 249 "Type Objects and Constructors") ---------------------------------------------------
class DBAPIType:
    """A type object: compares equal to every `description` type_code of its group."""

    def __init__(self, name: str, *codes: str) -> None:
        self.name = name
        self.codes = frozenset(codes)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPIType):
            return other is self
        return isinstance(other, str) and other.upper() in self.codes

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"<DBAPIType {self.name}>"


STRING = DBAPIType("STRING", "TEXT")
NUMBER = DBAPIType("NUMBER", "INTEGER", "REAL", "NUMERIC")
BINARY = DBAPIType("BINARY", "BLOB")
DATETIME = DBAPIType("DATETIME", "DATE", "TIME", "DATETIME", "TIMESTAMP")
ROWID = DBAPIType("ROWID", "ROWID")

Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> datetime.date:  # noqa: N802 - PEP 249 name
    """The local date of a Unix time."""
    return Date(*time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> datetime.time:  # noqa: N802 - PEP 249 name
    """The local time of day of a Unix time."""
    return Time(*time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> datetime.datetime:  # noqa: N802 - PEP 249 name
    """The local date and time of a Unix time."""
    return Timestamp(*time.localtime(ticks)[:6])


# --- connection -----------------------------------------------------------------------------------------
class Connection(EngineConnection):
    """A PEP 249 connection: cursors, commit/rollback of an open transaction, close.

    The exception classes are attributes too (PEP 249's optional extension), so code holding
    only a connection can write `except conn.ProgrammingError`.
    """

    Warning = errors.Warning
    Error = errors.Error
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    def __init__(self, **options: Any) -> None:
        super().__init__(**default_deployment(options))
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        self.check_open()
        return Cursor(self)

    def execute(self, sql: str, params: Params = None) -> Cursor:
        """Shortcut (as in sqlite3): a new cursor's `execute(sql, params)`."""
        return self.cursor().execute(sql, params)

    def executescript(self, script: str) -> Cursor:
        """Shortcut (as in sqlite3): a new cursor's `executescript(script)`."""
        return self.cursor().executescript(script)

    def commit(self) -> None:
        """Send the writes queued since BEGIN (COMMIT); without an open transaction there is nothing to do."""
        self._end("COMMIT")

    def rollback(self) -> None:
        """Drop the writes queued since BEGIN (ROLLBACK); writes already sent cannot be undone."""
        self._end("ROLLBACK")

    def _end(self, verb: str) -> None:
        self.check_open()
        if self.db.in_transaction:
            self.run(verb)

    def close(self) -> None:
        """Close the connection; queued writes of an open transaction are dropped. Closing twice is allowed."""
        if not self._closed:
            self._closed = True
            super().close()

    def check_open(self) -> None:
        if self._closed:
            raise InterfaceError("the connection is closed: open a new one with sqlprovider.connect()")


def default_deployment(options: Mapping[str, Any]) -> dict[str, Any]:
    """connect() options with `workspace=` or `profile=` (other names of the default workspace) as `deployment=`.

    A profile is a deployment name (deployments.py looks for a profile of that name first).
    """
    names = [n for n in DEPLOYMENT_OPTIONS if options.get(n) not in (None, "")]
    values = {options[n] for n in names}
    if len(values) > 1:
        given = " and ".join(f"{n}={options[n]!r}" for n in names)
        raise ProgrammingError(f"connect(): {given} disagree: they all name the default workspace; give one")
    rest = {k: v for k, v in options.items() if k not in DEPLOYMENT_OPTIONS}
    return {**rest, "deployment": values.pop()} if values else rest


# --- cursor ---------------------------------------------------------------------------------------------
class Cursor:
    """A PEP 249 cursor over one statement's rows; rows are fetched from the API as they are read."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self.description: tuple[tuple[Any, ...], ...] | None = None
        self.rowcount = -1
        self.lastrowid = None
        self._rows: Iterator[Row] | None = None
        self._text = ""  # the statement whose rows these are: its errors quote none of its literals
        self._closed = False

    # --- running ------------------------------------------------------------------------------------
    def execute(self, operation: str, parameters: Params = None) -> Cursor:
        """Run exactly one statement, as Python's sqlite3 does (several are refused before any runs, so a
        value pasted into the text cannot add a statement); `executescript()` runs several."""
        self._check()
        parts = statements.split_statements(operation)
        if not parts:
            raise ProgrammingError("nothing to run: the SQL text has no statement")
        if len(parts) > 1:
            raise ProgrammingError(f"execute() runs one statement; got {len(parts)}: use executescript() for a "
                                   f"script of several")
        return self._execute_one(parts[0].text, parameters)

    def executescript(self, script: str) -> Cursor:
        """Run every statement of a script in order (no parameters); the cursor keeps the last one's rows."""
        self._check()
        parts = statements.split_statements(script)
        if not parts:
            raise ProgrammingError("nothing to run: the SQL text has no statement")
        for part in parts[:-1]:
            for _ in self.connection.run(part.text).rows:
                pass
        return self._execute_one(parts[-1].text, None)

    def _execute_one(self, text: str, parameters: Params) -> Cursor:
        params = _adapt(parameters)
        kind = statements.statement_kind(text)
        if params and kind == "exec":
            raise NotSupportedError("EXEC takes literal values, not parameters: write @id='...'")
        self._text = text
        result = self.connection.run(text, params)
        columns = [(name, None) for name in result.columns]
        if kind == "select" or (kind == "other" and columns):
            columns = self._sqlite_columns(text, params)
        self._set(columns, result.rows, result.rowcount)
        return self

    def executemany(self, operation: str, seq_of_parameters: Iterable[Params]) -> Cursor:
        """Run one INSERT, UPDATE or DELETE once per parameter set; rowcount is the total.

        An INSERT outside a transaction runs inside BEGIN ... COMMIT, so its creates are sent
        together (concurrently) at COMMIT; if any row fails validation, nothing is sent.
        """
        self._check()
        parts = statements.split_statements(operation)
        if len(parts) != 1:
            raise ProgrammingError(f"executemany() takes one statement; got {len(parts)}")
        text = self._text = parts[0].text
        kind = statements.statement_kind(text)
        if kind not in WRITES:
            raise ProgrammingError(f"executemany() runs INSERT, UPDATE or DELETE, not {kind.upper()}: "
                                   f"use execute() for it")
        returning = statements.split_returning(text)[1] is not None
        param_sets = [_adapt(p) for p in seq_of_parameters]
        batch = kind == "insert" and not returning and not self.connection.db.in_transaction and bool(param_sets)
        if batch:
            self.connection.run("BEGIN")
        try:
            results = [self.connection.run(text, params) for params in param_sets]
            if batch:
                self.connection.commit()
        except BaseException:
            if batch:
                self.connection.rollback()
            raise
        columns = [(name, None) for name in results[0].columns] if results else []
        rows = itertools.chain.from_iterable(list(r.rows) for r in results)
        self._set(columns, rows, sum(max(r.rowcount, 0) for r in results))
        return self

    def _sqlite_columns(self, text: str, params: Params) -> list[tuple[str, str | None]]:
        """SQLite's result columns and declared types for a statement it runs itself.

        Preparing it again (nothing runs) also describes a SELECT that answered no rows.
        """
        try:
            text = statements.rewrite_names(text, _SHORT_NAMES)
            return list(apsw.ext.query_info(self.connection.db, text, params).description or ())
        except apsw.Error as exc:
            raise _translate(exc, sql=text) from None

    def _set(self, columns: list[tuple[str, str | None]], rows: Iterator[Row], rowcount: int) -> None:
        """Keep a result; a column without a declared type is typed from its first value."""
        self.rowcount = rowcount
        self._rows = rows
        if not columns:
            self.description = None
            return
        if any(code is None for _, code in columns):
            first = self._next()
            self._rows = iter(()) if first is None else itertools.chain([first], rows)
            columns = [(name, code or _value_type(value))
                       for (name, code), value in zip(columns, first or [None] * len(columns))]
        self.description = tuple((name, code, None, None, None, None, None) for name, code in columns)

    # --- fetching -----------------------------------------------------------------------------------
    def fetchone(self) -> Row | None:
        """The next row, or None when there are no more."""
        self._check(fetching=True)
        return self._next()

    def fetchmany(self, size: int | None = None) -> list[Row]:
        """Up to `size` (default: arraysize) next rows."""
        self._check(fetching=True)
        size = self.arraysize if size is None else size
        return list(itertools.islice(iter(self._next, None), max(size, 0)))

    def fetchall(self) -> list[Row]:
        """Every remaining row."""
        self._check(fetching=True)
        return list(iter(self._next, None))

    def __iter__(self) -> Iterator[Row]:
        return self

    def __next__(self) -> Row:
        """`for row in cursor`: fetchone() without its per-row checks once the cursor is known good."""
        if self._rows is None or self._closed or self.connection._closed:
            self._check(fetching=True)
        try:
            return next(self._rows)
        except apsw.Error as exc:
            raise _translate(exc, sql=self._text) from None

    def _next(self) -> Row | None:
        try:
            return next(self._rows, None) if self._rows is not None else None
        except apsw.Error as exc:
            raise _translate(exc, sql=self._text) from None

    # --- the rest of PEP 249 ------------------------------------------------------------------------
    def close(self) -> None:
        """Drop the remaining rows; any later use raises InterfaceError."""
        self._rows = None
        self._closed = True

    def setinputsizes(self, sizes: Any) -> None:
        """Accepted and ignored (PEP 249 allows it)."""

    def setoutputsize(self, size: Any, column: int | None = None) -> None:
        """Accepted and ignored (PEP 249 allows it)."""

    def _check(self, fetching: bool = False) -> None:
        if self._closed:
            raise InterfaceError("the cursor is closed: open a new one with connection.cursor()")
        self.connection.check_open()
        if fetching and self._rows is None:
            raise ProgrammingError("nothing to fetch: call execute() first")


def _adapt(params: Params) -> Params:
    """Bind dates and times (PEP 249's constructors) as ISO 8601 text, like sqlite3 used to."""
    if params is None:
        return None
    if isinstance(params, Mapping):
        return {name: _adapt_value(value) for name, value in params.items()}
    return tuple(_adapt_value(value) for value in params)


def _adapt_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        return value.isoformat(" ")
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    return value


def _value_type(value: Any) -> str | None:
    """A type code inferred from a value (None for NULL: unknown)."""
    if isinstance(value, bool | int):
        return "INTEGER"
    if isinstance(value, float):
        return "REAL"
    if isinstance(value, str):
        return "TEXT"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "BLOB"
    return None

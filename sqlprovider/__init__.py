"""sqlprovider: manage Databricks Model Registry webhooks with SQL.

`sqlprovider.connect()` is the public face, and this module is a PEP 249 (DB-API 2.0) module:
`apilevel`, `threadsafety`, `paramstyle`, the exception classes, the type objects and constructors.
Heavy modules (apsw, sqlglot, requests) load on first use, so `import sqlprovider.sandbox` or the
CLI's start-up stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlprovider.errors import (
    ApiError, ConfigurationError, DatabaseError, DataError, Error, IntegrityError, InterfaceError, InternalError,
    NotSupportedError, OperationalError, PartialWriteError, ProgrammingError, ValidationError, Warning,
)

if TYPE_CHECKING:
    from sqlprovider.adapters.dbapi import Connection, Cursor

__version__ = "0.1.0"
apilevel = "2.0"
threadsafety = 1  # threads may share the module, not connections
paramstyle = "qmark"  # named `:name` parameters with a mapping work too

#: Loaded from sqlprovider.adapters.dbapi on first use (it imports the engine).
_FROM_DBAPI = (
    "Connection", "Cursor", "STRING", "NUMBER", "BINARY", "DATETIME", "ROWID", "Date", "Time", "Timestamp",
    "Binary", "DateFromTicks", "TimeFromTicks", "TimestampFromTicks", "sqlite_version", "sqlite_version_info",
)

__all__ = [
    "connect", "apilevel", "threadsafety", "paramstyle", "Error", "Warning", "InterfaceError", "DatabaseError",
    "DataError", "OperationalError", "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError",
    "ApiError", "ValidationError", "PartialWriteError", "ConfigurationError", *_FROM_DBAPI,
]


def connect(**options: Any) -> Connection:
    """Open a connection: `sqlprovider.connect().execute("SELECT * FROM model_registry_webhooks WHERE
    deployment_name = 'sandbox'")`. Options: deployment (a default workspace; also `workspace`, `profile`),
    max_workers (concurrent requests), retry (a RetryPolicy), dry_run (send no mutating request),
    max_affected (refuse a write of more rows)."""
    from sqlprovider.adapters.dbapi import Connection

    return Connection(**options)


def __getattr__(name: str) -> Any:
    if name in _FROM_DBAPI:
        from sqlprovider.adapters import dbapi

        return getattr(dbapi, name)
    raise AttributeError(f"module 'sqlprovider' has no attribute {name!r}")

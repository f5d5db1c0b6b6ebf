"""sqlprovider: manage Databricks Model Registry webhooks with SQL.

`sqlprovider.connect()` is the public face. Heavy modules (apsw, sqlglot, requests) load on
first use, so `import sqlprovider.sandbox` or the CLI's start-up stay cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlprovider.errors import (
    ApiError, ConfigurationError, DatabaseError, DataError, Error, IntegrityError, InterfaceError, InternalError,
    NotSupportedError, OperationalError, PartialWriteError, ProgrammingError, ValidationError, Warning,
)

if TYPE_CHECKING:
    from sqlprovider.connection import Connection, Cursor

__version__ = "0.1.0"
__all__ = [
    "connect", "Connection", "Cursor", "Error", "Warning", "InterfaceError", "DatabaseError", "DataError",
    "OperationalError", "IntegrityError", "InternalError", "ProgrammingError", "NotSupportedError", "ApiError",
    "ValidationError", "PartialWriteError", "ConfigurationError",
]


def connect(**options: Any) -> Connection:
    """Open a connection: `sqlprovider.connect().execute("SELECT * FROM model_registry_webhooks WHERE
    deployment_name = 'sandbox'")`. Options: max_workers (concurrent requests), retry (a RetryPolicy)."""
    from sqlprovider.connection import Connection

    return Connection(**options)


def __getattr__(name: str) -> Any:
    if name in ("Connection", "Cursor"):
        from sqlprovider import connection

        return getattr(connection, name)
    raise AttributeError(f"module 'sqlprovider' has no attribute {name!r}")

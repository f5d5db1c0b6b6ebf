"""The SQLAlchemy dialect `sqlprovider://`: SQLite's dialect over the sqlprovider DB-API module.

Registered through the `sqlalchemy.dialects` entry point (install the `sqlalchemy` extra), so
`create_engine("sqlprovider://?max_workers=4")` (or `sqlprovider://sandbox`, a default workspace) works and BI tools built on SQLAlchemy (Superset,
pandas) can browse and query the resources. Reflection answers from the resource definitions:
the resources are eponymous virtual tables, which SQLite's catalogue does not list.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from sqlalchemy import types
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine.url import URL
from sqlalchemy.exc import ArgumentError, NoSuchTableError

from sqlprovider.adapters.dbapi import DEPLOYMENT_OPTIONS
from sqlprovider.resources import RESOURCES, lookup
from sqlprovider.resources.base import Resource

SCHEMA = "main"
_SQL_TYPES = {"TEXT": types.TEXT, "INTEGER": types.INTEGER}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


class SQLProviderDialect(SQLiteDialect):
    """SQLite's SQL and types; sqlprovider's connections; resources as the tables."""

    name = "sqlprovider"
    driver = "sqlprovider"
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> ModuleType:
        """Called once by create_engine: the PEP 249 module."""
        import sqlprovider

        return sqlprovider

    def create_connect_args(self, url: URL) -> tuple[list[Any], dict[str, Any]]:
        """`sqlprovider://prod?max_workers=4` -> connect(deployment="prod", max_workers=4).

        The host part, like the `deployment` (`workspace`, `profile`) option, is the default workspace:
        queries that name none use it.
        """
        if url.database or url.username or url.password or url.port:
            raise ArgumentError("a sqlprovider:// URL takes a workspace name and options only: write "
                                "sqlprovider://<workspace>?max_workers=4 (e.g. sqlprovider://sandbox)")
        options = connect_options(dict(url.query))
        if url.host:
            clash = [f"{n}={v!r}" for n, v in options.items() if n in DEPLOYMENT_OPTIONS and v != url.host]
            if clash:
                raise ArgumentError(f"the URL names workspace {url.host!r} and {clash[0]}: give one")
            options["deployment"] = url.host
        return [], options

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        return self.dbapi.sqlite_version_info

    # --- reflection: answered from the resource definitions ----------------------------------------
    def get_schema_names(self, connection: Any, **kw: Any) -> list[str]:
        return [SCHEMA]

    def get_table_names(self, connection: Any, schema: str | None = None, **kw: Any) -> list[str]:
        return sorted(r.name for r in RESOURCES) if schema in (None, SCHEMA) else []

    def has_table(self, connection: Any, table_name: str, schema: str | None = None, **kw: Any) -> bool:
        return schema in (None, SCHEMA) and lookup(table_name) is not None

    def get_columns(self, connection: Any, table_name: str, schema: str | None = None,
                    **kw: Any) -> list[dict[str, Any]]:
        """The visible columns, then the deployment parameter (selectable, and the filter every query needs)."""
        resource = _resource(table_name, schema)
        columns = [_column(c.name, c.sql_type, c.description + (" (JSON text)" if c.is_json else ""))
                   for c in resource.columns]
        param = next(p for p in resource.params if p.name == resource.deployment_param)
        columns.append(_column(param.name, param.sql_type, f"hidden; required in WHERE: {param.description}"))
        return columns

    def _none(self, *args: Any, **kw: Any) -> list[Any]:
        """Views, temporary tables, indexes and constraints: the resources have none."""
        return []

    get_view_names = get_temp_table_names = get_temp_view_names = _none
    get_foreign_keys = get_indexes = get_unique_constraints = get_check_constraints = _none

    def get_pk_constraint(self, connection: Any, table_name: str, schema: str | None = None,
                          **kw: Any) -> dict[str, Any]:
        _resource(table_name, schema)
        return {"constrained_columns": [], "name": None}


def connect_options(query: dict[str, Any]) -> dict[str, Any]:
    """URL query options as connect() keyword arguments, converted and checked."""
    options: dict[str, Any] = {}
    for name, value in query.items():
        if isinstance(value, tuple):
            raise ArgumentError(f"URL option {name!r} is given more than once: keep one")
        if name == "max_workers":
            if not value.isdigit() or int(value) < 1:
                raise ArgumentError(f"URL option max_workers={value!r}: give a whole number of at least 1")
            options[name] = int(value)
        elif name == "dry_run":
            if value.lower() not in _TRUE + _FALSE:
                raise ArgumentError(f"URL option dry_run={value!r}: give true or false")
            options[name] = value.lower() in _TRUE
        elif name in DEPLOYMENT_OPTIONS:
            options[name] = value  # connect() checks the name and that the spellings agree
        else:
            raise ArgumentError(f"unknown URL option {name!r}; sqlprovider:// takes max_workers, dry_run and "
                                f"deployment (or workspace, profile)")
    return options


def _resource(table_name: str, schema: str | None) -> Resource:
    resource = lookup(table_name) if schema in (None, SCHEMA) else None
    if resource is None:
        raise NoSuchTableError(table_name)
    return resource


def _column(name: str, sql_type: str, comment: str) -> dict[str, Any]:
    return {"name": name, "type": _SQL_TYPES[sql_type](), "nullable": True, "default": None, "comment": comment}

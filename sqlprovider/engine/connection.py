"""The statement front end: a connection whose `run` understands StackQL on top of SQLite.

Each statement goes: split -> EXEC? (run the lifecycle method directly) -> StackQL names
rewritten -> RETURNING peeled off -> SQLite (the virtual tables queue writes and send them on
commit) -> RETURNING rows projected from what the API answered. dbapi.py puts PEP 249
(cursors, commit, rollback) on top.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import apsw
import apsw.ext

from sqlprovider.workspace import deployments

from sqlprovider.engine import statements
from sqlprovider.workspace.client import RequestOptions, RetryPolicy, Workspace
from sqlprovider.errors import (
    Error, IntegrityError, InterfaceError, NotSupportedError, OperationalError, ProgrammingError, StatementError,
    ValidationError,
)
from sqlprovider.redact import mask_literals, sql_error_text
from sqlprovider.resources import BY_NAME, RESOURCES, lookup
from sqlprovider.resources.base import Resource, _to_sql
from sqlprovider.engine.vtable import Engine, Module, not_a_sandbox
from sqlprovider.engine.writes import WriteResult

_SHORT_NAMES = {r.qualified_name.lower(): r.name for r in RESOURCES}
#: Every name of a resource, short or StackQL, as the live table in `main`: SQLite looks eponymous virtual
#: tables up only after every attached schema, so a bare name would otherwise reach a plain table of that name
#: in an ATTACHed file (a snapshot) and read or write the file. `snap.<name>` is left alone: it means the file.
_LIVE_NAMES = {**{name: f"main.{short}" for name, short in _SHORT_NAMES.items()},
               **{r.name: f"main.{r.name}" for r in RESOURCES}}
#: A three-part name under one of our providers' prefixes (`databricks_workspace.ml.x`), to explain a typo.
_QUALIFIED = re.compile(r"\b(?:" + "|".join(sorted({re.escape(r.qualified_name.split(".")[0]) for r in RESOURCES}))
                        + r")\.\w+\.\w+\b", re.IGNORECASE)
Params = Sequence[Any] | Mapping[str, Any] | None
#: The authorizer's codes for statements that make a table or view.
_CREATES = frozenset({apsw.SQLITE_CREATE_TABLE, apsw.SQLITE_CREATE_TEMP_TABLE, apsw.SQLITE_CREATE_VIEW,
                      apsw.SQLITE_CREATE_TEMP_VIEW, apsw.SQLITE_CREATE_VTABLE})


@dataclass
class Result:
    """One statement's outcome: column names, a (lazy) row iterator and the affected row count."""

    columns: tuple[str, ...]
    rows: Iterator[tuple[Any, ...]]
    rowcount: int = -1


class Connection:
    """A SQLite connection with the resources registered as eponymous virtual tables."""

    def __init__(self, *, max_workers: int = 8, retry: RetryPolicy | None = None, dry_run: bool = False,
                 max_affected: int | None = None, deployment: str | None = None) -> None:
        if deployment is not None:
            deployments.check_name(deployment)  # a bad default is refused now, not at the first statement
        self.db = apsw.Connection(":memory:")
        self.retry = retry
        #: dry_run (no mutating request is sent) and observers (see every request) for all workspaces.
        self.requests = RequestOptions(dry_run=dry_run)
        self._workspaces: dict[str, Workspace] = {}
        self._lock = threading.Lock()
        self.engine = Engine(workspace=self.workspace, max_workers=max_workers, max_affected=max_affected,
                             default_deployment=deployment or None)
        for resource in RESOURCES:
            for name in (resource.name, resource.qualified_name):
                self.db.create_module(name, Module(resource, self.engine), use_bestindex_object=True,
                                      use_no_change=True, eponymous=True)
        self._refused_name: str | None = None
        self.db.authorizer = self._authorize

    def _authorize(self, op: int, name: str | None, _p2: str | None, schema: str | None, _trigger: str | None) -> int:
        """SQLite calls this while preparing each statement: a table or view of a resource's name in `main` or
        `temp` would shadow the live resource (every later query would reach it), so creating one is denied."""
        if op in _CREATES and schema in ("main", "temp") and (name or "").lower() in BY_NAME:
            self._refused_name = name
            return apsw.SQLITE_DENY
        return apsw.SQLITE_OK

    # --- public -------------------------------------------------------------------------------
    def close(self) -> None:
        for workspace in self._workspaces.values():
            workspace.close()
        self._workspaces.clear()
        self.db.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def workspace(self, name: str) -> Workspace:
        """The Workspace for a deployment name, resolved once per connection (thread-safe)."""
        with self._lock:
            if name not in self._workspaces:
                self._workspaces[name] = deployments.resolve(name, retry=self.retry, options=self.requests)
            return self._workspaces[name]

    # --- one statement ------------------------------------------------------------------------
    def run(self, text: str, params: Params = None) -> Result:
        """Run one statement (no trailing ';') and return its Result."""
        kind = statements.statement_kind(text)
        if kind == "exec":
            return self._exec(statements.parse_exec(text))
        if kind in ("describe", "show"):
            from sqlprovider.engine import describe

            columns, rows = describe.run(text)
            return Result(columns, iter(rows), -1)
        text = statements.rewrite_names(text, _LIVE_NAMES)
        returning = returning_query = None
        writes = kind in statements.WRITES
        target = BY_NAME.get(statements.write_target(text) or "") if writes else None
        if target is not None:  # RETURNING on our tables is emulated; on SQLite's own it stays in the text
            text, returning = statements.split_returning(text)
            if returning is not None:
                if self.db.in_transaction:
                    raise NotSupportedError("RETURNING is not available inside BEGIN ... COMMIT: writes are sent "
                                            "at COMMIT; run the statement outside the transaction")
                returning_query = self._returning_query(target, returning)  # a mistake fails now, before any write
        self.engine.kind = kind
        self.engine.keyed = target is not None and self._keyed(text, kind, target, returning)
        self.engine.results = []
        self.engine.rows.clear()  # rows remembered for UPDATE/DELETE live for one statement
        try:
            cursor = _execute(self.db, text, params)
            if not writes:
                return _lazy_result(cursor)
            result = _lazy_result(cursor)  # rows only from SQLite's own RETURNING (a write to a table of its own)
            rows = list(result.rows)
        except apsw.SQLError as exc:
            unknown = _QUALIFIED.search(text)  # left by rewrite_names: not one of ours
            if unknown and 'near ".": syntax error' in str(exc):
                raise ProgrammingError(f"unknown resource {unknown.group()}; known resources are "
                                       + ", ".join(r.qualified_name for r in RESOURCES)) from None
            raise _translate(exc, sql=text) from None
        except apsw.AuthError:
            name, self._refused_name = self._refused_name, None
            raise ProgrammingError(f"{name} is a resource's name (the live table): give your table or view "
                                   f"another name") from None
        except apsw.Error as exc:
            raise _translate(exc, sql=text) from None
        finally:
            if writes:
                self.engine.kind = "other"
                self.engine.keyed = False
        changed = self.db.changes()
        if returning_query is None:
            return Result(result.columns, iter(rows), changed)
        return self._returning(target, *returning_query, self.engine.results, changed)

    def _keyed(self, text: str, kind: str, resource: Resource, returning: list[str] | None) -> bool:
        """True when an UPDATE/DELETE pins exactly deployment and key, so no listing is needed."""
        if kind not in ("update", "delete"):
            return False
        equalities = {resource.canonical(c) for c in statements.where_equalities(text) or ()}
        pinned = {resource.deployment_param, resource.key}
        if equalities != pinned and not (self.engine.default_deployment and equalities == {resource.key}):
            return False
        if kind == "delete":
            return returning is None  # DELETE ... RETURNING lists first so it can return the whole row
        return statements.sets_only_values(text)

    def _returning_query(self, resource: Resource, exprs: list[str]) -> tuple[str, tuple[str, ...]]:
        """The SELECT that answers RETURNING over the temp table of API answers, and its column names.

        Prepared (not run) before the write is sent: a mistake in the RETURNING list is an error while
        nothing has been written yet.
        """
        names = [resource.deployment_param, *resource.aliases]  # the deployment under each of its names
        columns = [c.name for c in resource.columns] + names + ["webhook"]
        table = f"returning_{resource.name}"
        self.db.execute(f'CREATE TEMP TABLE IF NOT EXISTS "{table}"(_statement_order INTEGER, '
                        + ", ".join(f'"{c}"' for c in columns) + ")")
        projection = ", ".join(", ".join(c.name for c in resource.columns) if e == "*" else e for e in exprs)
        query = f'SELECT {projection} FROM temp."{table}" AS "{resource.name}" ORDER BY _statement_order'
        try:
            described = apsw.ext.query_info(self.db, query).description or ()
        except apsw.Error as exc:
            raise _translate(exc, "RETURNING: ", sql=query) from None
        return query, tuple(name for name, _ in described)

    def _returning(self, resource: Resource, query: str, columns: tuple[str, ...], results: list[WriteResult],
                   changed: int) -> Result:
        """RETURNING's rows: the API's answers put in the temp table, then `query` (from _returning_query) run."""
        names = [resource.deployment_param, *resource.aliases]
        table = f"returning_{resource.name}"
        self.db.execute(f'DELETE FROM temp."{table}"')
        rows = []
        for seq, result in enumerate(results):
            item = result.item or {}
            values = [_to_sql(item.get(c.name), c) for c in resource.columns]
            rows.append((seq, *values, *[result.op.deployment] * len(names), json.dumps(item, separators=(",", ":"))))
        if rows:
            marks = ", ".join("?" * len(rows[0]))
            self.db.executemany(f'INSERT INTO temp."{table}" VALUES ({marks})', rows)
        try:
            materialised = list(self.db.execute(query))
        except apsw.Error as exc:
            raise _translate(exc, "RETURNING: ", sql=query) from None
        return Result(columns, iter(materialised), changed)

    # --- EXEC -----------------------------------------------------------------------------------
    def _exec(self, stmt: statements.ExecStatement) -> Result:
        if self.db.in_transaction:  # its request would go out now, and ROLLBACK could not take it back
            raise NotSupportedError("EXEC is not available inside BEGIN ... COMMIT: it is sent at once and "
                                    "cannot be rolled back; run it after COMMIT or ROLLBACK")
        resource = lookup(stmt.resource)
        if resource is None:
            known = ", ".join(r.qualified_name for r in RESOURCES)
            raise ProgrammingError(f"EXEC: unknown resource {stmt.resource!r}; known resources: {known}")
        method = resource.exec_method(stmt.method)
        if method is None:
            names = ", ".join(m.name for m in resource.exec_methods)
            raise ProgrammingError(f"EXEC: {resource.name} has no method {stmt.method!r}; its methods are {names}")
        params = {name: self._scalar(name, value) if isinstance(value, statements.Query) else value
                  for name, value in stmt.params.items()}
        given = resource.merge_aliases({**params, **(stmt.json_params or {})}, f"EXEC {resource.name}.{method.name}: ")
        valid = [resource.deployment_param] + [p.name for p in method.params]
        unknown = [name for name in given if name not in valid]
        if unknown:
            raise ProgrammingError(f"EXEC {resource.name}.{method.name}: unknown parameter @{unknown[0]}; "
                                   f"valid parameters are " + ", ".join("@" + v for v in valid))
        deployment = given.get(resource.deployment_param) or self.engine.default_deployment
        if deployment in (None, ""):
            raise StatementError(f"EXEC {resource.name}.{method.name} needs @{resource.deployment_param}: "
                                 f"add @{resource.deployment_param}='<workspace>'")
        query: dict[str, Any] = {}
        body: dict[str, Any] = {}
        for param in method.params:
            value = given.get(param.name)
            if value is None or (isinstance(value, str) and not value.strip()):
                if param.required:
                    raise StatementError(f"EXEC {resource.name}.{method.name} needs @{param.name}: "
                                         f"add @{param.name}='...'")
                continue
            if param.choices and value not in param.choices:
                raise ValidationError(f"@{param.name}: unknown value {value!r}; valid values are "
                                      + ", ".join(param.choices))
            (query if param.location == "query" else body)[param.name] = value
        workspace = self.workspace(str(deployment))
        with not_a_sandbox(resource, f"@{resource.deployment_param}='sandbox'"):
            answer = workspace.request(method.endpoint.http_method, resource.path(method.endpoint),
                                       query=query or None, body=body or None)
        if not method.result_columns:
            return Result((), iter(()), 1)
        if method.result_items_key:
            items = answer.get(method.result_items_key) or []
        else:
            obj = resource.unwrap(method.endpoint, answer)
            items = [obj if any(c in obj for c in method.result_columns) else answer]
        rows = [tuple(item.get(c) for c in method.result_columns) for item in items if isinstance(item, dict)]
        return Result(method.result_columns, iter(rows), len(rows))

    def _scalar(self, name: str, query: statements.Query) -> Any:
        """The one value of an EXEC parameter written `@name=(SELECT ...)`, computed by SQLite."""
        shown = f"@{name}=({' '.join(mask_literals(query.text).split())})"  # on one line, quoting no literal
        result = self.run(query.text)
        try:
            rows = list(itertools.islice(result.rows, 2))
        except apsw.Error as exc:
            raise _translate(exc, f"{shown}: ", sql=query.text) from None
        if rows and len(rows[0]) != 1:
            raise StatementError(f"{shown} selects {len(rows[0])} columns; select one")
        if len(rows) != 1:
            found = "no row" if not rows else "more than one row"
            raise StatementError(f"{shown} found {found}; it must find exactly one (narrow its WHERE or add LIMIT 1)")
        return rows[0][0]


def _execute(db: apsw.Connection, text: str, params: Params) -> apsw.Cursor:
    """db.execute, with apsw's Python errors about parameters turned into ProgrammingError (PEP 249)."""
    try:
        return db.cursor().execute(text, params)
    except KeyError as exc:  # apsw: a named parameter missing from the mapping
        name = exc.args[0] if exc.args else None
        if not isinstance(params, Mapping) or not isinstance(name, str) or name in params:
            raise
        raise ProgrammingError(f"no value for parameter :{name}: add {name!r} to the parameters") from None
    except OverflowError as exc:  # apsw: an int beyond SQLite's 64 bits
        raise ProgrammingError(f"a parameter is too large ({exc}): SQLite integers are 64-bit; pass it as "
                               f"text") from None
    except TypeError as exc:
        if not str(exc).startswith("Bad binding argument type"):
            raise
        raise ProgrammingError(f"{exc}: parameters are str, int, float, bytes or None "
                               f"(JSON columns take JSON text, e.g. json.dumps(value))") from None


def _lazy_result(cursor: apsw.Cursor) -> Result:
    try:
        columns = tuple(name for name, _ in cursor.getdescription())
    except apsw.ExecutionCompleteError:
        columns = ()
    return Result(columns, cursor, -1)  # apsw's rows are tuples already


def _translate(exc: apsw.Error, prefix: str = "", sql: str = "") -> Error:
    """SQLite's error as ours; given the statement's text, its message quotes none of its literals
    (`near "'S...'"` would show a secret: see redact.sql_error_text)."""
    message = str(exc)
    for name in ("SQLError: ", "ConstraintError: ", "Error: "):
        if message.startswith(name):
            message = message[len(name):]
    message = prefix + sql_error_text(message, sql, getattr(exc, "error_offset", -1)).replace("\n", " ")
    if isinstance(exc, (apsw.SQLError, apsw.BindingsError)):  # PEP 249: a wrong parameter count is a programming error
        return ProgrammingError(message)
    if isinstance(exc, apsw.ConstraintError):
        return IntegrityError(message)
    if isinstance(exc, apsw.MisuseError):
        return InterfaceError(message)
    return OperationalError(message)



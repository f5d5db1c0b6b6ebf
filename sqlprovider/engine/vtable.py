"""apsw glue: the virtual-table module, table and cursor. Nothing resource-specific lives here.

SQLite drives these objects; each method's docstring says when it is called. Planning is
delegated to planner.py, HTTP to client.py via the Engine, write sending to writes.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import apsw

from sqlprovider.engine import planner
from sqlprovider.workspace.client import Workspace
from sqlprovider.errors import ApiError, GuardRailError, NotSupportedError, StatementError, ValidationError
from sqlprovider.engine.fetch import PageStream
from sqlprovider.engine.planner import Listing, Offer, Scan, ScanPlan
from sqlprovider.resources.base import Resource, SqlValue, _to_sql
from sqlprovider.engine.writes import SQL_VERB, WriteOp, WriteResult, send_writes

_OPS = {
    apsw.SQLITE_INDEX_CONSTRAINT_EQ: "eq",
    apsw.SQLITE_INDEX_CONSTRAINT_LIMIT: "limit",
    apsw.SQLITE_INDEX_CONSTRAINT_OFFSET: "offset",
    apsw.SQLITE_INDEX_CONSTRAINT_LIKE: "like",
    apsw.SQLITE_INDEX_CONSTRAINT_GT: "gt",
    apsw.SQLITE_INDEX_CONSTRAINT_GE: "ge",
    apsw.SQLITE_INDEX_CONSTRAINT_LT: "lt",
    apsw.SQLITE_INDEX_CONSTRAINT_LE: "le",
    apsw.SQLITE_INDEX_CONSTRAINT_NE: "ne",
}


@dataclass
class Engine:
    """What the tables of one connection share with the statement front end."""

    workspace: Callable[[str], Workspace]
    max_workers: int = 8
    default_deployment: str | None = None  # used when a statement names no workspace (connect(deployment=...))
    kind: str = "other"  # the running statement's verb, set by the front end
    keyed: bool = False  # UPDATE/DELETE pinned to deployment and key by equality only
    results: list[WriteResult] = field(default_factory=list)  # answers of the last flushed writes
    rows: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # rowid -> (deployment, item)
    next_rowid: int = 1
    max_affected: int | None = None  # refuse, before sending, a statement that would write more rows
    confirm: Callable[[str, int], bool] | None = None  # asked before a bulk UPDATE/DELETE (the shell sets it)


class Module:
    """The eponymous module SQLite knows the resource by."""

    def __init__(self, resource: Resource, engine: Engine) -> None:
        self.resource = resource
        self.engine = engine

    def Connect(self, connection: apsw.Connection, modulename: str, databasename: str, tablename: str,
                *args: str) -> tuple[str, Table]:
        """Called when SQLite first uses the table on a connection: return its schema and the table."""
        return self.resource.schema(), Table(self.resource, self.engine)

    Create = Connect


@lru_cache(maxsize=256)
def _plan(idxstr: str) -> ScanPlan:
    return ScanPlan.from_idxstr(idxstr)


class Table:
    def __init__(self, resource: Resource, engine: Engine) -> None:
        self.resource = resource
        self.engine = engine
        self.names = resource.all_names
        self.visible = [c.name for c in resource.columns]
        self.pending: list[WriteOp] = []

    # --- reads ---------------------------------------------------------------------------------
    def BestIndexObject(self, info: apsw.IndexInfo) -> bool:
        """Called while SQLite prepares a statement, once per candidate plan: choose what we consume."""
        offers = []
        for i in range(info.nConstraint):
            op = _OPS.get(info.get_aConstraint_op(i), "other")
            if op == "eq" and info.get_aConstraint_collation(i).upper() != "BINARY":
                op = "other"  # `= 'M1' COLLATE NOCASE`: the API compares exactly, so SQLite must do it
            column = info.get_aConstraint_iColumn(i)
            usable = info.get_aConstraint_usable(i)
            name = None if op in ("limit", "offset") else (self.names[column] if column >= 0 else "rowid")
            offers.append(Offer(name, op, usable, usable and op == "eq" and info.get_aConstraintUsage_in(i)))
        plan = planner.plan_scan(self.resource, offers, has_order_by=info.nOrderBy > 0)
        for i, use in enumerate(plan.uses):
            if use is not None:
                info.set_aConstraintUsage_argvIndex(i, use.argv)
                info.set_aConstraintUsage_omit(i, use.omit)
                if use.whole_in:
                    info.set_aConstraintUsage_in(i, True)
        info.idxStr = plan.to_idxstr()
        info.estimatedCost = plan.cost
        info.estimatedRows = plan.rows
        return True

    def Open(self) -> Cursor:
        """Called when a scan starts."""
        return Cursor(self)

    def remember(self, deployment: str, item: dict[str, Any]) -> int:
        """Number a scanned row; keep it while the statement may update or delete it (not for SELECT)."""
        engine = self.engine
        rowid = engine.next_rowid
        engine.next_rowid += 1
        if engine.kind != "select":
            engine.rows[rowid] = (deployment, item)
        return rowid

    # --- writes: validated and queued; sent in Sync -----------------------------------------------
    def UpdateInsertRow(self, rowid: int | None, fields: tuple[SqlValue, ...]) -> int:
        """Called for each INSERTed row: validate it and queue a create."""
        self._writable("create", "INSERT")
        values = self.resource.merge_aliases(dict(zip(self.names, fields)), "INSERT: ")
        deployment = self._deployment(values, "INSERT")
        for param in self.resource.params:
            if param.name != self.resource.deployment_param and values.get(param.name) not in (None, ""):
                raise ValidationError(f"{param.name} is a listing parameter and cannot be given on INSERT; leave it out")
        body = self.resource.create_body({n: values.get(n) for n in self.visible})
        endpoint = self.resource.create
        self.pending.append(WriteOp("create", deployment, endpoint.http_method, self.resource.path(endpoint),
                                    body=body, response_key=endpoint.response_key))
        self.engine.next_rowid += 1
        return self.engine.next_rowid

    def UpdateChangeRow(self, rowid: int, newrowid: int, fields: tuple[Any, ...]) -> None:
        """Called for each row an UPDATE changes: queue a patch carrying only the SET columns."""
        self._writable("update", "UPDATE")
        if newrowid != rowid:
            raise ValidationError("UPDATE cannot change rowid")
        deployment, item = self.engine.rows[rowid]
        current = self._current(deployment, item)
        changes = self.resource.merge_aliases(
            {n: v for n, v in zip(self.names, fields) if v is not apsw.no_change}, "UPDATE: ")
        for param in self.resource.params:
            if param.name in changes and changes.pop(param.name) not in (None, "", current.get(param.name)):
                raise ValidationError(f"UPDATE cannot change {param.name}; it selects which webhooks to list")
        patch = self.resource.update_fields(changes, current)
        if not patch:  # reporting the row as updated would claim a change (and, keyed, a row) never checked
            raise StatementError("UPDATE sets nothing: '' and NULL mean \"not given\" (leave unchanged), and no other "
                                 "value is set; give at least one column a value")
        key = self.resource.key
        endpoint = self.resource.update
        self.pending.append(WriteOp("update", deployment, endpoint.http_method, self.resource.path(endpoint),
                                    body={key: item[key], **patch}, response_key=endpoint.response_key,
                                    before=item, key=item[key]))

    def UpdateDeleteRow(self, rowid: int) -> None:
        """Called for each row a DELETE removes: queue a delete by key."""
        self._writable("delete", "DELETE")
        deployment, item = self.engine.rows[rowid]
        key = self.resource.key
        endpoint = self.resource.delete
        where = {key: item[key]}
        self.pending.append(WriteOp(
            "delete", deployment, endpoint.http_method, self.resource.path(endpoint),
            query=where if endpoint.key_location == "query" else None,
            body=where if endpoint.key_location == "body" else None,
            before=item, key=item[key]))

    def Begin(self) -> None:
        """Called when a statement first writes to the table in a transaction."""

    def Sync(self) -> None:
        """Called when SQLite commits (after each statement in autocommit mode): send the queued writes."""
        ops, self.pending = self.pending, []
        self.engine.rows.clear()
        if not ops:
            return
        self._check_guard_rails(ops)
        self.engine.results.extend(send_writes(ops, self.engine.workspace, self.resource.key, self.engine.max_workers))

    def Commit(self) -> None:
        """Called after Sync succeeded."""

    def Rollback(self) -> None:
        """Called on ROLLBACK or a failed statement: forget writes not yet sent."""
        self.pending.clear()
        self.engine.rows.clear()

    def Disconnect(self) -> None:
        """Called when the connection closes."""

    Destroy = Disconnect

    def _check_guard_rails(self, ops: list[WriteOp]) -> None:
        """Refuse (nothing sent) writes above the cap, or a bulk change the user did not confirm."""
        verb = SQL_VERB.get(ops[0].verb, "write")
        engine = self.engine
        if engine.max_affected is not None and len(ops) > engine.max_affected:
            raise GuardRailError(f"{verb} would change {len(ops)} rows, more than the cap of {engine.max_affected} "
                                 f"(max_affected); nothing was sent: narrow the WHERE clause or raise the cap")
        bulk = ops[0].verb in ("update", "delete") and len(ops) > 1 and not engine.keyed
        if bulk and engine.confirm is not None and not engine.confirm(verb, len(ops)):
            raise GuardRailError(f"{verb} of {len(ops)} rows cancelled; nothing was sent")

    # --- helpers ---------------------------------------------------------------------------------
    def _writable(self, method: str, verb: str) -> None:
        if getattr(self.resource, method) is None:
            raise NotSupportedError(f"{self.resource.name} is read-only: the API has no {method} method, so {verb} "
                                    f"is not possible")

    def _deployment(self, values: dict[str, Any], verb: str) -> str:
        name = self.resource.deployment_param
        deployment = values.get(name) or self.engine.default_deployment
        if deployment in (None, ""):
            raise StatementError(f"{verb} needs {name}: add it to the column list, e.g. INSERT INTO "
                                 f"{self.resource.name} ({name}, events, ...) VALUES ('sandbox', ...), or "
                                 f"connect with a default workspace (connect(deployment='sandbox'))")
        self.engine.workspace(str(deployment))  # refuses bad names and missing credentials before any request
        return str(deployment)

    def _current(self, deployment: str, item: dict[str, Any]) -> dict[str, Any]:
        row = {c.name: _to_sql(item.get(c.name), c) for c in self.resource.columns}
        row[self.resource.deployment_param] = deployment
        return row


class Cursor:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.resource = table.resource
        self.columns = table.resource.columns
        self.n_visible = len(self.columns)
        self.names = table.names
        self._rows: Iterator[tuple[Listing, dict[str, Any]]] = iter(())
        self._stream: PageStream | None = None
        self._listing: Listing | None = None
        self._item: dict[str, Any] | None = None
        self._row: tuple[SqlValue, ...] | None = None  # the item's visible values, made when first asked
        self._rowid = 0

    def Filter(self, indexnum: int, indexname: str, constraintargs: tuple[Any, ...]) -> None:
        """Called to start (or restart) a scan with the runtime values of the consumed constraints."""
        self.Close()
        engine = self.table.engine
        scan = planner.build_scan(self.resource, _plan(indexname), constraintargs, engine.default_deployment)
        for listing in scan.listings:
            engine.workspace(listing.deployment)  # bad names / credentials fail before any request
        if engine.keyed and engine.kind in ("update", "delete") and scan.key and len(scan.listings) == 1:
            stub = {self.resource.key: scan.key}
            self._rows = iter([(scan.listings[0], stub)])
        else:
            self._stream = PageStream(scan.listings, lambda listing: self._pages(scan, listing), engine.max_workers)
            self._rows = _limited(self._stream, scan)
        self.Next()

    def _pages(self, scan: Scan, listing: Listing) -> Iterator[list[dict[str, Any]]]:
        endpoint = self.resource.list
        params = dict(listing.params)
        params[endpoint.page_size_param] = planner.page_size(self.resource, scan, listing)
        workspace = self.table.engine.workspace(listing.deployment)
        key = self.resource.key
        pages = workspace.pages(self.resource.path(endpoint), params, items_key=endpoint.items_key,
                                token_param=endpoint.page_token_param, next_token_key=endpoint.next_token_key)
        with not_a_sandbox(self.resource, "deployment_name = 'sandbox'"):
            for page in pages:
                yield page  # whole: SQLite applies `key = value` itself, by its own rules of comparison
                if scan.key is not None and any(str(item.get(key)) == scan.key for item in page):
                    return  # the key is unique in a workspace: no later page can hold it

    def Eof(self) -> bool:
        """Called after Filter and each Next: is the scan finished?"""
        return self._item is None

    def Next(self) -> None:
        """Called to move to the next row."""
        nxt = next(self._rows, None)
        if nxt is None:
            self._item = None
            return
        self._listing, self._item = nxt
        self._row = None
        self._rowid = self.table.remember(self._listing.deployment, self._item)

    def Rowid(self) -> int:
        return self._rowid

    def Column(self, number: int) -> SqlValue:
        """Called for each column value SQLite needs of the current row (-1 is the rowid)."""
        if number < 0:
            return self._rowid
        if number < self.n_visible:
            if self._row is None:  # converted once per row, and only if SQLite reads a column of it
                self._row = self.resource.row_from_item(self._item)
            return self._row[number]
        name = self.resource.canonical(self.names[number])
        if name == self.resource.deployment_param:
            return self._listing.deployment
        pushed = next((p for p in self.resource.list.pushdowns if p.column == name), None)
        return self._listing.params.get(pushed.param) if pushed else None

    def ColumnNoChange(self, number: int) -> Any:
        """Called during UPDATE for columns the statement does not SET."""
        return apsw.no_change

    def Close(self) -> None:
        """Called when the scan ends, including early (LIMIT reached, statement reset)."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        self._rows = iter(())


@contextmanager
def not_a_sandbox(resource: Resource, fix: str) -> Iterator[None]:
    """Around a request of a sandbox-only resource: its 404 means the workspace is not a sandbox; say that."""
    try:
        yield
    except ApiError as exc:
        if not resource.sandbox_only or exc.status != 404:
            raise
        raise ApiError(f"{resource.name} exists only in a sqlprovider sandbox, and {exc.workspace} is not one "
                       f"({exc.method} {exc.path} answered HTTP 404): use {fix}, or a profile whose host is a "
                       f"running `sqlprovider sandbox serve`", status=404, error_code=exc.error_code,
                       workspace=exc.workspace, method=exc.method, path=exc.path) from None


def _limited(stream: PageStream, scan: Scan) -> Iterator[tuple[Listing, dict[str, Any]]]:
    """Rows of the stream after the local checks, OFFSET and LIMIT; stops the stream when done."""
    skip, left = scan.offset, scan.limit
    if left == 0:
        return
    try:
        for listing, page in stream:
            for item in page:
                if scan.any_of and not all(set(item.get(col) or ()) & values for col, values in scan.any_of):
                    continue
                if skip:
                    skip -= 1
                    continue
                yield listing, item
                if left is not None:
                    left -= 1
                    if left == 0:
                        return
    finally:
        stream.close()

"""build, test and teardown: the flows of stackql-deploy over sqlprovider connections.

A *unit* is one resource of the manifest applied to one workspace. Resources run in manifest order (a
later one may use an earlier one's exports); the units of one resource (its `deployment_name` prop gives
several workspaces) run concurrently, each on its own connection. Every statement goes through
`sqlprovider.connect()`, so what a stack does is exactly what the same SQL does in `sqlprovider exec`,
and a dry run is the engine's: reads are sent, writes are held back and collected.

Flows, per unit (anchors.py names the queries):
- build: exists; absent: create, then statecheck (with its retries); present: statecheck once, and update
  when it fails, then statecheck again (with its retries); then exports. A unit in its desired state sends
  no write.
- test: exists and statecheck once, then exports; a unit that is absent or not in its desired state fails.
- teardown: exists and exports in manifest order (later resources' props may need them), then in reverse
  order delete what exists, and run exists again (postdelete_retries) until it is gone.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlprovider
from sqlprovider.errors import Error, OperationalError, TemplateError
from sqlprovider.redact import MASK, SECRET_KEYS, redact_text
from sqlprovider.resources import RESOURCES
from sqlprovider.stacks import anchors, manifest, templates
from sqlprovider.stacks.anchors import Query
from sqlprovider.stacks.manifest import ManifestError, Prop, ResourceSpec
from sqlprovider.workspace.client import RequestRecord

#: Props that pick the workspace (every resource's deployment parameter and its other names).
DEPLOYMENT_PROPS = tuple(dict.fromkeys(name for r in RESOURCES for name in (r.deployment_param, *r.aliases)))
KNOWN_AFTER_BUILD = "(known after build)"  # a plan's stand-in for the exports of a resource it would create
MAX_WORKERS = 8


class UnitFailure(Exception):
    """Ends one unit's flow; the message (one line) is what the report shows for it."""


@dataclass
class Outcome:
    """What happened to one unit: `action` (created, updated, no change, create, update, deleted, ...),
    `failure` (one line) if it failed, the requests it made (sent, or held back in a dry run)."""

    label: str
    action: str = ""
    failure: str | None = None
    requests: list[RequestRecord] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)

    @property
    def writes(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.method != "GET"]


@dataclass
class Report:
    command: str
    stack_name: str
    stack_env: str
    dry_run: bool
    outcomes: list[Outcome]
    exports: dict[str, Any]

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failure]

    @property
    def ok(self) -> bool:
        return not self.failures


class Masker:
    """Masks secrets in anything shown: what redact_text finds, plus every value known to be secret
    (write-only fields of the props, protected exports, secret-named variables)."""

    def __init__(self) -> None:
        self.values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: Any) -> None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and len(value.strip()) >= 4:
            with self._lock:
                self.values.update({value, value.replace("'", "''"), json.dumps(value)[1:-1]})

    def add_secrets_in(self, value: Any) -> None:
        """Every value under a secret key (secret, authorization, access_token, ...) in a JSON-like value."""
        if isinstance(value, Mapping):
            for key, item in value.items():
                (self.add if str(key).lower() in SECRET_KEYS else self.add_secrets_in)(item)
        elif isinstance(value, list):
            for item in value:
                self.add_secrets_in(item)

    def __call__(self, text: str) -> str:
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return redact_text(text)

    def value(self, value: Any) -> Any:
        """A JSON-like value with secret strings masked (for --output-file)."""
        if isinstance(value, str):
            return MASK if value in self.values else value
        if isinstance(value, Mapping):
            return {k: MASK if str(k).lower() in SECRET_KEYS and v not in (None, "") else self.value(v)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


@dataclass
class Unit:
    """One resource on one workspace: its context (globals, props, exports so far, `this`) and queries."""

    spec: ResourceSpec
    label: str
    workspace: str
    context: dict[str, Any]
    queries: dict[str, Query]
    outcome: Outcome = field(init=False)
    present: bool = False
    exists_columns: list[str] = field(default_factory=list)  # what exists returns: the this.<field> names

    def __post_init__(self) -> None:
        self.outcome = Outcome(self.label)
        self.context.setdefault("this", {})


class _Recorder:
    """The observer on one connection: collects its requests for the unit that uses it now."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def __call__(self, record: RequestRecord) -> None:
        self.records.append(record)


class Stack:
    """A stack directory and environment, ready to build, test, tear down or plan.

    `variables` are the environment variables templates see (the process's, --env-file's and -e's, merged
    by the caller); `show` receives each query as run (masked), for --show-queries.
    """

    def __init__(self, stack_dir: str | Path, stack_env: str, variables: Mapping[str, str] | None = None, *,
                 dry_run: bool = False, show: Callable[[str], None] | None = None,
                 connect: Callable[..., Any] = sqlprovider.connect, max_workers: int = MAX_WORKERS) -> None:
        self.manifest = manifest.load(stack_dir)
        self.stack_env = stack_env
        self.dry_run = dry_run
        self.show = show
        self.max_workers = max_workers
        self._connect = connect
        self.sql_env = templates.environment(strict=True)
        self.value_env = templates.environment(strict=False)
        self.mask = Masker()
        self.variables = dict(variables or {})
        for name, value in self.variables.items():
            if any(word in name.lower() for word in ("secret", "token", "password", "authorization", "credential")):
                self.mask.add(value)
        self._connections: dict[str, tuple[Any, _Recorder]] = {}
        self._lock = threading.Lock()

    # --- the commands ------------------------------------------------------------------------------
    def build(self) -> Report:
        """Create or update every resource to its desired state (a dry run: plan it, send no write)."""
        return self._forward("build", self._build_unit)

    def plan(self) -> Report:
        """What build would do, per resource (create, update, no change), with the requests it would send."""
        self.dry_run = True
        return self._forward("plan", self._build_unit)

    def test(self) -> Report:
        """Check every resource is in its desired state; send nothing that changes anything."""
        return self._forward("test", self._test_unit, stop_on_failure=False)

    def teardown(self) -> Report:
        """Delete every resource that exists, in reverse order."""
        try:
            units = self._collect()
            outcomes: list[Outcome] = []
            for group in reversed(units):
                self._concurrently(group, self._delete_unit)
                outcomes[:0] = [u.outcome for u in group]
            return self._report("teardown", outcomes, {})
        finally:
            self.close()

    def close(self) -> None:
        for conn, _ in self._connections.values():
            conn.close()
        self._connections.clear()

    # --- resources in order ------------------------------------------------------------------------
    def _forward(self, command: str, flow: Callable[[Unit], None], stop_on_failure: bool = True) -> Report:
        try:
            context = self._base_context()
            outcomes: list[Outcome] = []
            for spec in self.manifest.resources:
                group = self._units(spec, context)
                if group is None:
                    outcomes.append(Outcome(spec.name, "skipped (if)"))
                    continue
                self._concurrently(group, flow)
                outcomes += [u.outcome for u in group]
                if any(u.outcome.failure for u in group) and stop_on_failure:
                    break
                self._export(spec, group, context)
            return self._report(command, outcomes, context)
        finally:
            self.close()

    def _collect(self) -> list[list[Unit]]:
        """Teardown's first pass: every resource's units, with `this` (exists) and exports captured."""
        context = self._base_context()
        groups: list[list[Unit]] = []
        for spec in self.manifest.resources:
            group = self._units(spec, context)
            if group is None or spec.type == "command":
                continue
            self._concurrently(group, self._look_up_unit)
            self._export(spec, group, context, missing="<unknown>")
            if spec.type == "resource":
                groups.append(group)
        return groups

    def _base_context(self) -> dict[str, Any]:
        context: dict[str, Any] = {**self.variables, "stack_name": self.manifest.name, "stack_env": self.stack_env}
        for i, prop in enumerate(self.manifest.globals):
            context[prop.name] = self._prop_value(prop, context, f"{self.manifest.path}: globals[{i}] ({prop.name})")
            self.mask.add_secrets_in({prop.name: context[prop.name]})
        return context

    def _units(self, spec: ResourceSpec, context: dict[str, Any]) -> list[Unit] | None:
        """The resource's units, or None when its `if` is false. Props render in order, each seeing the ones
        before it; a deployment prop holding several workspaces makes one unit per workspace."""
        resource_context = dict(context)
        for i, prop in enumerate(spec.props):
            where = f"{self.manifest.path}: {spec.name}: props[{i}] ({prop.name})"
            resource_context[prop.name] = self._prop_value(prop, resource_context, where)
            self.mask.add_secrets_in({prop.name: resource_context[prop.name]})
        if spec.condition is not None and not self._condition(spec, resource_context):
            return None
        queries = anchors.load(spec.file)
        _check_anchors(spec, queries)
        deployment = next((p.name for p in spec.props if p.name in DEPLOYMENT_PROPS), None)
        workspaces = _workspaces(resource_context.get(deployment)) if deployment else None
        if not workspaces:
            return [Unit(spec, spec.name, "", resource_context, queries)]
        return [Unit(spec, f"{spec.name}[{ws}]", ws, {**resource_context, deployment: ws}, queries)
                for ws in workspaces]

    def _prop_value(self, prop: Prop, context: Mapping[str, Any], where: str) -> Any:
        if prop.values is not None and self.stack_env in prop.values:
            raw = prop.values[self.stack_env]
        elif prop.values is not None and prop.value is None and not prop.merge:
            raise ManifestError(f"{where}: no value for environment {self.stack_env!r}; add values: "
                                f"{{{self.stack_env}: {{value: ...}}}} (it has {', '.join(prop.values)})")
        else:
            raw = prop.value
        value = templates.render_value(self.value_env, raw, context, where)
        for name in prop.merge:
            if name not in context:
                raise ManifestError(f"{where}: merge: {name!r} is not defined (a global or an earlier export)")
            other = context[name]
            base = value if value != "" else ([] if isinstance(templates.from_json(other), list) else {})
            merge = templates.merge_lists if isinstance(base, list) else templates.merge_objects
            try:
                value = merge(base, other)
            except TemplateError as exc:
                raise ManifestError(f"{where}: merge with {name}: {exc}") from None
        return value

    def _condition(self, spec: ResourceSpec, context: Mapping[str, Any]) -> bool:
        where = f"{self.manifest.path}: {spec.name}: if"
        text = templates.render_value(self.value_env, spec.condition, context, where)
        if isinstance(text, bool):
            return text
        try:
            return bool(self.value_env.compile_expression(str(text))(**context))
        except Exception as exc:  # a Jinja expression over the context, in the sandbox: any mistake is the author's
            raise ManifestError(f"{where}: cannot evaluate {spec.condition!r}: {exc}") from None

    def _export(self, spec: ResourceSpec, group: list[Unit], context: dict[str, Any], missing: str | None = None) -> None:
        """Put a resource's exports in the context of the resources after it (a list per workspace when it
        has several units), by name and as `<resource>.<name>`."""
        values: dict[str, Any] = {}
        for export in spec.exports:
            found = [u.outcome.exports.get(export.name, missing) for u in group]
            values[export.name] = found[0] if len(group) == 1 else found
            if export.name in spec.protected or export.column in spec.protected:
                for value in found:
                    self.mask.add(value)
        context.update(values)
        scoped = dict(context.get(spec.name) or {}) if isinstance(context.get(spec.name), dict) else {}
        context[spec.name] = {**scoped, **values}

    def _concurrently(self, group: list[Unit], flow: Callable[[Unit], None]) -> None:
        if len(group) == 1:
            self._run_unit(group[0], flow)
            return
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(group))) as pool:
            list(pool.map(lambda unit: self._run_unit(unit, flow), group))

    def _run_unit(self, unit: Unit, flow: Callable[[Unit], None]) -> None:
        _, recorder = self._connection(unit.workspace)
        start = len(recorder.records)
        try:
            flow(unit)
        except UnitFailure as exc:
            unit.outcome.failure = self.mask(str(exc))
        except Error as exc:
            unit.outcome.failure = self.mask(f"{unit.label}: {exc}")
        finally:
            unit.outcome.requests += recorder.records[start:]

    def _connection(self, workspace: str) -> tuple[Any, _Recorder]:
        """One connection per workspace (a connection serves one thread at a time), with a request recorder."""
        with self._lock:
            if workspace not in self._connections:
                conn = self._connect(dry_run=self.dry_run)
                recorder = _Recorder()
                conn.requests.observers.append(recorder)
                self._connections[workspace] = (conn, recorder)
            return self._connections[workspace]

    def _report(self, command: str, outcomes: list[Outcome], context: Mapping[str, Any]) -> Report:
        names = self.manifest.exports or tuple(dict.fromkeys(e.name for s in self.manifest.resources
                                                                for e in s.exports))
        exports = {"stack_name": self.manifest.name, "stack_env": self.stack_env}
        exports.update({name: self.mask.value(context[name]) for name in names if name in context})
        return Report(command, self.manifest.name, self.stack_env, self.dry_run, outcomes, exports)

    # --- the flows -------------------------------------------------------------------------------------
    def _build_unit(self, unit: Unit) -> None:
        q, out = unit.queries, unit.outcome
        if unit.spec.type == "query":
            self._exports(unit)
            out.action = "exported"
            return
        if unit.spec.type == "command":
            self._write(unit, q["command"])
            out.action = "would run" if self.dry_run else "ran"
            return
        create = q.get("create") or q.get("createorupdate")
        update = q.get("update") or q.get("createorupdate")
        if "exists" in q:
            present = self._exists(unit)
        elif "statecheck" in q:
            present = self._statecheck(unit, attempts=1)
        else:  # createorupdate alone: always applied, as stackql-deploy does
            present = False
        if not present:
            self._write(unit, create)
            if self.dry_run:
                out.action = "create"
                out.exports = {e.name: KNOWN_AFTER_BUILD for e in unit.spec.exports}
                return
            out.action = "created"
            self._verify(unit, "created", capture=True)
        elif self._desired(unit):
            out.action = "no change"
        else:
            if update is None:
                raise UnitFailure(f"{unit.label}: not in the desired state, and {unit.spec.file.name} has no update "
                                  f"anchor to fix it (add /*+ update */ or /*+ createorupdate */)")
            self._write(unit, update)
            out.action = "update" if self.dry_run else "updated"
            if not self.dry_run:
                self._verify(unit, "updated")
        self._exports(unit)

    def _test_unit(self, unit: Unit) -> None:
        if unit.spec.type == "command":
            unit.outcome.action = "skipped (command)"
            return
        if unit.spec.type == "resource":
            if "exists" in unit.queries and not self._exists(unit):
                raise UnitFailure(f"{unit.label}: does not exist (exists found no row): run build")
            if not self._desired(unit):
                raise UnitFailure(f"{unit.label}: not in the desired state (statecheck: count is not 1): "
                                  f"run build to update it")
        self._exports(unit)
        unit.outcome.action = "in the desired state" if unit.spec.type == "resource" else "exported"

    def _look_up_unit(self, unit: Unit) -> None:
        """Teardown, first pass: does it exist (capturing `this`), and its exports for later resources."""
        if unit.spec.type == "query":
            self._exports(unit)
            return
        unit.present = self._exists(unit) if "exists" in unit.queries else True
        if unit.present and "exports" in unit.queries:
            try:
                self._exports(unit)
            except UnitFailure:
                pass  # the stack may be half-built: a later resource's props then see "<unknown>"

    def _delete_unit(self, unit: Unit) -> None:
        if unit.outcome.failure:
            return
        if not unit.present:
            unit.outcome.action = "not found"
            return
        if "delete" not in unit.queries:
            raise UnitFailure(f"{unit.label}: {unit.spec.file.name} has no delete anchor (add /*+ delete */)")
        self._write(unit, unit.queries["delete"])
        if self.dry_run:
            unit.outcome.action = "delete"
            return
        exists = unit.queries.get("exists")
        if exists is not None:
            for attempt in range(exists.postdelete_retries):
                if attempt:
                    time.sleep(exists.postdelete_retry_delay)
                if not self._exists(unit):
                    break
            else:
                raise UnitFailure(f"{unit.label}: still exists after delete (exists checked "
                                  f"{exists.postdelete_retries} times; raise postdelete_retries)")
        unit.outcome.action = "deleted"

    # --- the steps ---------------------------------------------------------------------------------------
    def _exists(self, unit: Unit, attempts: int = 1, delay: float = 0.0) -> bool:
        """Run exists: `count` > 0, or a named field (captured as this.<field>) that is not empty."""
        query = unit.queries["exists"]
        for attempt in range(attempts):
            if attempt:
                time.sleep(delay)
            columns, rows = self._select(unit, query)
            unit.exists_columns = columns
            if [c.lower() for c in columns] == ["count"]:
                if _count(rows) > 0:
                    return True
                continue
            if len(rows) > 1:
                raise UnitFailure(f"{unit.label}: exists found {len(rows)} rows; it must find one at most "
                                  f"(narrow its WHERE)")
            if rows and any(v not in (None, "") for v in rows[0]):
                unit.context["this"] = {**unit.context["this"], **dict(zip(columns, rows[0]))}
                return True
        return False

    def _desired(self, unit: Unit) -> bool:
        """In the desired state now (one try): statecheck, else the exports query finding its row."""
        if "statecheck" in unit.queries:
            return self._statecheck(unit, attempts=1)
        if "exports" in unit.queries:
            return bool(self._select(unit, unit.queries["exports"])[1])
        return True

    def _statecheck(self, unit: Unit, attempts: int, delay: float = 0.0) -> bool:
        query = unit.queries["statecheck"]
        for attempt in range(attempts):
            if attempt:
                time.sleep(delay)
            columns, rows = self._select(unit, query)
            if "count" not in [c.lower() for c in columns]:
                raise UnitFailure(f"{unit.label}: statecheck must return a column named count "
                                  f"(SELECT count(*) AS count ...); it returned {', '.join(columns) or 'nothing'}")
            if _count(rows) == 1:
                return True
        return False

    def _verify(self, unit: Unit, done: str, capture: bool = False) -> None:
        """After a write: capture `this` again if needed, then statecheck with its retries."""
        statecheck, exists = unit.queries.get("statecheck"), unit.queries.get("exists")
        retry = statecheck or exists
        attempts, delay = (retry.retries, retry.retry_delay) if retry else (1, 0.0)
        if capture and exists is not None and not unit.context["this"]:
            if not self._exists(unit, attempts, delay):
                raise UnitFailure(f"{unit.label}: {done}, but exists does not find it "
                                  f"(after {attempts} tries; raise the exists retries)")
        if statecheck is not None and not self._statecheck(unit, statecheck.retries, statecheck.retry_delay):
            raise UnitFailure(f"{unit.label}: {done}, but not in the desired state (statecheck: count is not 1 "
                              f"after {statecheck.retries} tries; check the update query, or raise retries)")

    def _exports(self, unit: Unit) -> None:
        if not unit.spec.exports:
            return
        query = unit.queries.get("exports")
        if query is None:
            raise UnitFailure(f"{unit.label}: the manifest lists exports but {unit.spec.file.name} has no "
                              f"/*+ exports */ query")
        sql: list[str] = []
        try:
            columns, rows = self._select(unit, query, shown=sql)
            if len(rows) == 1:
                self._protect(unit, dict(zip(columns, rows[0])))
        finally:  # shown once its protected values are known, so that they are masked in it too
            self._show(unit, query, sql)
        if len(rows) != 1:
            raise UnitFailure(f"{unit.label}: exports found {len(rows)} rows; it must find exactly one")
        row = dict(zip(columns, rows[0]))
        missing = [e.column for e in unit.spec.exports if e.column not in row]
        if missing:
            raise UnitFailure(f"{unit.label}: exports does not return {', '.join(missing)} "
                              f"(it returns {', '.join(columns)})")
        unit.outcome.exports = {e.name: row[e.column] for e in unit.spec.exports}

    def _protect(self, unit: Unit, row: dict[str, Any]) -> None:
        for export in unit.spec.exports:
            if export.name in unit.spec.protected or export.column in unit.spec.protected:
                self.mask.add(row.get(export.column))

    def _select(self, unit: Unit, query: Query, shown: list[str] | None = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        cursor = self._execute(unit, query, shown)
        columns = [d[0] for d in cursor.description or ()]
        return columns, cursor.fetchall()

    def _show(self, unit: Unit, query: Query, sql: list[str]) -> None:
        if self.show is not None and sql:
            self.show(self.mask(f"-- {unit.label}: {query.anchor}\n{sql[0].strip()}\n"))

    def _write(self, unit: Unit, query: Query) -> None:
        """Run a create, update, delete or command, with its retries for failures that may pass (the
        workspace refused, nothing was applied); a create whose RETURNING gives `this` fields captures them."""
        for attempt in range(query.retries):
            if attempt:
                time.sleep(query.retry_delay)
            try:
                cursor = self._execute(unit, query)
                rows = cursor.fetchall() if cursor.description else []
                break
            except UnitFailure as exc:
                cause = exc.__cause__
                if (attempt + 1 == query.retries or not isinstance(cause, OperationalError)
                        or getattr(cause, "outcome_unknown", False)):
                    raise
        if query.anchor in ("create", "createorupdate") and rows and not self.dry_run:
            _capture(unit, [d[0] for d in cursor.description], rows[0])

    def _execute(self, unit: Unit, query: Query, shown: list[str] | None = None) -> Any:
        """Render and run one query; `shown`: collect its text there instead of showing it now."""
        where = f"{unit.spec.file}:{query.line} ({query.anchor})"
        sql = templates.render_sql(self.sql_env, query.template, unit.context, where)
        if shown is None:
            self._show(unit, query, [sql])
        else:
            shown.append(sql)
        conn, _ = self._connection(unit.workspace)
        try:
            cursor = conn.execute(sql)
            if cursor.description and query.anchor in ("exists", "statecheck", "exports"):
                return _Fetched(cursor.description, cursor.fetchall())
            return cursor
        except Error as exc:
            raise UnitFailure(f"{unit.label}: {query.anchor} failed: {exc}") from exc


class _Fetched:
    """A read's rows, fetched inside the error handling of _execute (rows are fetched lazily)."""

    def __init__(self, description: Any, rows: list[tuple[Any, ...]]) -> None:
        self.description, self._rows = description, rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


def _check_anchors(spec: ResourceSpec, queries: Mapping[str, Query]) -> None:
    name = spec.file.name
    if spec.type == "query" and "exports" not in queries:
        raise ManifestError(f"{spec.file}: a query resource needs an /*+ exports */ query")
    if spec.type == "command" and "command" not in queries:
        raise ManifestError(f"{spec.file}: a command resource needs a /*+ command */ query")
    if spec.type == "resource" and not ("create" in queries or "createorupdate" in queries):
        raise ManifestError(f"{spec.file}: resource {spec.name} needs a /*+ create */ or /*+ createorupdate */ "
                            f"query ({name} has {', '.join(queries) or 'none'})")


def _workspaces(value: Any) -> list[str] | None:
    """Several workspaces from a deployment prop: a list, or JSON array text. None for one workspace."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, list):
        return list(dict.fromkeys(str(v) for v in value if v not in (None, "")))
    return None


def _count(rows: list[tuple[Any, ...]]) -> int:
    try:
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0
    except (TypeError, ValueError):
        return 0


def _capture(unit: Unit, columns: list[str], row: tuple[Any, ...]) -> None:
    """this.<field> from a create's RETURNING: a column of that name, or a field of a returned JSON object
    (the seed's `RETURNING webhook` gives the new webhook's id), so exists need not run again."""
    fields = [c for c in unit.exists_columns if c.lower() != "count"]
    if not fields:
        return
    values: dict[str, Any] = {}
    for value in row:
        if isinstance(value, str) and value.startswith("{"):
            try:
                obj = json.loads(value)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                values.update(obj)
    values.update(zip(columns, row))
    if all(values.get(f) not in (None, "") for f in fields):
        unit.context["this"] = {f: values[f] for f in fields}

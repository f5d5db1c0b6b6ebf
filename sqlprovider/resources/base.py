"""The vocabulary a resource definition is written in, and the generic conversions it drives.

A resource (see model_registry_webhooks.py) is pure data: its columns, hidden request
parameters, endpoints and validation rules. Everything here turns that data into behaviour:
API item -> SQL row, SQL values -> request body, and the checks made before any request.
Nothing here does I/O.
"""

from __future__ import annotations

import json
import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from sqlprovider.errors import StatementError, ValidationError
from sqlprovider.redact import MASK

SqlValue = str | int | float | bytes | None


@dataclass(frozen=True)
class Column:
    """A visible column, mapped 1:1 to a field of the API object."""

    name: str
    sql_type: Literal["TEXT", "INTEGER"] = "TEXT"
    kind: Literal["scalar", "array", "object"] = "scalar"  # array/object are JSON text in SQL
    description: str = ""
    on_create: bool = False  # may be given in INSERT
    on_update: bool = False  # may be changed by UPDATE
    required_on_create: bool = False
    choices: tuple[str, ...] = ()  # allowed values (for an array: allowed elements)
    required_fields: tuple[str, ...] = ()  # for an object column: fields it must carry
    write_only_fields: frozenset[str] = frozenset()  # accepted, never returned
    #: For an object column: every key it accepts (empty: unchecked). A misspelt key is refused, since a
    #: write-only one (`secert`) would otherwise be sent as written and could never be seen again.
    fields: tuple[str, ...] = ()

    @property
    def is_json(self) -> bool:
        return self.kind != "scalar"


@dataclass(frozen=True)
class Param:
    """A HIDDEN column that is a request parameter rather than a field of the object."""

    name: str
    sql_type: Literal["TEXT", "INTEGER"] = "TEXT"
    required: bool = False
    description: str = ""
    aliases: tuple[str, ...] = ()  # other names for it: more HIDDEN columns, same meaning (`workspace`)


@dataclass(frozen=True)
class Pushdown:
    """How an equality/IN on a column becomes a list request parameter.

    `any_of`: the API ORs repeated values of the parameter, so all values go in ONE request
    and the predicate means "the array column contains any of them".
    `each`: the parameter takes one value, so each value is a request of its own.
    `pass`: a plain request parameter (page size, page token) passed through as given.
    """

    column: str
    param: str
    mode: Literal["any_of", "each", "pass"]


@dataclass(frozen=True)
class Endpoint:
    """One REST call: verb, path under the resource's base path, and where its answer lives."""

    http_method: str
    path: str
    response_key: str | None = None  # the object is wrapped in this key of the answer
    key_location: Literal["body", "query"] = "body"  # where the object's key travels


@dataclass(frozen=True)
class ListEndpoint(Endpoint):
    items_key: str = "items"
    next_token_key: str = "next_page_token"
    page_token_param: str = "page_token"
    page_size_param: str = "max_results"
    max_page_size: int = 1000
    pushdowns: tuple[Pushdown, ...] = ()


@dataclass(frozen=True)
class MethodParam:
    name: str
    required: bool = False
    location: Literal["body", "query"] = "body"
    choices: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class ExecMethod:
    """A lifecycle method reached with `EXEC <resource>.<name> @param=...`."""

    name: str
    endpoint: Endpoint
    params: tuple[MethodParam, ...]
    result_columns: tuple[str, ...] = ()  # empty: the method answers no rows
    result_items_key: str | None = None  # rows come from this list in the answer (else one row)
    description: str = ""


Rule = Callable[[Mapping[str, Any]], str | None]  # a cross-field check: message or None


@dataclass(frozen=True)
class Resource:
    """One API object type served as a table: its columns, parameters, endpoints and rules, as data."""

    name: str
    qualified_name: str
    base_path: str
    columns: tuple[Column, ...]
    params: tuple[Param, ...]
    key: str
    deployment_param: str
    list: ListEndpoint
    create: Endpoint | None  # None: the resource is read-only for that verb
    update: Endpoint | None
    delete: Endpoint | None
    exec_methods: tuple[ExecMethod, ...] = ()
    exactly_one_on_create: tuple[str, ...] = ()  # exactly one of these columns on create
    at_most_one_on_update: tuple[str, ...] = ()
    immutable: tuple[str, ...] = ()  # columns an UPDATE may not change
    create_rules: tuple[Rule, ...] = ()
    description: str = ""
    #: The endpoints exist only on the sqlprovider sandbox, never on a Databricks workspace: a snapshot copies
    #: the resource by default only from deployment 'sandbox' (see snapshot.py).
    sandbox_only: bool = False
    column_index: dict[str, int] = field(init=False, repr=False, compare=False)
    aliases: dict[str, str] = field(init=False, repr=False, compare=False)  # alias -> parameter name
    # row_from_item's plan, made once: it runs for every row of every listing
    _visible: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _json_positions: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _scalar_positions: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _write_only: tuple[tuple[int, frozenset[str]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_visible", tuple(c.name for c in self.columns))
        object.__setattr__(self, "_json_positions", tuple(i for i, c in enumerate(self.columns) if c.is_json))
        object.__setattr__(self, "_scalar_positions", tuple(i for i, c in enumerate(self.columns) if not c.is_json))
        object.__setattr__(self, "_write_only", tuple((i, c.write_only_fields) for i, c in enumerate(self.columns)
                                                      if c.write_only_fields))
        aliases = {alias: p.name for p in self.params for alias in p.aliases}
        names = [c.name for c in self.columns] + [p.name for p in self.params] + list(aliases)
        object.__setattr__(self, "aliases", aliases)
        object.__setattr__(self, "column_index", {n: i for i, n in enumerate(names)})

    # --- shape -----------------------------------------------------------------------------
    @property
    def all_names(self) -> list[str]:
        """Visible columns, hidden parameters, then their aliases, in declaration order (SQLite's column numbers)."""
        return list(self.column_index)

    def canonical(self, name: str) -> str:
        """The parameter an alias stands for (case-insensitive); any other name unchanged."""
        return self.aliases.get(name.lower(), name)

    def merge_aliases(self, values: Mapping[str, Any], what: str = "") -> dict[str, Any]:
        """`values` with each alias folded into its parameter; both given and different is an error."""
        merged = {k: v for k, v in values.items() if k.lower() not in self.aliases}
        for name, value in values.items():
            param = self.aliases.get(name.lower())
            if param is None or _absent(value):
                continue
            if not _absent(merged.get(param)) and merged[param] != value:
                raise alias_conflict(param, name, merged[param], value, what)
            merged[param] = value
        return merged

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def exec_method(self, name: str) -> ExecMethod | None:
        return next((m for m in self.exec_methods if m.name == name), None)

    def schema(self) -> str:
        """The CREATE TABLE statement SQLite is given for the virtual table."""
        parts = [f"{c.name} {c.sql_type}" for c in self.columns]
        parts += [f"{p.name} {p.sql_type} HIDDEN" for p in self.params]
        parts += [f"{alias} {p.sql_type} HIDDEN" for p in self.params for alias in p.aliases]
        return f"CREATE TABLE {self.name}({', '.join(parts)})"

    def path(self, endpoint: Endpoint) -> str:
        return f"{self.base_path}/{endpoint.path}"

    # --- API object -> SQL row -------------------------------------------------------------
    def row_from_item(self, item: Mapping[str, Any]) -> tuple[SqlValue, ...]:
        """The visible column values of one API object (JSON columns as compact JSON text)."""
        get = item.get
        values = [get(name) for name in self._visible]
        for i, fields in self._write_only:  # never returned by the API; masked should a server return them anyway
            if isinstance(values[i], dict) and not fields.isdisjoint(values[i]):
                values[i] = {k: MASK if k in fields else v for k, v in values[i].items()}
        for i in self._json_positions:
            if values[i] is not None:
                values[i] = _encode_json(values[i])
        for i in self._scalar_positions:  # the API's str/int/float pass as they are; anything else converts
            if values[i].__class__ not in _PLAIN:
                values[i] = _to_sql(values[i], self.columns[i])
        return tuple(values)

    def unwrap(self, endpoint: Endpoint, answer: Mapping[str, Any]) -> Mapping[str, Any]:
        if endpoint.response_key and isinstance(answer.get(endpoint.response_key), Mapping):
            return answer[endpoint.response_key]
        return answer

    # --- SQL values -> request body --------------------------------------------------------
    def create_body(self, values: Mapping[str, SqlValue]) -> dict[str, Any]:
        """Validate an INSERT row and build the create body; raise ValidationError before any request."""
        body: dict[str, Any] = {}
        for column in self.columns:
            value = values.get(column.name)
            if not column.on_create:
                if not _absent(value) and column.name != self.key:
                    raise ValidationError(f"{column.name} is set by the workspace and cannot be given on INSERT; leave it out")
                continue
            converted = self.convert(column, value)
            if converted is not None:
                body[column.name] = converted
            elif column.required_on_create:
                raise ValidationError(f"INSERT needs {column.name}: {_expected(column)}")
        given = [name for name in self.exactly_one_on_create if name in body]
        if self.exactly_one_on_create and len(given) != 1:
            names = " or ".join(self.exactly_one_on_create)
            problem = "both" if given else "neither"
            raise ValidationError(f"INSERT gave {problem} of {names}: give exactly one")
        for rule in self.create_rules:
            message = rule(body)
            if message:
                raise ValidationError(message)
        return body

    def update_fields(self, changes: Mapping[str, SqlValue], current: Mapping[str, SqlValue]) -> dict[str, Any]:
        """Validate the SET columns of an UPDATE and build the fields of the patch body.

        `current` is the row as it is (in the keyed fast path only its key and deployment are
        known). The key and immutable columns may be SET only to the value they already have.
        """
        body: dict[str, Any] = {}
        for name, value in changes.items():
            if name in (self.key, *self.immutable):
                if _absent(value) or value == current.get(name):
                    continue
                was = current.get(name)
                now = f"from {was!r} " if was is not None or name == self.key else ""
                raise ValidationError(f"UPDATE cannot change {name} {now}to {value!r}; "
                                      f"the API has no way to change it: create a new one and delete the old")
            column = self.column(name)
            if column is None or not column.on_update:
                raise ValidationError(f"UPDATE cannot change {name}; changeable columns: "
                                      + ", ".join(c.name for c in self.columns if c.on_update))
            converted = self.convert(column, value)
            if converted is not None:
                body[name] = converted
        both = [name for name in self.at_most_one_on_update if name in body]
        if len(both) > 1:
            raise ValidationError(f"UPDATE set both {' and '.join(both)}: set only one")
        return body

    def convert(self, column: Column, value: SqlValue) -> Any:
        """One SQL value as the API wants it; None means "not given" (NULL or '')."""
        if _absent(value):
            return None
        if column.kind == "array":
            items = _parse_array(column, value)
            if not items:
                raise ValidationError(f"{column.name} is empty: {_expected(column)}")
            for item in items:
                if column.choices and item not in column.choices:
                    raise ValidationError(f"{column.name}: unknown value {item!r}; valid values are "
                                          + ", ".join(column.choices))
            return items
        if column.kind == "object":
            obj = _parse_json(column, value)
            if not isinstance(obj, dict):
                raise ValidationError(f"{column.name} must be a JSON object, got {type(obj).__name__}: {_expected(column)}")
            obj = {k: v for k, v in obj.items() if not _absent(v)}
            _check_fields(column, obj)
            missing = [f for f in column.required_fields if f not in obj]
            if missing:
                raise ValidationError(f"{column.name} is missing {', '.join(missing)}: {_expected(column)}")
            return obj
        if isinstance(value, bytes):
            raise ValidationError(f"{column.name} is a blob, not text: give a string (CAST(... AS TEXT) makes one)")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError(f"{column.name}: {value} cannot be sent as JSON; give a finite number or text")
        if column.choices:
            text = str(value)
            if text not in column.choices:
                raise ValidationError(f"{column.name}: unknown value {text!r}; valid values are " + ", ".join(column.choices))
            return text
        if column.sql_type == "TEXT" and not isinstance(value, str):
            return str(value)  # as SQLite's TEXT affinity would store it; the API wants a string
        return value


def alias_conflict(param: str, alias: str, value: Any, other: Any, what: str = "") -> StatementError:
    """Both names of one parameter given with different values."""
    def sql(v: Any) -> str:  # as the user wrote it: `= 'a'`, or `IN ('a', 'b')` for a set of values
        if isinstance(v, (set, frozenset)):
            return f"= {sql(next(iter(v)))}" if len(v) == 1 else "IN (" + ", ".join(map(sql, sorted(v))) + ")"
        return "'" + str(v).replace("'", "''") + "'" if isinstance(v, str) else str(v)

    shown = [sql(v) if isinstance(v, (set, frozenset)) else f"= {sql(v)}" for v in (value, other)]
    return StatementError(f"{what}{param} {shown[0]} and {alias} {shown[1]} disagree: {alias} is another "
                          f"name for {param}; give one of them")


def _absent(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


_stdlib_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # as orjson writes it


def _encode_json(value: Any) -> str:
    """Compact JSON text of an API value; runs for every JSON column of every listed row, hence orjson."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # what orjson cannot encode (integers beyond 64 bits): the stdlib can
        return _stdlib_encode(value)


_PLAIN = frozenset({str, int, float, type(None)})  # SQLite takes these as they are


def _to_sql(value: Any, column: Column) -> SqlValue:
    if value is None:
        return None
    if column.is_json or isinstance(value, (dict, list)):
        return _encode_json(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _parse_json(column: Column, value: SqlValue) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    try:
        return json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{column.name} is not valid JSON ({exc.msg} at character {exc.pos}): {_expected(column)}") from None


def _parse_array(column: Column, value: SqlValue) -> list[str]:
    """A JSON array text; also a bare name or comma-separated names, as people type them."""
    if isinstance(value, str) and not value.lstrip().startswith("["):
        return [part.strip() for part in value.split(",") if part.strip()]
    parsed = _parse_json(column, value)
    if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
        raise ValidationError(f"{column.name} must be a JSON array of strings: {_expected(column)}")
    return parsed


def _expected(column: Column) -> str:
    if column.kind == "array":
        example = column.choices[0] if column.choices else "value"
        return f"give a JSON array such as '[\"{example}\"]'"
    if column.kind == "object":
        fields = ", ".join(f'"{f}": ...' for f in column.required_fields) or '"field": ...'
        return f"give a JSON object such as '{{{fields}}}'"
    if column.choices:
        return "one of " + ", ".join(column.choices)
    return "give a value"


def split_values(names: Sequence[str], values: Sequence[SqlValue]) -> dict[str, SqlValue]:
    """Pair SQLite's column values (visible then hidden) with their names."""
    return dict(zip(names, values))


# --- the Databricks conventions resources share ---------------------------------------------------------
def deployment_param(description: str = "Workspace: 'sandbox', a profile name, or the first label of "
                                        "<name>.cloud.databricks.com") -> Param:
    """The required hidden parameter that selects the workspace; `workspace` is StackQL's newer name for it."""
    return Param("deployment_name", required=True, description=description, aliases=("workspace",))


PAGING_PARAMS = (
    Param("max_results", "INTEGER", description="Page size asked of the API (all pages are still read)"),
    Param("page_token", description="Start listing at this page token"),
)


def paged_list(path: str, items_key: str, *pushdowns: Pushdown) -> ListEndpoint:
    """A GET list endpoint paged the Databricks way (max_results, page_token -> next_page_token)."""
    return ListEndpoint("GET", path, items_key=items_key, next_token_key="next_page_token",
                        page_token_param="page_token", page_size_param="max_results", max_page_size=1000,
                        pushdowns=(*pushdowns, Pushdown("max_results", "max_results", "pass"),
                                   Pushdown("page_token", "page_token", "pass")))


def _check_fields(column: Column, obj: Mapping[str, Any]) -> None:
    """Refuse keys the column does not know (naming the closest valid one) and write-only values that are
    the mask: a value copied from output, a dry-run listing or a log holds `***` where its secret was."""
    for key, value in obj.items():
        if column.fields and key not in column.fields:
            close = difflib.get_close_matches(key, column.fields, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValidationError(f"{column.name}: unknown key {key!r}; {hint}valid keys are "
                                  + ", ".join(column.fields))
        if key in column.write_only_fields and value == MASK:
            raise ValidationError(f"{column.name}.{key} is {MASK}, the mask shown in place of a secret (in output, "
                                  f"dry-run listings and logs): give the real value again")

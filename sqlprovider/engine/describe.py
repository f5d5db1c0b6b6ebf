"""DESCRIBE and SHOW: what a resource offers, read from its definition (sqlprovider.resources).

- `DESCRIBE [EXTENDED] <resource>`: its columns, then its hidden parameters (required or optional),
  with notes (JSON columns, write-only fields, filters sent to the API); EXTENDED adds descriptions.
- `SHOW METHODS IN <resource>`: the API methods and how SQL reaches them (SELECT ... EXEC).
- `SHOW RESOURCES [IN <service>]`: every resource, short and StackQL name.
- `SHOW INSERT [/*+ REQUIRED */] INTO <resource>`: an INSERT template with `{{ placeholders }}` for the
  columns a create takes (only the required ones with the hint), as StackQL prints it to scaffold `.iql` files.

Nothing here knows about a particular resource; everything comes from its data.
"""

from __future__ import annotations

from typing import Any

from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

from sqlprovider.errors import ProgrammingError, StatementError
from sqlprovider.resources import RESOURCES, lookup
from sqlprovider.resources.base import Column, Param, Resource
from sqlprovider.engine.dialects import FRONT

Rows = list[tuple[Any, ...]]
FORMS = ("DESCRIBE [EXTENDED] <resource>, SHOW METHODS IN <resource>, SHOW INSERT [/*+ REQUIRED */] INTO <resource> "
         "or SHOW RESOURCES [IN <service>]")


def run(text: str) -> tuple[tuple[str, ...], Rows]:
    """Answer one DESCRIBE or SHOW statement: (column names, rows)."""
    tokens = _tokens(text)
    words = [t.text.upper() if t.token_type != TokenType.IDENTIFIER else "" for t in tokens] + ["", "", ""]
    if words[0] in ("DESCRIBE", "DESC"):
        extended = words[1] == "EXTENDED" and len(tokens) > 2
        return describe(resource_named(_one_name(tokens[2 if extended else 1:])), extended=extended)
    if words[0] == "SHOW" and words[1] == "METHODS":
        if words[2] != "IN":
            raise StatementError(f"SHOW METHODS needs IN <resource>; the forms are {FORMS}")
        return methods(resource_named(_one_name(tokens[3:])))
    if words[0] == "SHOW" and words[1] == "INSERT":
        if words[2] != "INTO":
            raise StatementError(f"SHOW INSERT needs INTO <resource>; the forms are {FORMS}")
        return insert_template(resource_named(_one_name(tokens[3:])), required_only=_required_hint(tokens[:3]))
    if words[0] == "SHOW" and words[1] == "RESOURCES" and words[2] in ("IN", ""):
        return resources(_one_name(tokens[3:]) if words[2] else None)
    raise StatementError(f"cannot read {text.strip()!r}; the forms are {FORMS}")


# --- the answers ----------------------------------------------------------------------------------
def describe(resource: Resource, extended: bool = False) -> tuple[tuple[str, ...], Rows]:
    """One row per column, then one per hidden parameter."""
    columns = ("name", "type", "kind", "required", "notes") + (("description",) if extended else ())
    rows: Rows = []
    for column in resource.columns:
        row = (column.name, column.sql_type, "column", "", "; ".join(column_notes(resource, column)))
        rows.append(row + ((_described(column.description, column.choices if column.is_json else ()),)
                           if extended else ()))
    for param in resource.params:
        row = (param.name, param.sql_type, "parameter", "required" if param.required else "optional",
               "; ".join(param_notes(resource, param)))
        rows.append(row + ((param.description,) if extended else ()))
    for alias, name in resource.aliases.items():
        row = (alias, resource.param(name).sql_type, "parameter", "optional", f"another name for {name}")
        rows.append(row + ((f"Another name for {name} (StackQL's newer one).",) if extended else ()))
    return columns, rows


def methods(resource: Resource) -> tuple[tuple[str, ...], Rows]:
    """The API methods: list/create/update/delete through SQL verbs (those it has), then the EXEC methods."""
    deployment, key = resource.deployment_param, resource.key
    filters = [p.column for p in resource.list.pushdowns if resource.column(p.column)]
    required_params = _unique([deployment] + [p.name for p in resource.params if p.required])
    optional_params = [p.name for p in resource.params if p.name not in required_params]
    keyed = f"WHERE {deployment} = ... AND {key} = ... needs no listing"
    create_required = _create_required(resource)
    verbs = [
        (resource.list, "SELECT", required_params, filters + optional_params,
         "List; every page is read" + ("; filters on " + _names(filters) + " are sent to the API" if filters else "")),
        (resource.create, "INSERT", create_required,
         [c.name for c in resource.columns if c.on_create and c.name not in create_required
          and c.name not in resource.exactly_one_on_create], "Create: one request per row"),
        (resource.update, "UPDATE", [deployment, key], [c.name for c in resource.columns if c.on_update],
         f"Update: one request per row with the SET columns; {keyed}"),
        (resource.delete, "DELETE", [deployment, key], [], f"Delete: one request per row; {keyed}"),
    ]
    rows: Rows = [(endpoint.path.rsplit("/", 1)[-1], verb, _names(required), _names(optional), text)
                  for endpoint, verb, required, optional, text in verbs if endpoint is not None]
    for method in resource.exec_methods:
        required = _unique([deployment] + [p.name for p in method.params if p.required])
        optional = [p.name for p in method.params if p.name not in required]
        rows.append((method.name, "EXEC", _names(required, "@"), _names(optional, "@"), method.description))
    return ("method", "sql_verb", "required_params", "optional_params", "description"), rows


def _create_required(resource: Resource) -> list[str]:
    one_of = "|".join(resource.exactly_one_on_create)
    required = [resource.deployment_param] + [c.name for c in resource.columns if c.required_on_create]
    return required + ([one_of] if one_of else [])


def insert_template(resource: Resource, required_only: bool = False) -> tuple[tuple[str, ...], Rows]:
    """One row: an `INSERT ... SELECT` with a `'{{ name }}'` placeholder per column a create takes.

    Required columns come first (marked `/* required */`), then the optional ones in alphabetical order,
    then the workspace parameter; with `required_only`, the optional ones are left out but a group the
    create needs exactly one of stays, marked so. The whole object comes back as `RETURNING <key>` when
    the create answers one (e.g. `webhook`).
    """
    if resource.create is None:
        raise ProgrammingError(f"{resource.qualified_name} takes no INSERT (it has no create method)")
    takes = [c for c in resource.columns if c.on_create]
    required = [c for c in takes if c.required_on_create]
    group = [c for c in takes if c.name in resource.exactly_one_on_create]
    optional = sorted((c for c in takes if c not in required and (not required_only or c in group)),
                      key=lambda c: c.name)
    one_of = f"/* exactly one of {', '.join(resource.exactly_one_on_create)} */"
    names, values = [], []
    for column in required + optional:
        mark = " /* required */" if column in required else f" {one_of}" if required_only else ""
        names.append(column.name)
        values.append(_placeholder(column.name, column.sql_type) + mark)
    deployment = resource.param(resource.deployment_param)
    names.append(deployment.name)
    values.append(_placeholder(deployment.name, deployment.sql_type))
    returning = f"RETURNING\n{resource.create.response_key}\n" if resource.create.response_key else ""
    text = (f"INSERT INTO {resource.qualified_name} (\n" + ",\n".join(names) + "\n)\nSELECT\n"
            + ",\n".join(values) + "\n" + returning + ";")
    return ("insert_statement",), [(text,)]


def _placeholder(name: str, sql_type: str) -> str:
    """`'{{ name }}'` for text (JSON included), `{{ name }}` for a number."""
    return f"{{{{ {name} }}}}" if sql_type == "INTEGER" else f"'{{{{ {name} }}}}'"


def _required_hint(tokens: list[Token]) -> bool:
    """True for `/*+ REQUIRED */` between SHOW INSERT and INTO; another hint is an error."""
    hints = [c.strip()[1:].split() for t in tokens for c in t.comments if c.strip().startswith("+")]
    words = {w.upper().strip(",") for hint in hints for w in hint}
    if words - {"REQUIRED"}:
        raise StatementError(f"SHOW INSERT: unknown hint {', '.join(sorted(words - {'REQUIRED'}))}; "
                             f"the one hint is /*+ REQUIRED */")
    return bool(words)


def resources(service: str | None = None) -> tuple[tuple[str, ...], Rows]:
    """Every resource (only those under `service`, e.g. databricks_workspace.ml, when given)."""
    prefix = service.lower() + "." if service else ""
    rows = [(r.name, r.qualified_name, r.description) for r in RESOURCES if r.qualified_name.startswith(prefix)]
    return ("name", "stackql_name", "description"), rows


def column_notes(resource: Resource, column: Column) -> list[str]:
    """Short facts about a column, derived from the definition."""
    notes = []
    if column.name == resource.key:
        notes.append("key")
    if column.is_json:
        notes.append(f"JSON {column.kind}")
    if column.choices:
        notes.append(f"{len(column.choices)} allowed values" if column.is_json else "one of " + ", ".join(column.choices))
    if column.required_fields:
        notes.append("must have " + ", ".join(column.required_fields))
    if column.write_only_fields:
        notes.append("write-only " + ", ".join(f"{column.name}.{f}" for f in sorted(column.write_only_fields)))
    if column.required_on_create:
        notes.append("required on INSERT")
    if column.name in resource.exactly_one_on_create:
        notes.append("INSERT takes exactly one of " + ", ".join(resource.exactly_one_on_create))
    if column.name in resource.immutable:
        notes.append("cannot be changed")
    elif not (column.on_create or column.on_update) and (resource.create or resource.update):
        notes.append("set by the workspace")
    if any(p.column == column.name and p.mode != "pass" for p in resource.list.pushdowns):
        notes.append("filter sent to the API")
    return notes


def param_notes(resource: Resource, param: Param) -> list[str]:
    """Short facts about a hidden parameter."""
    notes = ["which workspace"] if param.name == resource.deployment_param else []
    if any(p.column == param.name for p in resource.list.pushdowns):
        notes.append("sent to the API")
    return notes


def resource_named(name: str) -> Resource:
    """The resource for a short or StackQL name; a one-line ProgrammingError naming the known ones."""
    resource = lookup(name)
    if resource is None:
        known = ", ".join(f"{r.qualified_name} ({r.name})" for r in RESOURCES)
        raise ProgrammingError(f"unknown resource {name!r}; known resources: {known}")
    return resource


# --- reading the statement ------------------------------------------------------------------------
def _tokens(text: str) -> list[Token]:
    """The statement's tokens (comments and a trailing ';' dropped); quoted names come unquoted."""
    try:
        tokens = FRONT.tokenize(text)
    except TokenError:
        raise StatementError(f"cannot read {text.strip()!r}: unterminated string or quoted name") from None
    return [t for t in tokens if t.token_type != TokenType.SEMICOLON]


def _one_name(tokens: list[Token]) -> str:
    """`a.b.c`, `"a.b.c"`, `a."b"`... -> 'a.b.c'; anything else is an error."""
    parts, dots = tokens[0::2], tokens[1::2]
    if (not parts or len(dots) != len(parts) - 1 or any(d.token_type != TokenType.DOT for d in dots)
            or any(p.token_type in (TokenType.DOT, TokenType.STRING) for p in parts)):
        raise StatementError(f"expected one resource name, e.g. {RESOURCES[0].qualified_name}; the forms are {FORMS}")
    return ".".join(p.text for p in parts)


def _names(names: Any, prefix: str = "") -> str:
    return ", ".join(prefix + n for n in names)


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _described(description: str, choices: tuple[str, ...]) -> str:
    return f"{description}. Allowed: {', '.join(choices)}" if choices else description

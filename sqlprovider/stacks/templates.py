"""Jinja2 for stacks: the environment with stackql-deploy's filters, props rendered to values, and SQL
rendered so that a value can only ever become a properly quoted literal.

Two kinds of rendering:

- **Props and globals** (`render_value`) produce values, not SQL: a text that is exactly one placeholder
  (`"{{ events }}"`) takes the variable's value with its type (a list stays a list); any other text renders
  to text. A *bare* placeholder (unquoted in the YAML, see manifest.py) is read as YAML reads a value written
  there, so `{{ enable_ssl_verification }}` given `false` is the boolean. In a mapping or a list an entry
  that renders empty is left out, a list entry that renders to a list is spliced in, and a mapping or list
  left empty is the empty value: "not given", as INSERT reads `''`.
- **Queries** (`render_sql`): every `{{ ... }}` is first rendered to a marker; then the text is scanned as
  SQL and each marker replaced according to where it stands: inside '...' (or "..."), the value's text
  with the quote doubled; outside quotes, one SQL literal (a quoted string, a number, NULL, TRUE or FALSE).
  `sql_escape` marks its value as escaped already, so the quote is doubled once, not twice; `sql_list`
  gives a list of quoted literals. A value can therefore never end a literal or add SQL of its own.

jinja2 and yaml are imported here and manifest.py only: `sqlprovider stack` loads them, nothing else does.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import jinja2
import jinja2.sandbox
import yaml

from sqlprovider.errors import TemplateError

_EXACT = re.compile(r"\s*\{\{(?P<expr>(?:(?!\}\}|\{\{|\{%|\{#).)*)\}\}\s*", re.DOTALL)
_MARK = "\x00"
_MARKER = re.compile("\x00(\\d+)\x00")


class Bare(str):
    """A value written unquoted in the YAML as `{{ ... }}` (manifest.py reads it as this template text)."""


class SqlEscaped(str):
    """`x | sql_escape`: the quotes doubled, for templates written for stackql-deploy. Keeps the original,
    which render_sql quotes itself, so a value is escaped exactly once."""

    original: str

    def __new__(cls, original: str) -> SqlEscaped:
        obj = super().__new__(cls, original.replace("'", "''"))
        obj.original = original
        return obj


class SqlFragment(str):
    """SQL text built by a filter from quoted literals (`sql_list`): passed through outside quotes."""


# --- the filters (stackql-deploy's names and meanings) -------------------------------------------------
def from_json(value: Any) -> Any:
    """JSON text -> value (a value that is not text is returned as it is)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"from_json: not JSON ({exc.msg} at character {exc.pos}): {value[:40]!r}") from None


def tojson(value: Any) -> str:
    """Value -> compact JSON text (quoting for SQL is render_sql's job, so nothing is HTML-escaped)."""
    return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)


def sql_escape(value: Any) -> SqlEscaped | None:
    """Double the single quotes (stackql-deploy's filter); render_sql undoes it before quoting once."""
    return None if value is None else SqlEscaped(_text(value))


def sql_list(value: Any) -> SqlFragment:
    """A list (or JSON array text) -> `('a','b')` for IN; `(NULL)` when empty."""
    items = from_json(value) if isinstance(value, str) and value.lstrip().startswith("[") else value
    if isinstance(items, str) or not isinstance(items, (list, tuple)):
        items = [items]
    if not items:
        return SqlFragment("(NULL)")
    return SqlFragment("(" + ",".join(_literal(item) for item in items) + ")")


def base64_encode(value: Any) -> str:
    return base64.b64encode(_text(value).encode()).decode()


def merge_lists(first: Any, second: Any) -> list[Any]:
    """The items of both (lists or JSON array texts), each once, in order of first appearance."""
    merged: list[Any] = []
    for item in _as(first, list, "merge_lists") + _as(second, list, "merge_lists"):
        if item not in merged:
            merged.append(item)
    return merged


def merge_objects(first: Any, second: Any) -> dict[str, Any]:
    """Both mappings (or JSON object texts) merged; the second wins on a shared key."""
    return {**_as(first, dict, "merge_objects"), **_as(second, dict, "merge_objects")}


def _as(value: Any, kind: type, name: str) -> Any:
    value = from_json(value)
    if not isinstance(value, kind):
        raise TemplateError(f"{name}: expected a {'list' if kind is list else 'mapping'} (or its JSON text), "
                            f"got {type(value).__name__}")
    return list(value) if kind is list else dict(value)


FILTERS = {"from_json": from_json, "tojson": tojson, "sql_escape": sql_escape, "sql_list": sql_list,
           "base64_encode": base64_encode, "merge_lists": merge_lists, "merge_objects": merge_objects}


def environment(strict: bool) -> jinja2.Environment:
    """A sandboxed Jinja2 environment with the filters. `strict`: an undefined variable is an error (queries);
    otherwise it renders empty, as in stackql-deploy (props: the seed's job_spec fields are left unset)."""
    env = jinja2.sandbox.SandboxedEnvironment(
        autoescape=False, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined if strict else jinja2.ChainableUndefined)
    env.filters.update(FILTERS)
    env.globals["uuid"] = lambda: str(uuid.uuid4())
    return env


# --- props and globals: values ----------------------------------------------------------------------
def render_value(env: jinja2.Environment, value: Any, context: Mapping[str, Any], where: str) -> Any:
    """A prop or global value rendered (see the module docstring); '' means "not given"."""
    if isinstance(value, Mapping):
        rendered = {str(k): render_value(env, v, context, f"{where}.{k}") for k, v in value.items()}
        kept = {k: v for k, v in rendered.items() if not _empty(v)}
        return kept or ""
    if isinstance(value, list):
        items: list[Any] = []
        for i, item in enumerate(value):
            rendered = render_value(env, item, context, f"{where}[{i}]")
            items.extend(rendered if isinstance(rendered, list) and not isinstance(item, list) else [rendered])
        kept_items = [item for item in items if not _empty(item)]
        return kept_items or ""
    if not isinstance(value, str) or ("{{" not in value and "{%" not in value):
        return value
    exact = _EXACT.fullmatch(value)
    try:
        if exact:
            result = env.compile_expression(exact.group("expr"), undefined_to_none=False)(**context)
            result = "" if isinstance(result, jinja2.Undefined) or result is None else result
        else:
            result = env.overlay(finalize=_text).from_string(value).render(**context)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{where}: {_reason(exc)}") from None
    if isinstance(value, Bare) and isinstance(result, str):
        result = _yaml_scalar(result)
    return "" if result is None else result


def _yaml_scalar(text: str) -> Any:
    """Rendered text as YAML reads a bare scalar written there: `true` -> True, `3` -> 3, `` -> ''."""
    try:
        loaded = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError:
        return text
    return loaded if isinstance(loaded, (str, bool, int, float)) or loaded is None else text


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- queries: SQL text -----------------------------------------------------------------------------------
def render_sql(env: jinja2.Environment, template: str, context: Mapping[str, Any], where: str) -> str:
    """A query template rendered so that every value lands as a properly quoted SQL literal."""
    if _MARK in template:
        raise TemplateError(f"{where}: the query contains a NUL character")
    values: list[Any] = []

    def finalize(value: Any) -> str:
        if isinstance(value, jinja2.Undefined):
            str(value)  # StrictUndefined raises here, naming the variable
        values.append(value)
        return f"{_MARK}{len(values) - 1}{_MARK}"

    marked_env = env.overlay(finalize=finalize)
    try:
        marked = marked_env.from_string(template).render(**context)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{where}: {_reason(exc)}") from None
    return _substitute(marked, values, where)


def _substitute(text: str, values: list[Any], where: str) -> str:
    """Replace each marker by its value, quoted for the SQL context the marker stands in."""
    out: list[str] = []
    i, state, n = 0, "", len(text)
    while i < n:
        ch = text[i]
        if ch == _MARK:
            match = _MARKER.match(text, i)
            out.append(_in_context(values[int(match.group(1))], state, where))
            i = match.end()
            continue
        out.append(ch)
        if state == "":
            if ch in "'\"`[":
                state = {"[": "]"}.get(ch, ch)
            elif text.startswith("--", i):
                state, out[-1], i = "\n", "--", i + 1
            elif text.startswith("/*", i):
                state, out[-1], i = "*/", "/*", i + 1
        elif state == "*/" and text.startswith("*/", i):
            out[-1], state, i = "*/", "", i + 1
        elif state == ch and state != "*/":
            if state in "'\"`" and text.startswith(ch * 2, i):
                out.append(ch)  # a doubled quote stays inside the literal
                i += 1
            else:
                state = ""
        i += 1
    return "".join(out)


def _in_context(value: Any, state: str, where: str) -> str:
    if state in ("'", '"', "`"):
        return _raw(value).replace(state, state * 2)
    if state == "]":
        text = _raw(value)
        if "]" in text:
            raise TemplateError(f"{where}: a value with ']' cannot stand inside [...]; use \"...\" there")
        return text
    if state == "\n":  # a line comment: the value must not end it
        return " ".join(_raw(value).splitlines())
    if state == "*/":
        return _raw(value).replace("*/", "* /")
    if isinstance(value, SqlFragment):
        return str(value)
    return _literal(value)


def _literal(value: Any) -> str:
    """One SQL literal for a value standing outside quotes."""
    if value is None or isinstance(value, jinja2.Undefined):
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + _raw(value).replace("'", "''") + "'"


def _raw(value: Any) -> str:
    """A value's text, an escaped one unescaped (the caller quotes it once)."""
    if isinstance(value, SqlEscaped):
        return value.original
    return _text(value)


def _text(value: Any) -> str:
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return tojson(value)
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, SqlEscaped):
        return value.original
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _reason(exc: jinja2.TemplateError) -> str:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"template syntax error on line {exc.lineno}: {exc.message}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"{exc.message}: define it (a global, a prop, an export of an earlier resource, or -e NAME=VALUE)"
    return str(exc.message or exc)


def referenced(env: jinja2.Environment, template: str) -> set[str]:
    """The variable names a template refers to (for the order of resources that depend on exports)."""
    from jinja2 import meta

    try:
        return set(meta.find_undeclared_variables(env.parse(template)))
    except jinja2.TemplateSyntaxError:
        return set()

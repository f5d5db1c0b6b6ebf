"""`stackql_manifest.yml` as stackql-deploy reads it: globals, resources in order, props, exports.

One extension, so that StackQL's generated manifest examples load as they stand: a value written unquoted
as `{{ ... }}` (the seed's `enable_ssl_verification: {{ enable_ssl_verification }}`) is not valid YAML (a
YAML loader reads `{` as the start of a flow mapping and fails). Such a value is read as its template text,
marked bare (templates.Bare), and after rendering it is typed as YAML would type a value written there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sqlprovider.errors import ProgrammingError
from sqlprovider.stacks.templates import Bare

MANIFEST = "stackql_manifest.yml"
TOP_KEYS = ("version", "name", "description", "providers", "globals", "resources", "exports")
RESOURCE_KEYS = ("name", "type", "file", "props", "exports", "protected", "if", "description")
PROP_KEYS = ("name", "value", "values", "description", "merge")
TYPES = ("resource", "query", "command")


class ManifestError(ProgrammingError):
    """The manifest or a query file is not as stackql-deploy defines it; the message names where."""


@dataclass(frozen=True)
class Prop:
    name: str
    value: Any = None
    values: Mapping[str, Any] | None = None  # stack_env -> value, from `values: {env: {value: ...}}`
    merge: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Export:
    column: str  # the column the exports query returns
    name: str  # the variable it is stored as (`- column: alias` renames)


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    type: str
    file: Path
    props: tuple[Prop, ...]
    exports: tuple[Export, ...]
    protected: frozenset[str]
    condition: str | None
    description: str = ""


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    description: str
    version: Any
    providers: tuple[str, ...]
    globals: tuple[Prop, ...]
    resources: tuple[ResourceSpec, ...]
    exports: tuple[str, ...]  # stack-level exports: what --output-file writes


def load(stack_dir: str | Path) -> Manifest:
    """Read and check STACK_DIR/stackql_manifest.yml; ManifestError names the first problem."""
    directory = Path(stack_dir)
    path = directory / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        what = "is not a directory" if not directory.is_dir() else f"has no {MANIFEST}"
        raise ManifestError(f"stack directory {str(directory)!r} {what}: give the directory that holds "
                            f"{MANIFEST} and resources/") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from None
    data = loads(text, str(path))
    if not isinstance(data, Mapping):
        raise ManifestError(f"{path}: expected a mapping with name, globals and resources")
    _known(data, TOP_KEYS, str(path))
    resources = _list(data.get("resources"), f"{path}: resources")
    if not resources:
        raise ManifestError(f"{path}: resources is empty: list the resources of the stack, in order")
    specs = tuple(_resource(item, directory, f"{path}: resources[{i}]") for i, item in enumerate(resources))
    names = [spec.name for spec in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ManifestError(f"{path}: resource {twice[0]!r} is listed twice: give each resource its own name")
    return Manifest(path=path, name=str(data.get("name") or directory.resolve().name),
                    description=str(data.get("description") or ""), version=data.get("version"),
                    providers=tuple(str(p) for p in _list(data.get("providers"), f"{path}: providers")),
                    globals=tuple(_prop(g, f"{path}: globals[{i}]")
                                  for i, g in enumerate(_list(data.get("globals"), f"{path}: globals"))),
                    resources=specs, exports=tuple(str(e) for e in _list(data.get("exports"), f"{path}: exports")))


def loads(text: str, where: str = MANIFEST) -> Any:
    """YAML text -> data, with bare `{{ ... }}` values read as template text (see the module docstring)."""
    try:
        return yaml.load(_quote_bare_placeholders(text), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(f"{where}: not valid YAML{at}: {problem}") from None


class _Loader(yaml.SafeLoader):
    """SafeLoader plus the `!bare` tag that _quote_bare_placeholders writes."""


_Loader.add_constructor("!bare", lambda loader, node: Bare(loader.construct_scalar(node)))

#: `key: {{ ... }}` or `- {{ ... }}` with the value unquoted (and an optional comment after it).
_BARE = re.compile(r"^(?P<lead>[ \t]*(?:-[ \t]+)*(?:[^\s'\"{\[#&*!|>%@`][^#]*?:[ \t]+)?)"
                   r"(?P<value>\{\{.*?)(?P<comment>[ \t]+#[^}]*)?[ \t]*$")
_BLOCK = re.compile(r"(?:^|[:\-][ \t]+)[|>][+\-0-9]*[ \t]*(?:#.*)?$")


def _quote_bare_placeholders(text: str) -> str:
    """Rewrite each unquoted `{{ ... }}` value as `!bare '...'`; block scalars (`|`, `>`) are left alone."""
    lines = text.splitlines(keepends=True)
    block_indent: int | None = None
    for i, line in enumerate(lines):
        body = line.rstrip("\r\n")
        indent = len(body) - len(body.lstrip(" "))
        if block_indent is not None:
            if not body.strip() or indent > block_indent:
                continue
            block_indent = None
        if _BLOCK.search(body):
            block_indent = indent
            continue
        match = _BARE.match(body)
        if match and match.group("lead").rstrip().endswith((":", "-")):  # not a continuation line of a value
            value = match.group("value").replace("'", "''")
            lines[i] = (f"{match.group('lead')}!bare '{value}'{match.group('comment') or ''}"
                        + line[len(body):])
    return "".join(lines)


def _resource(item: Any, directory: Path, where: str) -> ResourceSpec:
    if not isinstance(item, Mapping) or not item.get("name"):
        raise ManifestError(f"{where}: each resource needs a name (and props, exports...)")
    name = str(item["name"])
    where = f"{where} ({name})"
    _known(item, RESOURCE_KEYS, where)
    kind = str(item.get("type") or "resource")
    if kind not in TYPES:
        raise ManifestError(f"{where}: type {kind!r} is not supported; use one of {', '.join(TYPES)}")
    exports = []
    for entry in _list(item.get("exports"), f"{where}: exports"):
        if isinstance(entry, Mapping) and len(entry) == 1:
            (column, alias), = entry.items()
            exports.append(Export(str(column), str(alias)))
        elif isinstance(entry, str):
            exports.append(Export(entry, entry))
        else:
            raise ManifestError(f"{where}: exports: expected a name or `column: alias`, got {entry!r}")
    protected = frozenset(str(p) for p in _list(item.get("protected"), f"{where}: protected"))
    unknown = sorted(protected - {e.name for e in exports} - {e.column for e in exports})
    if unknown:
        raise ManifestError(f"{where}: protected {unknown[0]!r} is not one of its exports")
    props = tuple(_prop(p, f"{where}: props[{i}]") for i, p in enumerate(_list(item.get("props"), f"{where}: props")))
    condition = item.get("if")
    return ResourceSpec(name=name, type=kind, file=directory / "resources" / str(item.get("file") or f"{name}.iql"),
                        props=props, exports=tuple(exports), protected=protected,
                        condition=None if condition is None else str(condition),
                        description=str(item.get("description") or ""))


def _prop(item: Any, where: str) -> Prop:
    if not isinstance(item, Mapping) or not item.get("name"):
        raise ManifestError(f"{where}: expected name and value (or values)")
    where = f"{where} ({item['name']})"
    _known(item, PROP_KEYS, where)
    values = item.get("values")
    if "value" not in item and values is None and "merge" not in item:
        raise ManifestError(f"{where}: give value, or values per environment (values: {{dev: {{value: ...}}}})")
    if values is not None:
        if not isinstance(values, Mapping) or not all(isinstance(v, Mapping) and "value" in v for v in values.values()):
            raise ManifestError(f"{where}: values must map each environment to {{value: ...}}")
        values = {str(env): v["value"] for env, v in values.items()}
    merge = tuple(str(m) for m in _list(item.get("merge"), f"{where}: merge"))
    return Prop(name=str(item["name"]), value=item.get("value"), values=values, merge=merge,
                description=str(item.get("description") or ""))


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ManifestError(f"{where}: expected a list (lines starting with '- ')")
    return value


def _known(item: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    unknown = [str(k) for k in item if k not in keys]
    if unknown:
        raise ManifestError(f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(keys)}")

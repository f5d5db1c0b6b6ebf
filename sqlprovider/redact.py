"""Keep secrets out of everything shown: output, errors, logs, dry-run listings and history."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

MASK = "***"
#: Keys whose values are credentials, wherever they appear in a request or a config.
SECRET_KEYS = frozenset({"secret", "authorization", "access_token", "token", "client_secret", "password",
                         "refresh_token", "id_token"})

_KEYS = r"(?:secret|authorization|access_token|token|client_secret|password)"
_SQL_STRING = r"'(?:[^']|'')*'"
#: One operand of a SQL value: a string literal, or a bare word (number, column, parameter, NULL).
_OPERAND = rf"(?:{_SQL_STRING}|[\w.:@$?]+)"

_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (["']?{_KEYS}["']?\s*[:=]\s*)                   # key and : or =
    (<[^<>\r\n]*>                                    # a <placeholder>: kept
     |"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'               # a quoted value
     |[^\s,;)}}'"]+(?:['"]+[^\s,;)}}'"]+)*)         # a bare value (not the quote that closes an enclosing literal)
    """)
#: SQL that names a secret key in a string literal, then gives its value: json_object('secret', 'v'),
#: json_set(x, '$."secret"', 'a' || 'b'), json_extract(x, '$.secret') = 'v', x ->> 'secret' = 'v'.
_SQL_KEY_VALUE = re.compile(
    rf"""(?ix)
    ('(?:\$[^']*?\.)?"?{_KEYS}"?'                    # the key (or a JSON path ending in it) as a literal
     (?:\s*,|\s*\)?\s*(?:==?|!=|<>|\bIS(?:\s+NOT)?\b|\bLIKE\b|\bGLOB\b))\s*)   # then an argument or a comparison
    ({_OPERAND}(?:\s*\|\|\s*{_OPERAND})*)           # the value, concatenations included
    """)
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
#: scheme://user:password@host: the password.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@:'\"<>]*:)[^\s/?#@'\"<>]+(?=@)")
#: A Databricks personal access token, wherever it stands: dapi + 32 hex digits (and an optional -N).
_PERSONAL_ACCESS_TOKEN = re.compile(r"\bdapi[0-9a-fA-F]{32}(?:-\d+)?(?![0-9A-Za-z])")
#: Values that stand for a secret in help text rather than being one: "...", "<your token>", "".
_PLACEHOLDER = re.compile(r"<[^<>]*>|\.{2,}|\u2026|\**")


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with every secret-keyed value masked."""
    if isinstance(value, Mapping):
        return {k: (MASK if str(k).lower() in SECRET_KEYS and v not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_text(text: str) -> str:
    """Mask secrets in free text (SQL, log lines, error messages): `secret = '...'`, `"token": "..."`,
    `Bearer ...`, `json_object('secret', '...')` and the like, a URL's password, a bare `dapi...` token.

    Placeholders (`<your token>`, `...`) are left as they are, and a masked quoted value keeps its quotes.
    """
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    text = _SQL_KEY_VALUE.sub(_mask_sql_value, text)
    text = _ASSIGNMENT.sub(lambda m: m.group(1) + _quoted_mask(m.group(2)), text)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return _PERSONAL_ACCESS_TOKEN.sub(MASK, text)


def _mask_sql_value(match: re.Match[str]) -> str:
    key, value = match.group(1), match.group(2)
    if "'" not in value and not value.isdigit():  # a column, a parameter or NULL: nothing secret to mask
        return match.group(0)
    return key + _quoted_mask(value)


def _quoted_mask(value: str) -> str:
    """`value` masked, its quotes kept; a placeholder is returned as it is."""
    quote = value[:1] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1 else ""
    if _PLACEHOLDER.fullmatch(value[1:-1] if quote else value):
        return value
    return f"{quote}{MASK}{quote}"

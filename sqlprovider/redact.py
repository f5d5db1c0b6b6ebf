"""Keep secrets out of everything shown: output, errors, logs, dry-run listings and history."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

MASK = "***"
#: Keys whose values are credentials, wherever they appear in a request or a config.
SECRET_KEYS = frozenset({"secret", "authorization", "access_token", "token", "client_secret", "password",
                         "refresh_token", "id_token"})

_KEYS = r"(?:secret|authorization|access_token|token|client_secret|password)"
_SQL_STRING = r"'(?:[^']|'')*'"
#: One operand of a SQL value: a string literal, or a bare word (number, column, parameter, NULL).
_OPERAND = rf"(?:{_SQL_STRING}|[\w.:@$?]+)"

#: A bare value: not the quote that closes an enclosing literal. After ':' it counts only as the last word of
#: its clause (`token: abc`, `"token": abc,`), so prose (`missing access_token: give a JSON object`) stays whole.
_BARE = r"""[^\s,;)}}'"]+(?:['"]+[^\s,;)}}'"]+)*"""
_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (["']?{_KEYS}["']?\s*(?:=|:(?=\s*["'<])|:(?=\s*(?>{_BARE})(?![ \t]+\S)))\s*)   # key, then = or : (see below)
    (<[^<>\r\n]*>                                    # a <placeholder>: kept
     |"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'               # a quoted value
     |{_BARE})                                       # a bare value
    """)
#: SQL that names a secret key in a string literal, then gives its value: json_object('secret', 'v'),
#: json_set(x, '$."secret"', 'a' || 'b'), json_extract(x, '$.secret') = 'v', x ->> 'secret' = 'v'.
_SQL_KEY_VALUE = re.compile(
    rf"""(?ix)
    ('(?:\$[^']*?\.)?"?{_KEYS}"?'                    # the key (or a JSON path ending in it) as a literal
     (?:\s*,|\s*\)?\s*(?:==?|!=|<>|\bIS(?:\s+NOT)?\b|\bLIKE\b|\bGLOB\b))\s*)   # then an argument or a comparison
    ({_OPERAND}(?:\s*\|\|\s*{_OPERAND})*)           # the value, concatenations included
    """)
_BEARER = re.compile(r"(?i)\b(bearer\s+|authorization[\"']?\s*[:=]\s*[\"']?basic\s+)[A-Za-z0-9._~+/=-]+")
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


# --- SQL literals: what history and error messages never quote -------------------------------------------
#: SQLite's tokens as its tokenizer (tokenize.c) cuts them, enough to find every literal: an unterminated
#: string, blob, quoted name or comment runs to the end of the text, as SQLite reads it.
_SQL_TOKEN = re.compile(r"""(?xs)
     (?P<space>[ \t\n\f\r]+)
    |(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<blob>[xX]'[^']*(?:'|\Z))
    |(?P<string>'(?:[^']|'')*(?:'|\Z))
    |(?P<quoted>"(?:[^"]|"")*(?:"|\Z))
    |(?P<name>`(?:[^`]|``)*(?:`|\Z)|\[[^\]]*(?:\]|\Z)|[^\W\d][\w$]*)
    |(?P<number>(?:\d|\.\d)(?:[\w.]|(?<=[eE])[+-])*)
    |(?P<parameter>\?\d*|[:@$][\w$]+(?:::[\w$]+)*)
    |(?P<other>.)
    """)
#: What each kind of literal is called in a message that must not quote it.
LITERAL_KINDS = {"string": "string literal", "blob": "blob literal", "number": "number",
                 "quoted": "double-quoted name"}


def sql_tokens(sql: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of every token of `sql`, whitespace and comments included: kinds are space,
    comment, string, blob, quoted (a "name", which SQLite may read as a string), name, number, parameter,
    other."""
    for match in _SQL_TOKEN.finditer(sql):
        yield match.lastgroup or "other", match.start(), match.end()


def mask_literals(sql: str, keep_name: Callable[[str], bool] = lambda name: False, mask: str = "?") -> str:
    """`sql` with every literal (string, blob, number; a double-quoted name unless `keep_name` knows it)
    replaced by `mask` and every comment by a space: the statement's shape without any value it carried."""
    pieces: list[str] = []
    for kind, start, end in sql_tokens(sql):
        text = sql[start:end]
        if kind == "comment":
            text = " "
        elif kind in LITERAL_KINDS and not (kind == "quoted" and keep_name(text[1:-1].replace('""', '"'))):
            text = mask
        pieces.append(text)
    return "".join(pieces)


def sql_error_text(message: str, sql: str, offset: int = -1) -> str:
    """A message SQLite gave about `sql`, quoting none of its literals: `near "'S...'": syntax error` becomes
    `near the 2nd string literal (line 1): syntax error`; a literal's text anywhere else in the message (a
    JSON path, a RAISE message) is replaced the same way. `offset` (SQLite's, in UTF-8 bytes) picks the
    token `near` means when two literals are alike."""
    at = len(sql.encode()[:offset].decode(errors="ignore")) if offset >= 0 else -1
    found = [(kind, start, end) for kind, start, end in sql_tokens(sql) if kind in LITERAL_KINDS]
    totals = {kind: sum(k == kind for k, _, _ in found) for kind in LITERAL_KINDS}
    counts = dict.fromkeys(LITERAL_KINDS, 0)
    named: list[tuple[str, str]] = []  # (text to replace, its description)
    for kind, start, end in found:
        counts[kind] += 1
        nth = f"{_ordinal(counts[kind])} " if totals[kind] > 1 else ""
        what = f"the {nth}{LITERAL_KINDS[kind]} (line {sql.count(chr(10), 0, start) + 1})"
        source = sql[start:end]
        if start <= at < end:  # the token SQLite stopped at: its near "X" means this one
            message = message.replace(f'"{source}"', what, 1)
        named.append((f'"{source}"', what))  # SQLite's near "X" and unrecognized token: "X"
        inner = source[2:-1] if kind == "blob" else source[1:-1] if kind in ("string", "quoted") else ""
        if len(inner) >= 3:  # shorter is no secret, and replacing it would garble the message
            named += [(source, what), (inner, what)]
    for text, what in sorted(named, key=lambda pair: len(pair[0]), reverse=True):
        edges = (r"(?<!\w)" if text[0].isalnum() else "", r"(?!\w)" if text[-1].isalnum() else "")
        message = re.sub(edges[0] + re.escape(text) + edges[1], lambda _: what, message)
    return message


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"

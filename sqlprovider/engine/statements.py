"""The statement front end: what happens to SQL text before SQLite sees it.

Pure functions over text (no connection, no HTTP): split a script into statements, rewrite StackQL
resource names, classify a statement, peel RETURNING off, parse EXEC, fill `{{ }}` templates.
Everything works on the original text by splicing at sqlglot token offsets, so the rest of the
user's SQL reaches SQLite byte-for-byte; the sqlglot parser is used only where a tree is needed.

sqlglot (and our dialects of it, dialects.py) is imported inside the functions that need it: importing it
takes about 100 ms, as long as the rest of a cold start, and a plain statement (see `_plain`) is split,
classified and passed through without it, so `sqlprovider exec -e "SELECT 1"` never loads it.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import apsw

from sqlprovider.errors import StatementError, TemplateError
from sqlprovider.redact import mask_literals

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.errors import ParseError
    from sqlglot.tokens import Token

EXEC_FORM = "EXEC <resource>.<method> @param='value' ..."

# First keyword -> statement kind (WITH looks further, see statement_kind).
KINDS: dict[str, str] = {
    "SELECT": "select", "VALUES": "select",
    "INSERT": "insert", "REPLACE": "insert", "UPDATE": "update", "DELETE": "delete",
    "EXEC": "exec", "EXECUTE": "exec", "DESCRIBE": "describe", "DESC": "describe", "SHOW": "show",
}
WRITES = ("insert", "update", "delete")

# Inside a quoted token (by its closing character) a placeholder's value is escaped by doubling
# the quote; SQLite cannot escape ']' in a [name].
CLOSING_QUOTES: dict[str, str] = {"'": "''", '"': '""', "`": "``", "]": "]"}


@dataclass(frozen=True)
class Statement:
    """One statement of a script: its text (no trailing ';') and the line where it starts."""

    text: str
    line: int


@dataclass(frozen=True)
class Query:
    """An EXEC parameter given as `(SELECT ...)`: the connection runs it and uses its single value."""

    text: str


@dataclass(frozen=True)
class ExecStatement:
    """A parsed `EXEC resource.method @param=value ...`."""

    resource: str
    method: str
    params: dict[str, object]
    json_params: dict[str, object] | None


# --- plain statements: no sqlglot needed ---------------------------------------------------------
#: Text whose sqlglot tokens are plain to see: ASCII words, numbers, whitespace, operators and '...' strings
#: (not right after a word: X'..' is a blob); no comment, quoted name, dot, parameter, brace, backslash or
#: NUL (`-` and `/` only where they start no comment). Splitting, classifying, name rewriting and templates
#: then need no tokenizer; tests/test_plain_sql.py checks that they answer as the tokenizer would.
_PLAIN = re.compile(r"(?:[\w \t\r\n,()*=<>!;+%|&~^]++|-(?!-)|/(?!\*)|(?<!\w)'[^'\\{}\0]*+')*+", re.ASCII)
_PLAIN_SEMICOLON = re.compile(r"'[^']*+'|;")  # a ';' outside strings (or a string, skipped)
_PLAIN_FIRST_WORD = re.compile(r"[ \t\r\n]*+(\w*)", re.ASCII)
_WHITESPACE = " \t\r\n"


def _plain(sql: str) -> bool:
    return _PLAIN.fullmatch(sql) is not None


def _plain_kind(sql: str) -> str | None:
    """statement_kind of a plain statement; None for WITH (whose verb is further on)."""
    word = _PLAIN_FIRST_WORD.match(sql).group(1).upper()  # '' when it starts with '(', a string...
    return None if word == "WITH" else KINDS.get(word, "other")


def _split_plain(script: str) -> list[Statement]:
    """split_statements of a plain script: at each ';' outside strings where SQLite sees a statement end."""
    statements: list[Statement] = []
    start = 0
    for match in _PLAIN_SEMICOLON.finditer(script):
        if match.group() == ";" and apsw.complete(script[start:match.end()]):
            _add_plain_statement(statements, script, start, match.start())
            start = match.end()
    _add_plain_statement(statements, script, start, len(script))
    return statements


def _add_plain_statement(statements: list[Statement], script: str, start: int, end: int) -> None:
    text = script[start:end].strip(_WHITESPACE)
    if text:
        first = start + len(script[start:end]) - len(script[start:end].lstrip(_WHITESPACE))
        statements.append(Statement(text, _line(script, first)))


# --- tokens ---------------------------------------------------------------------------------------
def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _tokens(sql: str, error: type[Exception] = StatementError) -> list[Token]:
    """Tokenize with sqlglot's SQLite tokenizer; comments are not tokens (they sit between spans)."""
    return list(_tokenize(sql, error))


@lru_cache(maxsize=64)
def _tokenize(sql: str, error: type[Exception]) -> tuple[Token, ...]:
    """_tokens, remembered: one write statement is classified, split and inspected by several functions."""
    if "\0" in sql:  # SQLite's API cannot take it; say so here rather than as a ValueError later
        raise error(f"line {_line(sql, sql.index(chr(0)))}: the SQL text contains a NUL character (\\x00): "
                    f"remove it (in a value, bind it as a parameter instead)")
    from sqlglot.errors import TokenError

    from sqlprovider.engine import dialects

    front = dialects.FRONT
    tokenizer = front.tokenizer_class(front)
    try:
        return tuple(tokenizer.tokenize(sql))
    except TokenError:
        done = tokenizer.tokens
        rest = done[-1].end + 1 if done else 0
        start = rest + len(sql[rest:]) - len(sql[rest:].lstrip())
        raise error(f"line {_line(sql, start)}: unterminated string, quoted name or comment: "
                    f"close it with its matching quote or */") from None


def _source(sql: str, token: Token) -> str:
    return sql[token.start:token.end + 1]


def _top_level(tokens: list[Token]) -> Iterator[tuple[int, Token]]:
    """Yield (index, token) for tokens outside any parentheses."""
    from sqlglot.tokens import TokenType

    depth = 0
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif depth == 0:
            yield i, token


def _one_line(exc: ParseError, first_line: int = 1) -> str:
    """sqlglot's first error description and line, without its multi-line highlight."""
    error = exc.errors[0] if exc.errors else {}
    description = error.get("description") or str(exc).splitlines()[0]
    description = re.sub(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: .*?>", _token_word, description)
    return f"{description} (line {error['line'] + first_line - 1})" if error.get("line") else description


#: sqlglot token types that are literals: a message names their kind, never their text (it may be a secret).
_LITERAL_TOKENS = {"STRING": "a string literal", "NATIONAL_STRING": "a string literal", "HEX_STRING": "a blob literal",
                   "BIT_STRING": "a blob literal", "BYTE_STRING": "a blob literal", "RAW_STRING": "a string literal",
                   "NUMBER": "a number"}


def _token_word(match: re.Match[str]) -> str:
    kind, text = match.group(1), match.group(2)
    if text == "SENTINEL":
        return "the end of the statement"
    return _LITERAL_TOKENS.get(kind) or (repr(text) if kind != "IDENTIFIER" else "a quoted name")


# --- scripts --------------------------------------------------------------------------------------
def split_statements(script: str) -> list[Statement]:
    """Split a script at top-level ';' (not inside strings, comments or trigger bodies)."""
    if _plain(script):
        return _split_plain(script)
    from sqlglot.tokens import TokenType

    tokens = _tokens(script)
    statements: list[Statement] = []
    first, start = 0, 0
    for i, token in enumerate(tokens):
        if token.token_type == TokenType.SEMICOLON and apsw.complete(script[start:token.end + 1]):
            _add_statement(statements, script, tokens[first:i])
            first, start = i + 1, token.end + 1
    _add_statement(statements, script, tokens[first:])
    return statements


def _add_statement(statements: list[Statement], script: str, body: list[Token]) -> None:
    if body:
        text = script[body[0].start:body[-1].end + 1]
        statements.append(Statement(text, _line(script, body[0].start)))


def statement_kind(sql: str) -> str:
    """'select', 'insert', 'update', 'delete', 'exec', 'describe', 'show' or 'other'."""
    kind = _plain_kind(sql) if _plain(sql) else None
    if kind is not None:
        return kind
    tokens = _tokens(sql)
    if not tokens:
        return "other"
    word = _source(sql, tokens[0]).split()[0].upper()
    if word == "WITH":
        verbs = (_source(sql, t).upper() for _, t in _top_level(tokens[1:]))
        word = next((v for v in verbs if KINDS.get(v) in ("select", *WRITES)), "")
    return KINDS.get(word, "other")


# --- names ----------------------------------------------------------------------------------------
def rewrite_names(sql: str, names: Mapping[str, str]) -> str:
    """Replace each resource name (a key of `names`, lower-case, dotted or not) by its value; a name after a
    dot (`snap.name`) or inside a literal is left alone."""
    if not names:
        return sql
    if _plain(sql):  # no dots and only simple strings: the words outside strings are the names
        words = [name for name in names if "." not in name]
        if not words:
            return sql
        found = re.compile(r"'[^']*'|\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
        return found.sub(lambda m: names[m.group(1).lower()] if m.group(1) else m.group(), sql)
    from sqlglot.tokens import TokenType

    def is_name(token: Token) -> bool:
        return token.token_type == TokenType.IDENTIFIER or _source(sql, token).isidentifier()

    tokens = _tokens(sql)
    edits: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        if not is_name(tokens[i]) or (i and tokens[i - 1].token_type == TokenType.DOT):
            i += 1
            continue
        parts = [tokens[i]]
        while (i + 2 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT
               and is_name(tokens[i + 2])):
            i += 2
            parts.append(tokens[i])
        for k in range(len(parts), 0, -1):  # the longest prefix that is a known name
            key = ".".join(part.text for part in parts[:k]).lower()
            if key in names:
                edits.append((parts[0].start, parts[k - 1].end + 1, names[key]))
                break
        i += 1
    for start, end, short in reversed(edits):
        sql = sql[:start] + short + sql[end:]
    return sql


# --- RETURNING ------------------------------------------------------------------------------------
def split_returning(sql: str) -> tuple[str, list[str] | None]:
    """Cut the top-level RETURNING clause off a write; return (statement, expressions or None)."""
    if statement_kind(sql) not in WRITES:
        return sql, None
    from sqlglot import exp
    from sqlglot.errors import ParseError
    from sqlglot.tokens import TokenType

    from sqlprovider.engine import dialects

    tokens = _tokens(sql)
    at = next((i for i, t in _top_level(tokens) if t.token_type == TokenType.RETURNING), None)
    if at is None:
        return sql, None
    head, rest = sql[:tokens[at - 1].end + 1], sql[tokens[at].end + 1:]
    hint = "list columns or expressions, e.g. RETURNING id, webhook"
    try:
        trees = [t for t in dialects.FRONT.parse("SELECT " + rest) if t is not None]
    except ParseError as exc:
        line = _line(sql, tokens[at].end)
        raise StatementError(f"cannot read the RETURNING clause: {_one_line(exc, line)}; {hint}") from None
    tree = trees[0] if len(trees) == 1 else None
    if not isinstance(tree, exp.Select) or not tree.expressions or any(
            v for k, v in tree.args.items() if k != "expressions"):
        raise StatementError(f"cannot read the RETURNING clause {mask_literals(rest.strip())!r}; {hint}")
    return head, _returning_items(rest, tree.expressions)


def _returning_items(rest: str, parsed: list[exp.Expr]) -> list[str]:
    """Each RETURNING item as the user wrote it (so result columns keep the user's names); an item that
    carries a comment is regenerated by sqlglot instead, since the items are joined onto one line."""
    from sqlglot.tokens import TokenType

    tokens = _tokens(rest)
    groups: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            break
        depth += token.token_type == TokenType.L_PAREN
        depth -= token.token_type == TokenType.R_PAREN
        if depth == 0 and token.token_type == TokenType.COMMA:
            groups.append([])
        else:
            groups[-1].append(token)
    if len(groups) != len(parsed):
        return [e.sql(dialect="sqlite", comments=False) for e in parsed]
    return [e.sql(dialect="sqlite", comments=False) if any(t.comments for t in group)
            else rest[group[0].start:group[-1].end + 1] for group, e in zip(groups, parsed)]


# --- writes ---------------------------------------------------------------------------------------
_BEFORE_TARGET = {"OR", "ROLLBACK", "ABORT", "REPLACE", "FAIL", "IGNORE", "INTO", "FROM"}  # INSERT OR IGNORE INTO t


def write_target(sql: str) -> str | None:
    """The lower-cased name of the table an INSERT/REPLACE/UPDATE/DELETE writes to (after any WITH), else None.

    Read from the tokens, not a parse, so every form SQLite takes works (`?1` parameters, REPLACE INTO,
    RETURNING, a schema prefix): the first top-level verb, its conflict clause and INTO/FROM, then the name.
    """
    if statement_kind(sql) not in WRITES:
        return None
    from sqlglot.tokens import TokenType

    top = [token for _, token in _top_level(_tokens(sql))]
    words = [_source(sql, token).upper() for token in top]
    i = next((i for i, word in enumerate(words) if KINDS.get(word) in WRITES), len(top)) + 1
    while i < len(top) and words[i] in _BEFORE_TARGET:
        i += 1
    name = None
    while i < len(top) and (top[i].token_type == TokenType.IDENTIFIER or top[i].text.isidentifier()):
        name = top[i].text  # main.t: the last part
        if i + 1 < len(top) and top[i + 1].token_type == TokenType.DOT:
            i += 2
            continue
        break
    return name.lower() if name else None


def sets_only_values(sql: str) -> bool:
    """True for an UPDATE whose SET values read no column, so they can be sent without the old row."""
    from sqlglot import exp

    tree = _front_tree(sql)
    return isinstance(tree, exp.Update) and not any(a.expression.find(exp.Column) for a in tree.expressions)


@lru_cache(maxsize=32)
def _front_tree(sql: str) -> exp.Expr | None:
    """The parse of one statement, or None; cached (and so shared: read it, never change it)."""
    from sqlglot.errors import ParseError, TokenError

    from sqlprovider.engine import dialects

    try:
        trees = dialects.FRONT.parse(sql)
    except (ParseError, TokenError):
        return None
    return trees[0] if trees else None


# --- WHERE ----------------------------------------------------------------------------------------
def where_equalities(sql: str) -> frozenset[str] | None:
    """The columns of an UPDATE/DELETE WHERE that is only `column = value AND ...`, else None."""
    if statement_kind(sql) not in ("update", "delete"):
        return None
    from sqlglot import exp

    tree = _front_tree(sql)
    where = tree.args.get("where") if isinstance(tree, (exp.Update, exp.Delete)) else None
    if where is None:
        return None
    columns = [_equality_column(term) for term in _conjuncts(where.this)]
    if None in columns or len(set(columns)) != len(columns):
        return None
    return frozenset(c for c in columns if c is not None)


def _conjuncts(node: exp.Expr) -> list[exp.Expr]:
    from sqlglot import exp

    node = node.unnest()
    if isinstance(node, exp.And):
        return _conjuncts(node.this) + _conjuncts(node.expression)
    return [node]


def _equality_column(term: exp.Expr) -> str | None:
    """`column = value` or `value = column` -> the lower-cased column name, else None."""
    from sqlglot import exp

    if not isinstance(term, exp.EQ):
        return None
    for column, value in ((term.this, term.expression), (term.expression, term.this)):
        if isinstance(column, exp.Column) and not _is_parameter(column) and _is_value(value):
            return column.name.lower()
    return None


def _is_parameter(node: exp.Expr) -> bool:
    """`?`, `?1`, `:name`, `@name`; sqlglot reads SQLite's `$name` as a column named `$name`."""
    from sqlglot import exp

    if isinstance(node, (exp.Placeholder, exp.Parameter)):
        return True
    return isinstance(node, exp.Column) and not node.this.quoted and node.name.startswith("$")


def _is_value(node: exp.Expr) -> bool:
    from sqlglot import exp

    node = node.unnest()
    if isinstance(node, exp.Neg):
        node = node.this
        return isinstance(node, exp.Literal) and not node.is_string
    return isinstance(node, exp.Literal) or _is_parameter(node)


# --- EXEC -----------------------------------------------------------------------------------------
def parse_exec(sql: str) -> ExecStatement:
    """Parse `EXEC[UTE] <resource>.<method> @p='v' [,] ... [@@json='{...}']`."""
    if statement_kind(sql) != "exec":
        raise StatementError(f"not an EXEC statement: write {EXEC_FORM}")
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    from sqlprovider.engine import dialects

    try:
        trees = [t for t in dialects.EXEC_DIALECT.parse(sql) if t is not None]
    except (ParseError, TokenError) as exc:
        detail = _one_line(exc) if isinstance(exc, ParseError) else "unterminated string"
        raise StatementError(f"cannot read EXEC: {detail}; the form is {EXEC_FORM}") from None
    if len(trees) != 1 or not isinstance(trees[0], exp.Execute):
        raise StatementError("EXEC takes one statement: run the statements after ';' separately")
    tree = trees[0]
    parts = [part.name for part in tree.this.parts]
    if len(parts) not in (2, 4):
        raise StatementError(f"EXEC {'.'.join(parts)} names no method: the form is {EXEC_FORM}, "
                             f"e.g. EXEC {'.'.join(parts)}.<method>")
    params: dict[str, object] = {}
    json_params: dict[str, object] | None = None
    for node in tree.expressions:
        param, value = (node.this, node.expression) if isinstance(node, exp.EQ) else (node, None)
        nested = isinstance(param.this, exp.Parameter)
        name = (param.this.name if nested else param.name).lower()
        shown = ("@@" if nested else "@") + name
        if value is None:
            raise StatementError(f"parameter {shown} has no value: write {shown}='value'")
        if nested and name != "json":
            raise StatementError(f"unknown parameter {shown}: the only @@ parameter is @@json='{{...}}'")
        literal = _exec_literal(shown, value)
        if nested:
            if json_params is not None:
                raise StatementError("parameter @@json is given twice: keep one")
            json_params = _json_object(literal)
        elif name in params:
            raise StatementError(f"parameter @{name} is given twice: keep one")
        else:
            params[name] = literal
    for key in json_params or {}:
        if key.lower() in params:
            raise StatementError(f"parameter {key} is given both as @{key.lower()} and inside @@json: keep one")
    return ExecStatement(".".join(parts[:-1]).lower(), parts[-1].lower(), params, json_params)


def _exec_literal(shown: str, node: exp.Expr) -> object:
    """A parameter's value as Python: str, int, float, bool, None, or a Query to run."""
    from sqlglot import exp

    from sqlprovider.engine import dialects

    if isinstance(node, dialects.ExecQuery) and statement_kind(node.this) == "select":
        return Query(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Literal) and node.is_string:
        return node.this
    sign, number = (-1, node.this) if isinstance(node, exp.Neg) else (1, node)
    if isinstance(number, exp.Literal) and not number.is_string:
        try:
            return sign * int(number.this)
        except ValueError:
            return sign * float(number.this)
    text = f"({node.this})" if isinstance(node, dialects.ExecQuery) else node.sql("tsql")
    text = mask_literals(text, mask="...")  # a name is shown; a literal (maybe a secret: 'a' || 'b') is not
    raise StatementError(f"parameter {shown}: {text} is not a quoted string, a number or NULL; write {shown}='{text}'")


def _json_object(value: object) -> dict[str, object]:
    """Parse @@json's text; it must be a JSON object."""
    example = """@@json='{"id": "..."}'"""
    if not isinstance(value, str):
        raise StatementError(f"@@json must be a quoted JSON object, e.g. {example}")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise StatementError(f"@@json is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} "
                             f"of the JSON text; fix it, e.g. {example}") from None
    if not isinstance(parsed, dict):
        raise StatementError(f"@@json must be a JSON object, not {type(parsed).__name__}: e.g. {example}")
    return parsed


# --- templates ------------------------------------------------------------------------------------
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _placeholders(script: str) -> list[tuple[re.Match[str], str, str]]:
    """Each placeholder outside comments: (match, name, closing quote of the literal around it or '')."""
    if _plain(script):  # no braces, so no placeholder
        return []
    tokens = _tokens(script, error=TemplateError)
    starts, ends = [token.start for token in tokens], {token.end for token in tokens}
    found: list[tuple[re.Match[str], str, str]] = []
    malformed: list[str] = []
    pos = 0
    while match := PLACEHOLDER.search(script, pos):
        first, last = match.start(), match.end() - 1
        token = tokens[bisect_right(starts, first) - 1] if starts and starts[0] <= first else None
        quote = script[token.end] if token and script[token.end] in CLOSING_QUOTES else ""
        if quote:  # the whole placeholder must sit inside this one literal
            inside = token is not None and token.start < first and last < token.end
        else:  # in code it is made of brace tokens; else it starts or ends in a comment
            inside = token is not None and token.start == first and last in ends
        if not inside:
            pos = first + 1
            continue
        name = match.group(1).strip()
        if not NAME.fullmatch(name):
            malformed.append(f"{match.group(0)} (line {_line(script, first)})")
        found.append((match, name, quote))
        pos = match.end()
    if malformed:
        raise TemplateError(f"malformed placeholder{'s' if len(malformed) > 1 else ''}: {', '.join(malformed)}; "
                            f"write {{{{ name }}}} with one identifier inside")
    return found


def _template_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


#: What a placeholder outside quotes may become: one SQL literal, never SQL text.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_KEYWORD_LITERALS = frozenset({"NULL", "TRUE", "FALSE"})


def _bare_literal(name: str, text: str, line: int) -> str:
    """The value of an unquoted placeholder as one SQL literal: a number, a quoted string, NULL/TRUE/FALSE,
    or '' for an empty value ("not given"); anything else could run as SQL, so it is refused."""
    value = text.strip()
    if not value:
        return "''"
    if _NUMBER.fullmatch(value) or _STRING_LITERAL.fullmatch(value) or value.upper() in _KEYWORD_LITERALS:
        return value
    raise TemplateError(
        f"placeholder {name} (line {line}) is outside quotes, so its value must be one SQL literal (a number, "
        f"or a string in single quotes); put the placeholder inside quotes ('{{{{ {name} }}}}') to pass text")


def template_names(script: str) -> list[str]:
    """The distinct placeholder names outside comments, in order of first appearance."""
    return list(dict.fromkeys(name for _, name, _ in _placeholders(script)))


def fill_template(script: str, variables: Mapping[str, object]) -> str:
    """Fill every `{{ name }}`; values inside a quoted literal are escaped for that quote."""
    found = _placeholders(script)
    missing: dict[str, int] = {}
    for match, name, _ in found:
        if name not in variables:
            missing.setdefault(name, _line(script, match.start()))
    if missing:
        listed = ", ".join(f"{name} (line {line})" for name, line in missing.items())
        raise TemplateError(f"unfilled placeholders: {listed}; pass them with --var NAME=VALUE")
    pieces: list[str] = []
    last = 0
    for match, name, quote in found:
        text = _template_text(variables[name])
        if quote:
            text = text.replace(quote, CLOSING_QUOTES[quote])
        else:
            text = _bare_literal(name, text, _line(script, match.start()))
        pieces += [script[last:match.start()], text]
        last = match.end()
    return "".join(pieces) + script[last:]

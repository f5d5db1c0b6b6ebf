"""Plain statements skip sqlglot: splitting, classifying, name rewriting and templates answer exactly as the
tokenizer would. Property tests compare the two paths; data tables pin what counts as plain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sqlprovider.engine import statements
from sqlprovider.engine.statements import Statement

NAMES = {"databricks_workspace.ml.model_registry_webhooks": "model_registry_webhooks"}

WORDS = ["SELECT", "select", "WITH", "INSERT", "INTO", "REPLACE", "VALUES", "UPDATE", "SET", "DELETE", "FROM",
         "WHERE", "EXEC", "EXECUTE", "DESCRIBE", "DESC", "SHOW", "CREATE", "TRIGGER", "AFTER", "ON", "BEGIN", "END",
         "CASE", "WHEN", "THEN", "AND", "RETURNING", "t", "x1", "_a", "SELECT1", "1", "42", "1e5", "0x1F", "X", "N"]
STRINGS = ["''", "'a'", "'it''s'", "'a;b'", "'SELECT'", "'--x'", "'/*'", "'é'", "';'", "'x.y'", "'\n'", "'\"'"]
OPERATORS = [",", "(", ")", "*", "=", "<", ">", "!=", "<>", "<=", "+", "%", "|", "||", "&", "~", "^", "-", "/",
             ";", "!"]
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\r", ""]

fragments = st.sampled_from(WORDS + STRINGS + OPERATORS + SPACES)
plain_texts = st.lists(fragments, max_size=30).map("".join)
plain_chars = st.text(alphabet="SELCTWIHabc019_ \t\r\n,()*=<>!;+%|&~^-/'", max_size=60)

TRIGGER = "CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; SELECT 'a;b'; END; SELECT 2"


@contextmanager
def tokenizer_only() -> Iterator[None]:
    """Treat no text as plain: every function takes the sqlglot path."""
    with mock.patch.object(statements, "_plain", lambda sql: False):
        yield


def both(fn: Callable[..., Any], *args: Any) -> tuple[Any, Any]:
    """(fast answer, sqlglot answer), each a value or the exception raised."""
    answers = []
    for context in (nullcontext(), tokenizer_only()):
        with context:
            try:
                answers.append(fn(*args))
            except Exception as exc:  # noqa: BLE001 - compared below
                answers.append((type(exc), str(exc)))
    return answers[0], answers[1]


@settings(max_examples=300, deadline=None)
@given(st.one_of(plain_texts, plain_chars))
@example(TRIGGER)
@example("  \n SELECT 1 ;\n\n;  ")
@example("WITH a AS (SELECT 1) DELETE FROM t")
@example("(SELECT 1)")
def test_plain_text_answers_as_the_tokenizer(text: str) -> None:
    if not statements._plain(text):
        return
    fast, slow = both(statements.split_statements, text)
    assert fast == slow
    for part in [text] + [s.text for s in slow if isinstance(slow, list)]:
        fast_kind, slow_kind = both(statements.statement_kind, part)
        assert fast_kind == slow_kind
    assert both(statements.rewrite_names, text, NAMES) == (text, text)
    assert both(statements.fill_template, text, {}) == (text, text)
    assert both(statements.template_names, text) == ([], [])


PLAIN = [
    "SELECT 1",
    "SELECT count(*) FROM model_registry_webhooks WHERE deployment_name = 'sandbox'",
    "SELECT 'a;b' ; SELECT 2;",
    "SELECT 1 - 2, 4 / 2, 'x -- y', '/* z */'",
    TRIGGER,
]
NOT_PLAIN = [
    "SELECT * FROM databricks_workspace.ml.model_registry_webhooks",  # a dotted name
    "SELECT 1 -- a comment",
    "SELECT /* a comment */ 1",
    'SELECT "quoted name"',
    "SELECT [name]",
    "SELECT `name`",
    "SELECT '{{ x }}'",  # a template
    "SELECT ?",  # a parameter
    "SELECT :x",
    "SELECT 1.5",
    "SELECT 'unterminated",
    "SELECT 'a\\'",  # a backslash
    "SELECT 1\x00",
    "SELECT 'é' || é",  # a non-ASCII word
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain(text: str) -> None:
    assert statements._plain(text)


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_not_plain(text: str) -> None:
    assert not statements._plain(text)


@pytest.mark.parametrize(("text", "kind"), [
    ("SELECT 1", "select"), ("  values (1)", "select"), ("delete from t", "delete"), ("EXEC x", "exec"),
    ("SHOW RESOURCES", "show"), ("DESC t", "describe"), ("(SELECT 1)", "other"), ("SELECT1", "other"),
    ("", "other"), ("WITH a AS (SELECT 1) UPDATE t SET x = 1", "update"),
])
def test_statement_kind_of_plain_text(text: str, kind: str) -> None:
    assert statements.statement_kind(text) == kind


def test_split_plain_script_keeps_lines_and_trigger_bodies() -> None:
    assert statements.split_statements("\n  SELECT 1 ;\n\nSELECT 'a;b';" + TRIGGER) == [
        Statement("SELECT 1", 2), Statement("SELECT 'a;b'", 4),
        Statement("CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; SELECT 'a;b'; END", 4),
        Statement("SELECT 2", 4)]


def test_rewrite_names_with_a_single_word_name_still_tokenizes() -> None:
    assert statements.rewrite_names("SELECT * FROM webhooks", {"webhooks": "model_registry_webhooks"}) == (
        "SELECT * FROM model_registry_webhooks")

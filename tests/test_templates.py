"""`{{ placeholder }}` templates: quoting-aware filling, missing and malformed names. Data tables."""

from __future__ import annotations

import pytest

from sqlprovider.errors import TemplateError
from sqlprovider.engine.statements import fill_template, template_names

VARS = {"name": "O'Brien", "n": 3, "yes": True, "no": False, "none": None, "obj": {"k": "it's"}, "arr": [1, "a"],
        "f": 1.5, "ident": 'my"col', "dep": "sandbox", "id": "wh-1",
        "q": "'it''s'", "e": "", "neg": "-2.5e3", "null": "null"}


@pytest.mark.parametrize("script, expected", [
    ("SELECT {{ n }}", "SELECT 3"),
    ("SELECT {{n}}, {{  n  }}", "SELECT 3, 3"),
    ("SELECT '{{ name }}'", "SELECT 'O''Brien'"),
    ("SELECT {{ q }}, {{ e }}, {{ neg }}, {{ null }}", "SELECT 'it''s', '', -2.5e3, null"),  # one literal each
    ("SELECT '{{ name }} and {{ name }}'", "SELECT 'O''Brien and O''Brien'"),
    ("SELECT 'x''{{ name }}''y'", "SELECT 'x''O''Brien''y'"),
    ("SELECT {{ yes }}, {{ no }}, '{{ none }}', {{ f }}", "SELECT true, false, '', 1.5"),
    ("SELECT '{{ obj }}', '{{ arr }}'", """SELECT '{"k": "it''s"}', '[1, "a"]'"""),
    ('SELECT "{{ ident }}" FROM t', 'SELECT "my""col" FROM t'),
    ("SELECT `{{ ident }}` FROM t", 'SELECT `my"col` FROM t'),
    ("SELECT 1 -- {{ name }} {{ missing }}\n", "SELECT 1 -- {{ name }} {{ missing }}\n"),
    ("SELECT /* {{ missing }}\n{{ bad one }} */ {{ n }}", "SELECT /* {{ missing }}\n{{ bad one }} */ 3"),
    ("SELECT '{{ n }}' -- don't {{ n }}\n, '{{ n }}'", "SELECT '3' -- don't {{ n }}\n, '3'"),
    ("SELECT '{ n }', '{{', '}}'", "SELECT '{ n }', '{{', '}}'"),
    ("SELECT '{{' || '{{ n }}' || '}}'", "SELECT '{{' || '3' || '}}'"),
    ("SELECT /* {{ x */ {{ n }} /* }} */", "SELECT /* {{ x */ 3 /* }} */"),
    ("SELECT {{ n -- }}\n", "SELECT {{ n -- }}\n"),
    ("SELECT [{{ ident }}] FROM t", 'SELECT [my"col] FROM t'),
    ("SELECT 1", "SELECT 1"),
    ("", ""),
    ("EXEC a.b.c.test @deployment_name='{{ dep }}' --required\n@@json=\n'{\n\"id\": \"{{ id }}\",\n\"who\": \"{{ name }}\"\n}'",
     "EXEC a.b.c.test @deployment_name='sandbox' --required\n@@json=\n'{\n\"id\": \"wh-1\",\n\"who\": \"O''Brien\"\n}'"),
    # values are inserted, not rescanned: a value holding quotes or braces does not shift the scan
    ("SELECT '{{ name }}', '{{ n }}'", "SELECT 'O''Brien', '3'"),
])
def test_fill_template(script, expected):
    assert fill_template(script, VARS) == expected


def test_values_are_not_rescanned():
    assert fill_template("SELECT '{{ a }}', '{{ b }}'", {"a": "{{ b }}'", "b": "x"}) == "SELECT '{{ b }}''', 'x'"


@pytest.mark.parametrize("script, message", [
    ("SELECT '{{ id }}'", "unfilled placeholders: id (line 1); pass them with --var NAME=VALUE"),
    ("SELECT 1\nWHERE id = '{{ id }}'\nAND d = '{{ deployment_name }}' AND x = {{ id }}\n-- {{ ignored }}",
     "unfilled placeholders: id (line 2), deployment_name (line 3); pass them with --var NAME=VALUE"),
    ("SELECT {{ }}", "malformed placeholder: {{ }} (line 1); write {{ name }} with one identifier inside"),
    ("SELECT 1,\n'{{ a b }}', {{ 1x }}", "malformed placeholders: {{ a b }} (line 2), {{ 1x }} (line 2); "
                                         "write {{ name }} with one identifier inside"),
    ("SELECT '{{ name }}", "line 1: unterminated string, quoted name or comment: close it with its matching quote "
                           "or */"),
])
def test_fill_template_errors(script, message):
    with pytest.raises(TemplateError) as info:
        fill_template(script, {})
    assert str(info.value) == message
    assert "\n" not in str(info.value)


INJECTION = "10; DELETE FROM model_registry_webhooks WHERE deployment_name = 'sandbox'"


@pytest.mark.parametrize("value", [INJECTION, "O'Brien", '[1, "a"]', "1 OR 1=1", "'a' || 'b'", "'a'; SELECT 1",
                                   "1)", "x", "--", "0x10"])
def test_unquoted_placeholder_takes_only_one_literal(value):
    """Outside quotes a value could run as SQL: anything but one literal is refused, naming the variable."""
    with pytest.raises(TemplateError) as info:
        fill_template("SELECT 1;\nSELECT * FROM t WHERE max_results = {{ n }}", {"n": value})
    assert str(info.value) == ("placeholder n (line 2) is outside quotes, so its value must be one SQL literal "
                               "(a number, or a string in single quotes); put the placeholder inside quotes "
                               "('{{ n }}') to pass text")


def test_partial_variables_report_only_the_missing():
    with pytest.raises(TemplateError, match=r"^unfilled placeholders: id \(line 1\); pass them"):
        fill_template("SELECT '{{ dep }}', '{{ id }}'", {"dep": "sandbox"})


@pytest.mark.parametrize("script, names", [
    ("SELECT 1", []),
    ("SELECT '{{ b }}', {{a}}, '{{ b }}' -- {{ c }}\n/* {{ d }} */, {{ e }}", ["b", "a", "e"]),
    ("WHERE deployment_name = '{{ deployment_name }}' -- required\nAND events = '{{ events }}'",
     ["deployment_name", "events"]),
])
def test_template_names(script, names):
    assert template_names(script) == names

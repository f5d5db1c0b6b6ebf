"""Output formats: exact text for a fixed row set, JSON columns nested in JSON output."""

from __future__ import annotations

import io

import pytest

from sqlprovider.cli import output

COLUMNS = ("a", "events", "n", "t")
ROWS = [(1, '["x"]', None, "a,b"), (22, '{"k": 1}', "z", "q|r")]

EXPECTED = {
    "table": """\
+----+----------+---+-----+
| a  | events   | n | t   |
+----+----------+---+-----+
|  1 | ["x"]    |   | a,b |
| 22 | {"k": 1} | z | q|r |
+----+----------+---+-----+
""",
    "box": """\
┌────┬──────────┬───┬─────┐
│ a  │ events   │ n │ t   │
├────┼──────────┼───┼─────┤
│  1 │ ["x"]    │   │ a,b │
│ 22 │ {"k": 1} │ z │ q|r │
└────┴──────────┴───┴─────┘
""",
    "markdown": """\
| a | events | n | t |
|---:|---|---|---|
| 1 | ["x"] |  | a,b |
| 22 | {"k": 1} | z | q\\|r |
""",
    "csv": """\
a,events,n,t
1,"[""x""]",,"a,b"
22,"{""k"": 1}",z,q|r
""",
    "jsonl": """\
{"a": 1, "events": ["x"], "n": null, "t": "a,b"}
{"a": 22, "events": {"k": 1}, "n": "z", "t": "q|r"}
""",
    "json": """\
[
  {
    "a": 1,
    "events": [
      "x"
    ],
    "n": null,
    "t": "a,b"
  },
  {
    "a": 22,
    "events": {
      "k": 1
    },
    "n": "z",
    "t": "q|r"
  }
]
""",
}


@pytest.mark.parametrize("fmt", output.FORMATS)
def test_every_format_renders_exactly(fmt):
    assert output.render(fmt, COLUMNS, iter(ROWS)) == EXPECTED[fmt]


@pytest.mark.parametrize("fmt", output.FORMATS)
def test_write_returns_the_row_count(fmt):
    assert output.write(io.StringIO(), fmt, COLUMNS, iter(ROWS)) == 2


def test_json_keeps_text_that_is_not_json_and_other_columns_as_strings():
    rendered = output.render("jsonl", ("events", "description", "blob"), [("not json", '["x"]', b"\x01\xff")])
    assert rendered == '{"events": "not json", "description": "[\\"x\\"]", "blob": "01ff"}\n'


def test_empty_results_keep_their_header():
    assert output.render("csv", ("a", "b"), []) == "a,b\n"
    assert output.render("json", ("a",), []) == "[]\n"
    assert output.render("jsonl", ("a",), []) == ""
    assert output.render("table", ("a",), []) == "+---+\n| a |\n+---+\n+---+\n"


def test_newlines_and_blobs_stay_on_one_line_in_human_formats():
    assert output.render("markdown", ("v",), [("two\nlines",), (b"\x00\x10",)]) == (
        "| v |\n|---|\n| two\\nlines |\n| 0010 |\n")


@pytest.mark.parametrize("fmt, expected", [
    ("table", "-- 1. Create\n-- more words\n"),
    ("box", "-- 1. Create\n-- more words\n"),
    ("markdown", "1. Create more words\n\n"),
])
def test_titles(fmt, expected):
    assert output.title(fmt, ("-- 1. Create", "-- more words")) == expected
    assert output.title(fmt, ()) == ""

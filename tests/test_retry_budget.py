"""Retrying is bounded by a time budget (default 300 s, as the official SDK's), not by a small attempt count."""

from __future__ import annotations

import re

import pytest

import sqlprovider
from sqlprovider.sandbox import FaultSpec
from sqlprovider.workspace.client import DEFAULT_RETRY_TIMEOUT, RetryPolicy

LISTING = "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND max_results = 4"
LIST_PATH = "ws1: GET /api/2.0/mlflow/registry-webhooks/list failed: "
ALLOW = "allow more time with --retry-timeout SECONDS, SQLPROVIDER_RETRY_TIMEOUT or connect(retry=SECONDS)"


def hooks(ws1, n: int = 10) -> list[str]:
    ids = sorted(ws1.create(url=f"https://h{i}.example.com")["id"] for i in range(n))
    ws1.reset()
    return ids


def list_tokens(ws1) -> list[str | None]:
    return [dict(c[2]).get("page_token") for c in ws1.calls() if c[1] == "list"]


def test_the_default_budget_is_the_sdks():
    assert DEFAULT_RETRY_TIMEOUT == 300 and RetryPolicy().total_seconds == 300 and RetryPolicy().max_attempts is None


def test_a_storm_of_ten_429_503_then_three_html_502_on_one_page_returns_exactly_the_rows(ws1, virtual_time):
    expected = hooks(ws1)

    def storm_on_page_two(record) -> None:  # once page 1 is answered, page 2 meets the storm
        if record.path.endswith("/list") and not storm.done:
            storm.done = True
            for i in range(10):
                ws1.sandbox.inject(FaultSpec("429" if i % 2 == 0 else "503", endpoint="list", retry_after=5))
            ws1.sandbox.inject(FaultSpec("html502", count=3, endpoint="list"))

    storm = storm_on_page_two
    storm.done = False
    with sqlprovider.connect() as conn:
        conn.requests.observers.append(storm_on_page_two)
        rows = conn.execute(LISTING).fetchall()
    assert sorted(r[0] for r in rows) == expected and len(rows) == 10
    tokens = list_tokens(ws1)
    assert len(tokens) == 1 + 14 + 1 and tokens[0] is None
    assert len(set(tokens[1:15])) == 1 and tokens[1] is not None  # page 2, asked again with the same token
    assert virtual_time.pauses[:10] == [5.0] * 10 and len(virtual_time.pauses) == 13  # Retry-After honoured


def test_twelve_503_in_a_row_are_ridden_out_within_the_default_budget(ws1, virtual_time):
    expected = hooks(ws1, 3)
    ws1.sandbox.inject(FaultSpec("503", count=12, endpoint="list", retry_after=1))
    with sqlprovider.connect() as conn:
        assert sorted(r[0] for r in conn.execute(LISTING)) == expected
    assert len(list_tokens(ws1)) == 13 and virtual_time.pauses == [1.0] * 12


def test_a_retry_after_longer_than_the_budget_fails_at_once_saying_how_long_and_how_to_allow_it(ws1, virtual_time):
    ws1.sandbox.inject(FaultSpec("429", count=1, endpoint="list", retry_after=600))
    with sqlprovider.connect() as conn, pytest.raises(sqlprovider.ApiError) as err:
        conn.execute(LISTING).fetchall()
    message = str(err.value)
    assert message.startswith(LIST_PATH + "REQUEST_LIMIT_EXCEEDED (HTTP 429): "), message
    assert message.endswith("; gave up at once: the workspace asked to wait 600 s before retrying, more than the "
                            f"300 s left of the retry budget of 300 s; {ALLOW}"), message
    assert err.value.status == 429 and len(list_tokens(ws1)) == 1 and virtual_time.pauses == []


def test_a_longer_budget_per_connection_allows_a_longer_retry_after(ws1, virtual_time):
    expected = hooks(ws1, 2)
    ws1.sandbox.inject(FaultSpec("503", count=1, endpoint="list", retry_after=600))
    with sqlprovider.connect(retry=900) as conn:
        assert sorted(r[0] for r in conn.execute(LISTING)) == expected
    assert virtual_time.pauses == [600.0]


def test_a_spent_budget_names_the_attempts_the_time_and_the_fix(ws1, virtual_time):
    ws1.sandbox.inject(FaultSpec("500", count=100, endpoint="list"))
    with sqlprovider.connect(retry=RetryPolicy(total_seconds=10)) as conn, pytest.raises(sqlprovider.ApiError) as err:
        conn.execute(LISTING).fetchall()
    attempts = len(list_tokens(ws1))
    assert re.fullmatch(re.escape(LIST_PATH) + r"INTERNAL_ERROR \(HTTP 500\): Internal error \(injected by the "
                        rf"sandbox\); gave up after {attempts} attempts in \d+ s, the retry budget of 10 s; "
                        + re.escape(ALLOW), str(err.value)), str(err.value)
    assert attempts >= 4 and sum(virtual_time.pauses) <= 10  # exponential backoff within the budget


def test_the_environment_sets_the_budget_and_a_bad_value_is_one_line(ws1, virtual_time, monkeypatch):
    monkeypatch.setenv("SQLPROVIDER_RETRY_TIMEOUT", "0")
    ws1.sandbox.inject(FaultSpec("503", count=1, endpoint="list", retry_after=1))
    with sqlprovider.connect() as conn, pytest.raises(sqlprovider.ApiError, match="more than the 0 s left of the "
                                                                                  "retry budget of 0 s"):
        conn.execute(LISTING).fetchall()
    monkeypatch.setenv("SQLPROVIDER_RETRY_TIMEOUT", "soon")
    with sqlprovider.connect() as conn, pytest.raises(sqlprovider.ConfigurationError) as err:
        conn.execute(LISTING).fetchall()
    assert str(err.value) == "SQLPROVIDER_RETRY_TIMEOUT must be a number of seconds (0 or more), not 'soon'"


@pytest.mark.parametrize("retry", [-1, float("nan"), "x", True])
def test_a_bad_retry_option_is_one_line(ws1, retry):
    with sqlprovider.connect(retry=retry) as conn, pytest.raises(sqlprovider.ConfigurationError) as err:
        conn.execute(LISTING).fetchall()
    assert str(err.value) == f"retry must be a number of seconds (0 or more) or a RetryPolicy, not {retry!r}"


def test_the_cli_flag_sets_the_budget_of_exec(ws1, virtual_time, tmp_path, capsys, monkeypatch):
    from sqlprovider.cli.main import build_parser, main

    monkeypatch.setenv("SQLPROVIDER_RETRY_TIMEOUT", "600")  # the flag wins; restored after the test
    script = tmp_path / "list.sql"
    script.write_text(LISTING + ";\n")
    ws1.sandbox.inject(FaultSpec("503", count=1, endpoint="list", retry_after=60))
    assert main(["exec", "--retry-timeout", "30", str(script)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"sqlprovider: error: {script}:1: {LIST_PATH}TEMPORARILY_UNAVAILABLE (HTTP 503)")
    assert "asked to wait 60 s before retrying, more than the 30 s left of the retry budget of 30 s" in err
    for command in (["shell"], ["snapshot", "out.db", "--deployment", "ws1"]):
        assert build_parser().parse_args([*command, "--retry-timeout", "2.5"]).retry_timeout == 2.5
    with pytest.raises(SystemExit):
        build_parser().parse_args(["exec", "--retry-timeout", "-3", str(script)])
    assert "expected a number of seconds (0 or more), not '-3'" in capsys.readouterr().err

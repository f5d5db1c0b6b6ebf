"""Answers cut off after their headers (a short body, a reset mid-body): retried when safe, never lost track of."""

from __future__ import annotations

import itertools
import re

import pytest

import sqlprovider
from sqlprovider.sandbox import FaultSpec
from sqlprovider.workspace.client import RetryPolicy

FAST = RetryPolicy(total_seconds=20, base_delay=0.001, max_delay=0.002)
INSERT = "INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES "
LISTING = "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND max_results = 3"


def values(n: int) -> str:
    return ", ".join(f"('ws1', 'COMMENT_CREATED', '{{\"url\": \"https://r{i}.example.com\"}}')" for i in range(n))


@pytest.mark.parametrize("kind", ["truncated", "reset"])
def test_a_listing_page_cut_off_is_retried_and_returns_exactly_the_rows(ws1, kind):
    expected = sorted(ws1.create(url=f"https://h{i}.example.com")["id"] for i in range(10))
    ws1.reset()
    ws1.sandbox.inject(FaultSpec(kind, count=2, endpoint="list"))
    with sqlprovider.connect(retry=FAST) as conn:
        rows = conn.execute(LISTING).fetchall()
    assert sorted(r[0] for r in rows) == expected and len(rows) == 10
    tokens = [dict(c[2]).get("page_token") for c in ws1.calls()]
    assert len(tokens) == 6 and tokens[0] is None and tokens[1] is None  # page 1 three times, then pages 2-4
    assert tokens[2] is None and len(set(tokens[3:])) == 3


@pytest.mark.parametrize("kind", ["truncated", "reset"])
def test_a_create_cut_off_is_outcome_unknown_and_the_insert_names_every_row(ws1, kind):
    with sqlprovider.connect(retry=FAST, max_workers=1) as conn:
        sent = itertools.count(1)
        conn.requests.observers.append(  # the 8th create lands, but its answer is cut off
            lambda r: next(sent) == 7 and ws1.sandbox.inject(FaultSpec(kind, count=1, endpoint="create")))
        with pytest.raises(sqlprovider.PartialWriteError) as err:
            conn.execute(INSERT + values(20))
    created = ws1.list()
    assert len(created) == 8  # the cut-off one landed: the sandbox processed it before cutting the answer
    applied = created[:7]
    ids = ", ".join(f"row {i}: {h['id']}" for i, h in enumerate(applied, 1))
    message = str(err.value)
    assert re.fullmatch(
        r"INSERT failed at row 8 of 20: ws1: POST /api/2.0/mlflow/registry-webhooks/create failed: the answer was "
        r"cut off \(.+\) after the request was sent, so it may or may not have been applied \(not retried, to "
        r"avoid a duplicate\); list the resource \(SELECT \.\.\. WHERE deployment_name = 'ws1'\) to check before "
        r"trying again"
        + re.escape(f" | 7 of 20 rows were applied ({ids}); outcome unknown for rows 8 (check before retrying); "
                    "12 not attempted; applied changes are not rolled back"), message), message
    assert [a["id"] for a in err.value.applied] == [h["id"] for h in applied]


@pytest.mark.parametrize("kind", ["truncated", "reset"])
def test_update_and_delete_by_id_cut_off_are_retried(ws1, kind):
    hook = ws1.create()
    with sqlprovider.connect(retry=FAST) as conn:
        ws1.sandbox.inject(FaultSpec(kind, count=2, endpoint="update"))
        assert conn.execute("UPDATE model_registry_webhooks SET status = 'DISABLED' WHERE deployment_name = 'ws1' "
                            "AND id = ?", (hook["id"],)).rowcount == 1
        ws1.sandbox.inject(FaultSpec(kind, count=2, endpoint="delete"))
        assert conn.execute("DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND id = ?",
                            (hook["id"],)).rowcount == 1
    assert ws1.list() == []
    verbs = [c[1] for c in ws1.calls()]
    assert verbs.count("update") == 3 and verbs.count("delete") == 3


def test_the_cli_names_file_and_line_of_a_statement_whose_answer_was_cut_off(ws1, tmp_path, capsys):
    from sqlprovider.cli.main import main

    script = tmp_path / "hooks.sql"
    script.write_text("SELECT 1;\n\n" + INSERT + values(1) + ";\n")
    ws1.sandbox.inject(FaultSpec("truncated", count=1, endpoint="create"))
    assert main(["exec", str(script)]) != 0
    err = capsys.readouterr().err
    assert err.startswith(f"sqlprovider: error: {script}:3: ws1: POST /api/2.0/mlflow/registry-webhooks/create "
                          f"failed: the answer was cut off (IncompleteRead("), err
    assert err.count("\n") == 1 and "may or may not have been applied" in err


def test_an_unexpected_exception_in_a_write_still_names_the_rows_applied():
    from sqlprovider.engine.writes import WriteOp, send_writes
    from sqlprovider.workspace.client import RequestOptions

    class Flaky:
        options = RequestOptions()
        calls = 0

        def request(self, method, path, query=None, body=None):
            Flaky.calls += 1
            if Flaky.calls == 2:
                raise KeyError("boom")
            return {"webhook": {"id": body["id"]}}

    ops = [WriteOp("update", "ws", "PATCH", "/update", body={"id": f"id{i}"}, response_key="webhook", key=f"id{i}")
           for i in (1, 2, 3)]
    with pytest.raises(sqlprovider.PartialWriteError) as err:
        send_writes(ops, lambda name: Flaky(), "id", max_workers=1)
    assert str(err.value) == ("UPDATE failed at row 2 of 3: ws: PATCH /update failed unexpectedly (KeyError: 'boom'); "
                              "it may have been applied | 1 of 3 rows were applied (row 1: id1); outcome unknown for "
                              "rows 2 (check before retrying); 1 not attempted; applied changes are not rolled back")

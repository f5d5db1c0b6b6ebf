"""Dry-run (no mutating request reaches the workspace; each request is printed) and live listing progress."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from sqlprovider.workspace.client import RequestRecord
from sqlprovider.cli.progress import ERASE, Reporter, describe_request, format_progress

PATH = "/api/2.0/mlflow/registry-webhooks"
SPEC = '{"url": "https://hooks.example.com/x", "secret": "dry-secret-value"}'


@pytest.fixture
def dry(conn):
    """The connection in dry-run mode with its requests printed to a buffer."""
    conn.requests.dry_run = True
    stream = io.StringIO()
    reporter = Reporter(conn.requests, stream, live=False)
    yield conn, stream
    reporter.close()


def run(conn, sql: str) -> list[tuple]:
    return conn.execute(sql).fetchall()


def test_insert_is_printed_with_secrets_masked_and_not_sent(ws1, dry):
    conn, stream = dry
    rows = run(conn, "INSERT INTO databricks_workspace.ml.model_registry_webhooks (deployment_name, events, "
                     f"http_url_spec) VALUES ('ws1', 'COMMENT_CREATED', '{SPEC}') RETURNING id, events")
    assert rows == [(None, '["COMMENT_CREATED"]')]
    assert stream.getvalue() == (f'would send: ws1 POST {PATH}/create {{"events":["COMMENT_CREATED"],'
                                 f'"http_url_spec":{{"url":"https://hooks.example.com/x","secret":"***"}}}}\n')
    assert ws1.calls() == [] and ws1.list() == []


def test_update_and_delete_show_the_listing_that_ran_and_send_nothing_mutating(ws1, dry):
    conn, stream = dry
    hook = ws1.create(model_name="m")
    ws1.reset()
    assert run(conn, "UPDATE model_registry_webhooks SET status = 'DISABLED' "
                     "WHERE deployment_name = 'ws1' AND model_name = 'm' RETURNING id, status") == [(hook["id"], "DISABLED")]
    run(conn, "DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert stream.getvalue().splitlines() == [
        f"listing: ws1 GET {PATH}/list?model_name=m&max_results=1000",
        f'would send: ws1 PATCH {PATH}/update {{"id":"{hook["id"]}","status":"DISABLED"}}',
        f"listing: ws1 GET {PATH}/list?max_results=1000",
        f"would send: ws1 DELETE {PATH}/delete?id={hook['id']}",
    ]
    assert [c[0] for c in ws1.calls()] == ["GET", "GET"]
    assert [h["status"] for h in ws1.list()] == ["ACTIVE"]


def test_exec_is_held_back_but_its_parameter_query_runs(ws1, dry):
    conn, stream = dry
    hook = ws1.create(model_name="m")
    ws1.reset()
    run(conn, "EXEC model_registry_webhooks.delete @deployment_name='ws1' "
              "@id=(SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1')")
    assert stream.getvalue().splitlines() == [f"listing: ws1 GET {PATH}/list?max_results=1000",
                                              f"would send: ws1 DELETE {PATH}/delete?id={hook['id']}"]
    assert [c[0] for c in ws1.calls()] == ["GET"] and len(ws1.list()) == 1


def test_nothing_is_printed_when_dry_run_is_off(ws1, conn):
    stream = io.StringIO()
    Reporter(conn.requests, stream, live=False)
    run(conn, "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert stream.getvalue() == ""


def test_exec_dry_run_from_the_command_line(ws1, tmp_path):
    hook = ws1.create(model_name="m")
    ws1.reset()
    script = (f"INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
              f"VALUES ('ws1', 'COMMENT_CREATED', '{SPEC}');\n"
              f"UPDATE model_registry_webhooks SET description = 'x' WHERE deployment_name = 'ws1' AND id = '{hook['id']}';\n"
              f"EXEC model_registry_webhooks.test @deployment_name='ws1' @id='{hook['id']}';\n"
              f"DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1';\n")
    done = subprocess.run([sys.executable, "-m", "sqlprovider", "exec", "--dry-run", "-o", "csv"], input=script,
                          text=True, capture_output=True, env=dict(os.environ), cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [line.split(" /")[0] for line in done.stderr.splitlines()] == [
        "would send: ws1 POST", "would send: ws1 PATCH", "would send: ws1 POST", "listing: ws1 GET",
        "would send: ws1 DELETE"]
    assert "dry-secret-value" not in done.stderr + done.stdout
    assert [c[0] for c in ws1.calls()] == ["GET"]
    assert [h["id"] for h in ws1.list()] == [hook["id"]]


# --- live progress ----------------------------------------------------------------------------------------
def test_format_progress():
    assert format_progress({"ws1": (1, 1)}) == "listing ws1: 1 page, 1 row"
    assert format_progress({"ws1": (3, 2500), "ws2": (1, 0)}) == "listing ws1: 3 pages, 2,500 rows | ws2: 1 page, 0 rows"


def test_progress_is_drawn_on_a_terminal_after_the_delay_and_erased_at_the_end():
    from sqlprovider.workspace.client import RequestOptions

    now = [0.0]
    stream = io.StringIO()
    reporter = Reporter(RequestOptions(), stream, live=True, delay=0.5, interval=0.1, clock=lambda: now[0])
    with reporter.statement():
        reporter.page("ws1", 1000)  # before the delay: quiet
        now[0] = 0.6
        reporter.page("ws1", 1000)
        now[0] = 0.65
        reporter.page("ws2", 10)  # within the redraw interval: counted, not drawn
        now[0] = 0.8
        reporter.page("ws1", 5)
    assert stream.getvalue() == (ERASE + "listing ws1: 2 pages, 2,000 rows" + ERASE
                                 + "listing ws1: 3 pages, 2,005 rows | ws2: 1 page, 10 rows" + ERASE)


def test_no_progress_when_stderr_is_not_a_terminal(ws1, conn):
    for n in range(3):
        ws1.create(model_name=f"m{n}")
    stream = io.StringIO()  # not a terminal
    reporter = Reporter(conn.requests, stream, delay=0, interval=0)
    assert not reporter.live and conn.requests.page_observers == []
    with reporter.statement():
        assert len(run(conn, "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND max_results = 1")) == 3
    assert stream.getvalue() == ""


def test_progress_counts_real_pages_per_workspace(ws1, conn):
    for n in range(3):
        ws1.create(model_name=f"m{n}")
    stream = io.StringIO()
    reporter = Reporter(conn.requests, stream, live=True, delay=0, interval=0)
    with reporter.statement():
        run(conn, "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND max_results = 2")
    assert stream.getvalue() == (ERASE + "listing ws1: 1 page, 2 rows" + ERASE + "listing ws1: 2 pages, 3 rows" + ERASE)


def test_describe_request_without_query_or_body():
    record = RequestRecord("ws1", "GET", "/api/x", (), None, sent=True)
    assert describe_request(record) == "ws1 GET /api/x"

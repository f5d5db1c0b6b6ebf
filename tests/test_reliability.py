"""Faults, odd answers and guard rails: never guess, duplicate or lose work silently."""

from __future__ import annotations

import itertools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import sqlprovider
from sqlprovider.workspace.client import RetryPolicy
from sqlprovider.errors import GuardRailError
from sqlprovider.sandbox import FaultSpec, Sandbox

FAST = RetryPolicy(total_seconds=20, max_attempts=8, base_delay=0.01, max_delay=0.05)
INSERT = "INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES "


def values(n: int, prefix: str = "r") -> str:
    return ", ".join(f"('ws1', 'COMMENT_CREATED', '{{\"url\": \"https://{prefix}{i}.example.com\"}}')" for i in range(n))


def storm(sandbox: Sandbox, endpoint: str, kinds=("429", "503", "html502"), every: int = 3, limit: int = 60):
    """An observer that injects the next fault after every `every`-th request, at most `limit` times."""
    cycle = itertools.cycle(kinds)
    seen = itertools.count(1)
    injected = []

    def observe(record) -> None:
        if next(seen) % every == 0 and len(injected) < limit:
            kind = next(cycle)
            injected.append(kind)
            sandbox.inject(FaultSpec(kind, count=1, endpoint=endpoint, retry_after=0))

    return observe, injected


def test_listing_through_a_storm_of_429_503_and_html_502_returns_exactly_the_rows(ws1):
    with sqlprovider.connect(retry=FAST) as conn:
        conn.execute(INSERT + values(500))
        expected = sorted(h["id"] for h in ws1.list())
        observe, injected = storm(ws1.sandbox, "list")
        conn.requests.observers.append(observe)
        rows = conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                            "AND max_results = 20").fetchall()
    assert sorted(r[0] for r in rows) == expected and len(rows) == 500
    assert {"429", "503", "html502"} <= set(injected)
    statuses = [r for r in ws1.sandbox.requests if r.path.endswith("/list")]
    assert len(statuses) > 25  # every page, plus the retried ones


def test_insert_through_429_and_503_creates_every_row_exactly_once(ws1):
    with sqlprovider.connect(retry=FAST) as conn:
        observe, injected = storm(ws1.sandbox, "create", kinds=("429", "503"), every=4)
        conn.requests.observers.append(observe)
        rows = conn.execute(INSERT + values(50) + " RETURNING id, json_extract(http_url_spec, '$.url')").fetchall()
    hooks = ws1.list()
    assert len(hooks) == 50 and len({h["http_url_spec"]["url"] for h in hooks}) == 50
    assert [r[1] for r in rows] == [f"https://r{i}.example.com" for i in range(50)]  # statement order
    assert sorted(r[0] for r in rows) == sorted(h["id"] for h in hooks)
    assert injected


def test_insert_hit_by_an_ambiguous_failure_reports_exactly_what_was_created(ws1):
    with sqlprovider.connect(retry=FAST, max_workers=1) as conn:
        sent = itertools.count(1)
        conn.requests.observers.append(
            lambda r: next(sent) == 9 and ws1.sandbox.inject(FaultSpec("html502", count=1, endpoint="create")))
        with pytest.raises(sqlprovider.PartialWriteError) as err:
            conn.execute(INSERT + values(50))
    created = ws1.list()
    assert len(created) == 9
    ids = ", ".join(f"row {i}: {h['id']}" for i, h in enumerate(created, 1))
    assert str(err.value) == (
        "INSERT failed at row 10 of 50: ws1: POST /api/2.0/mlflow/registry-webhooks/create failed: the answer was "
        "HTTP 502 after the request was sent, so it may or may not have been applied (not retried, to avoid a "
        "duplicate); list the resource (SELECT ... WHERE deployment_name = 'ws1') to check before trying again"
        f" | 9 of 50 rows were applied ({ids}); outcome unknown for rows 10 (check before retrying); "
        "40 not attempted; applied changes are not rolled back")
    assert [a["id"] for a in err.value.applied] == [h["id"] for h in created]


def test_fan_out_with_one_failing_workspace_fails_the_statement_naming_it(tmp_path, monkeypatch):
    sandboxes = [Sandbox(data_path=tmp_path / f"s{i}.db").start() for i in range(7)]
    try:
        with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
            dead_port = closed.server_port  # closed again when the with-block ends: nothing listens there
        lines = [f"[ws{i}]\nhost = {sb.url}\ntoken = {sb.token}\n" for i, sb in enumerate(sandboxes)]
        lines.append(f"[ws7]\nhost = http://127.0.0.1:{dead_port}\ntoken = t\n")
        (tmp_path / "cfg").write_text("\n".join(lines))
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "cfg"))
        names = ", ".join(f"'ws{i}'" for i in range(8))
        with sqlprovider.connect(retry=FAST) as conn:
            with pytest.raises(sqlprovider.ApiError) as err:
                conn.execute(f"SELECT id FROM model_registry_webhooks WHERE deployment_name IN ({names})").fetchall()
        assert str(err.value).startswith(f"ws7: GET /api/2.0/mlflow/registry-webhooks/list failed: cannot reach "
                                         f"http://127.0.0.1:{dead_port}")
        assert err.value.workspace == "ws7"
    finally:
        for sb in sandboxes:
            sb.stop()


class OddServer:
    """A workspace that answers every request with one fixed, odd answer."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self.send_response(outer.status)
                self.send_header("Content-Type", outer.content_type)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.status, self.body, self.content_type = status, body, content_type
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


LIST = "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'odd'"
CREATE = ("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
          "VALUES ('odd', 'COMMENT_CREATED', '{\"url\": \"https://x\"}')")
TEST = "EXEC model_registry_webhooks.test @deployment_name='odd' @id='abc'"
LIST_PATH = "odd: GET /api/2.0/mlflow/registry-webhooks/list failed: "


def point_profile(tmp_path, monkeypatch, name: str, port: int, token: str) -> None:
    """The Databricks config file: one profile `name` for a workspace on a loopback port."""
    (tmp_path / "cfg").write_text(f"[{name}]\nhost = http://127.0.0.1:{port}\ntoken = {token}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "cfg"))


@pytest.mark.parametrize("sql, status, body, content_type, message", [
    (LIST, 200, b'{"webhooks": [{"id": "a"', "application/json",
     LIST_PATH + "HTTP 200 with an answer that is not JSON ('{\"webhooks\": [{\"id\": \"a\"')"),
    (LIST, 200, b"<html><body>Sign in</body></html>", "text/html",
     LIST_PATH + "HTTP 200 with an answer that is not JSON ('Sign in')"),
    (LIST, 200, b'{"webhooks": "none"}', "application/json", LIST_PATH + "the answer's 'webhooks' is not a list of objects"),
    (LIST, 200, b'{"webhooks": [1, 2]}', "application/json", LIST_PATH + "the answer's 'webhooks' is not a list of objects"),
    (LIST, 200, b'[]', "application/json", LIST_PATH + "expected a JSON object, got list"),
    (LIST, 200, b'{"next_page_token": 5}', "application/json", LIST_PATH + "the answer's 'next_page_token' is not a string"),
    (LIST, 404, b"<html><h1>Not Found</h1></html>", "text/html", LIST_PATH + "HTTP 404 with a non-JSON answer ('Not Found')"),
    (LIST, 400, b'{"error_code": "BAD", "message": "multi\\nline"}', "application/json", LIST_PATH + "BAD (HTTP 400): multi line"),
    (CREATE, 200, b"{}", "application/json",
     "odd: POST /api/2.0/mlflow/registry-webhooks/create answered without 'webhook'; the write may have been applied"),
    (CREATE, 200, b'{"webhook": "x"}', "application/json",
     "odd: POST /api/2.0/mlflow/registry-webhooks/create answered without 'webhook'; the write may have been applied"),
])
def test_odd_answers_give_clear_errors(tmp_path, monkeypatch, sql, status, body, content_type, message):
    server = OddServer(status, body, content_type)
    point_profile(tmp_path, monkeypatch, "odd", server.server.server_port, "t")
    try:
        with sqlprovider.connect(retry=FAST) as conn, pytest.raises(sqlprovider.Error) as err:
            conn.execute(sql).fetchall()
    finally:
        server.close()
    assert str(err.value) == message


def test_empty_answers_are_empty_results(tmp_path, monkeypatch):
    server = OddServer(200, b"{}")
    point_profile(tmp_path, monkeypatch, "odd", server.server.server_port, "t")
    try:
        with sqlprovider.connect(retry=FAST) as conn:
            assert conn.execute(LIST).fetchall() == []
            assert conn.execute(TEST).fetchall() == [(None, None)]
    finally:
        server.close()


def test_max_affected_refuses_before_any_write(ws1):
    for _ in range(3):
        ws1.create(model_name="m")
    ws1.reset()
    with sqlprovider.connect(max_affected=2) as conn:
        with pytest.raises(GuardRailError, match=r"^UPDATE would change 3 rows, more than the cap of 2 \(max_affected\); "
                                                 r"nothing was sent"):
            conn.execute("UPDATE model_registry_webhooks SET status = 'DISABLED' WHERE deployment_name = 'ws1'")
        assert [c[0] for c in ws1.calls()] == ["GET"]
        assert conn.execute("UPDATE model_registry_webhooks SET status = 'DISABLED' WHERE deployment_name = 'ws1' "
                            "AND id = ?", (ws1.list()[0]["id"],)).rowcount == 1


def test_a_bulk_change_can_be_declined(ws1, conn):
    ws1.create()
    ws1.create()
    asked = []
    conn.engine.confirm = lambda verb, count: asked.append((verb, count)) or False
    with pytest.raises(GuardRailError, match="DELETE of 2 rows cancelled; nothing was sent"):
        conn.execute("DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert asked == [("DELETE", 2)] and len(ws1.list()) == 2


def test_429_slows_every_request_to_that_workspace(ws1):
    ws1.sandbox.inject(FaultSpec("429", count=1, endpoint="list", retry_after=1))
    with sqlprovider.connect() as conn:
        workspace = conn.workspace("ws1")
        started = time.monotonic()
        first = threading.Thread(target=lambda: workspace.request("GET", "/api/2.0/mlflow/registry-webhooks/list"))
        first.start()
        time.sleep(0.2)  # the first request has met the 429 by now
        workspace.request("GET", "/api/2.0/mlflow/registry-webhooks/list")
        second_done = time.monotonic() - started
        first.join()
    assert second_done >= 0.9  # held back by the Retry-After the first request received
    assert len([r for r in ws1.sandbox.requests if r.path.endswith("/list")]) == 3


def test_a_filter_value_too_long_for_a_url_says_so(ws1, conn):
    with pytest.raises(sqlprovider.ApiError) as caught:
        conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                     "AND model_name = printf('%.70000c', 'x')").fetchall()
    assert str(caught.value).startswith("ws1: GET /api/2.0/mlflow/registry-webhooks/list failed: ")
    assert "(HTTP 414)" in str(caught.value) and str(caught.value).endswith(
        "the request's URL is too long: a value given to a pushed-down filter (model_name, events, page_token) is "
        "too long; shorten it")


class _Slow:
    """A stand-in workspace whose writes take `seconds` each; Ctrl-C (interrupt_main) lands during call `stop_at`."""

    def __init__(self, seconds: float, stop_at: int | None = None) -> None:
        self.seconds, self.stop_at, self.calls = seconds, stop_at, 0
        self.lock = threading.Lock()
        self.options = sqlprovider.workspace.client.RequestOptions()

    def request(self, method, path, query=None, body=None):
        with self.lock:
            self.calls += 1
            call = self.calls
        if call == self.stop_at:
            raise KeyboardInterrupt  # as SIGINT arrives in the main thread, mid-request
        time.sleep(self.seconds)
        return {"webhook": {"id": body["id"], "status": "DISABLED"}}


def _ops(n: int) -> list:
    from sqlprovider.engine.writes import WriteOp

    return [WriteOp("update", "ws", "PATCH", "/update", body={"id": f"id{i}"}, response_key="webhook",
                    key=f"id{i}") for i in range(1, n + 1)]


def test_ctrl_c_during_sequential_writes_names_what_was_applied():
    from sqlprovider.engine.writes import send_writes

    slow = _Slow(0.0, stop_at=3)
    with pytest.raises(sqlprovider.PartialWriteError) as caught:
        send_writes(_ops(5), lambda name: slow, "id", max_workers=1)
    assert str(caught.value) == ("UPDATE interrupted (Ctrl-C); no further rows were sent | 2 of 5 rows were applied "
                                 "(row 1: id1, row 2: id2); outcome unknown for rows 3 (check before retrying); "
                                 "2 not attempted; applied changes are not rolled back")
    assert slow.calls == 3


def test_ctrl_c_during_concurrent_writes_waits_for_those_in_flight_and_sends_no_more():
    import os
    import signal

    from sqlprovider.engine.writes import send_writes

    slow = _Slow(0.2)
    threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()  # Ctrl-C while the first 4 are in flight
    with pytest.raises(sqlprovider.PartialWriteError) as caught:
        send_writes(_ops(40), lambda name: slow, "id", max_workers=4)
    sent = slow.calls
    assert 4 <= sent <= 8  # those in flight, at most one more round that started as they finished
    ids = ", ".join(f"row {i}: id{i}" for i in range(1, sent + 1))
    assert str(caught.value) == (f"UPDATE interrupted (Ctrl-C); no further rows were sent | {sent} of 40 rows were "
                                 f"applied ({ids}); {40 - sent} not attempted; applied changes are not rolled back")
    assert len(caught.value.applied) == sent


# --- answers that are not JSON, unreachable workspaces, --debug of failed attempts -------------------------------
ECHOED = "dapiFAKETOKEN11"


@pytest.mark.parametrize("status, body", [
    (200, f"not json at all {ECHOED}".encode()),
    # a proxy page echoing the request: the credential straddles the 80 characters quoted, so it is masked first
    (200, f"<html><body><h1>Proxy</h1><p>{'x' * 60} {ECHOED} was sent</p></body></html>".encode()),
    (502, f"<html>bad gateway: the request carried {ECHOED}</html>".encode()),
])
def test_a_non_json_answer_echoing_the_credential_is_masked(tmp_path, monkeypatch, status, body):
    server = OddServer(status, body, "text/html")
    point_profile(tmp_path, monkeypatch, "odd", server.server.server_port, ECHOED)
    try:
        with sqlprovider.connect(retry=FAST) as conn, pytest.raises(sqlprovider.Error) as err:
            conn.execute(LIST).fetchall()
    finally:
        server.close()
    assert "dapiFAKETOK" not in str(err.value) and "***" in str(err.value)
    if status == 200 and body.startswith(b"not json"):
        assert str(err.value) == LIST_PATH + "HTTP 200 with an answer that is not JSON ('not json at all ***')"


def _dead_profile(tmp_path, monkeypatch, port: int) -> None:
    point_profile(tmp_path, monkeypatch, "dead", port, "dead-token-1234")


def test_an_unreachable_workspace_names_the_fix(tmp_path, monkeypatch, closed_port):
    _dead_profile(tmp_path, monkeypatch, closed_port)
    with sqlprovider.connect(retry=FAST) as conn, pytest.raises(sqlprovider.ApiError) as err:
        conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'dead'").fetchall()
    assert str(err.value) == (
        f"dead: GET /api/2.0/mlflow/registry-webhooks/list failed: cannot reach http://127.0.0.1:{closed_port} "
        f"(Connection refused); check the host set for dead (its profile's host, or DATABRICKS_HOST) and that the "
        f"workspace is up and reachable from here; gave up after 8 attempts (max_attempts)")


def test_debug_logs_every_attempt_that_got_no_answer(tmp_path, monkeypatch, closed_port, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="sqlprovider")
    _dead_profile(tmp_path, monkeypatch, closed_port)
    retry = RetryPolicy(total_seconds=20, max_attempts=3, base_delay=0.01, max_delay=0.05)
    with sqlprovider.connect(retry=retry) as conn, pytest.raises(sqlprovider.ApiError):
        conn.execute("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES ('dead', "
                     "'COMMENT_CREATED', '{\"url\": \"https://x.example\", \"secret\": \"debug-secret-77\"}')")
    lines = [r.getMessage() for r in caplog.records if "-> failed:" in r.getMessage()]
    assert [line.rsplit(" (attempt ", 1)[1] for line in lines] == ["1 of 3)", "2 of 3)", "3 of 3)"]
    assert lines[0].startswith(f"dead POST http://127.0.0.1:{closed_port}/api/2.0/mlflow/registry-webhooks/create "
                               "query=[] body={")
    assert f"-> failed: cannot reach http://127.0.0.1:{closed_port} (Connection refused)" in lines[0] and "'secret': '***'" in lines[0]
    assert not [r for r in caplog.records if "debug-secret-77" in r.getMessage() or "dead-token-1234" in r.getMessage()]


def test_debug_logs_an_attempt_that_timed_out(tmp_path, monkeypatch, caplog):
    import logging
    import socket

    caplog.set_level(logging.DEBUG, logger="sqlprovider")
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        _dead_profile(tmp_path, monkeypatch, silent.getsockname()[1])
        retry = RetryPolicy(total_seconds=20, max_attempts=2, base_delay=0.01, max_delay=0.05, read_timeout=0.2)
        with sqlprovider.connect(retry=retry) as conn, pytest.raises(sqlprovider.ApiError) as err:
            conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'dead'").fetchall()
    lines = [r.getMessage() for r in caplog.records if "-> failed:" in r.getMessage()]
    assert len(lines) == 2 and all(" in time (Read timed out) (attempt" in line for line in lines)
    assert "no answer from" in str(err.value) and "and that the workspace is up" in str(err.value)

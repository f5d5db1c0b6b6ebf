"""EXEC: the lifecycle methods delete and test, in the seed's syntax."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import sqlprovider


def test_exec_delete_in_the_seed_form(ws1, conn):
    hook = ws1.create()
    ws1.reset()
    cursor = conn.execute(f"""EXEC databricks_workspace.ml.model_registry_webhooks.delete
@id='{hook['id']}' --required,
@deployment_name='ws1' --required
;""")
    assert cursor.description is None and cursor.rowcount == 1
    assert ws1.calls() == [("DELETE", "delete", (("id", hook["id"]),), None)]
    assert ws1.list() == []


def test_exec_test_in_the_seed_form_delivers_and_returns_the_answer(ws1, conn, receiver):
    url, got = receiver
    hook = ws1.create(events=["MODEL_VERSION_CREATED", "COMMENT_CREATED"], url=url, model_name="m")
    ws1.reset()
    cursor = conn.execute(f"""EXEC databricks_workspace.ml.model_registry_webhooks.test
@deployment_name='ws1' --required
@@json=
'{{
"id": "{hook['id']}",
"event": "COMMENT_CREATED"
}}'
;""")
    assert [d[0] for d in cursor.description] == ["status_code", "body"]
    assert cursor.fetchall() == [(200, "received")]
    assert ws1.calls() == [("POST", "test", (), {"id": hook["id"], "event": "COMMENT_CREATED"})]
    assert got[0]["event"] == "COMMENT_CREATED" and got[0]["webhook_id"] == hook["id"]


def test_exec_test_with_plain_parameters_and_no_event(ws1, conn, receiver):
    url, got = receiver
    hook = ws1.create(url=url)
    rows = conn.execute(f"EXEC model_registry_webhooks.test @deployment_name='ws1', @id='{hook['id']}'").fetchall()
    assert rows == [(200, "received")]
    assert ws1.calls()[-1] == ("POST", "test", (), {"id": hook["id"]})
    assert got[0]["event"] == "MODEL_VERSION_CREATED"


@pytest.mark.parametrize("sql, message", [
    ("EXEC databricks_workspace.ml.model_registry_webhooks.get @deployment_name='ws1'",
     "EXEC: model_registry_webhooks has no method 'get'; its methods are delete, test"),
    ("EXEC databricks_workspace.ml.model_registry_webhooks.delete @deployment_name='ws1' @webhook_id='x'",
     "EXEC model_registry_webhooks.delete: unknown parameter @webhook_id; valid parameters are @deployment_name, @id"),
    ("EXEC databricks_workspace.ml.model_registry_webhooks.delete @deployment_name='ws1'",
     "EXEC model_registry_webhooks.delete needs @id: add @id='...'"),
    ("EXEC databricks_workspace.ml.model_registry_webhooks.delete @id='x'",
     "EXEC model_registry_webhooks.delete needs @deployment_name: add @deployment_name='<workspace>'"),
    ("EXEC databricks_workspace.ml.model_registry_webhooks.test @deployment_name='ws1' @id='x' @event='NOPE'",
     "@event: unknown value 'NOPE'; valid values are MODEL_VERSION_CREATED, "),
    ("EXEC databricks_workspace.ml.nothing_here.delete @deployment_name='ws1' @id='x'",
     "EXEC: unknown resource 'databricks_workspace.ml.nothing_here'; known resources: "
     "databricks_workspace.ml.model_registry_webhooks"),
])
def test_exec_errors_name_the_valid_choices(ws1, conn, sql, message):
    with pytest.raises((sqlprovider.ProgrammingError, sqlprovider.DataError)) as err:
        conn.execute(sql)
    assert str(err.value).startswith(message)
    assert ws1.calls() == []


def test_exec_test_accepts_the_answer_wrapped_in_webhook(tmp_path, monkeypatch, conn):
    """SDKs before mid-2025 expected {"webhook": {...}}: accept both shapes."""

    class Wrapped(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            body = json.dumps({"webhook": {"status_code": 204, "body": ""}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Wrapped)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = tmp_path / "cfg"
    cfg.write_text(f"[old]\nhost = http://127.0.0.1:{server.server_port}\ntoken = t\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    try:
        rows = conn.execute("EXEC model_registry_webhooks.test @deployment_name='old' @id='abc'").fetchall()
    finally:
        server.shutdown()
    assert rows == [(204, "")]


# --- a parameter given as (SELECT ...): SQLite finds the value first -------------------------------------------
def test_exec_parameter_from_a_query_lists_then_calls_with_the_found_id(ws1, conn):
    keep, gone = ws1.create(model_name="keep"), ws1.create(model_name="gone")
    ws1.reset()
    cursor = conn.execute("""EXEC model_registry_webhooks.delete @deployment_name='ws1',
        @id=(SELECT id FROM databricks_workspace.ml.model_registry_webhooks
             WHERE deployment_name = 'ws1' AND model_name = 'gone') -- a comment""")
    assert cursor.rowcount == 1
    assert [c[:2] for c in ws1.calls()] == [("GET", "list"), ("DELETE", "delete")]
    assert ("model_name", "gone") in ws1.calls()[0][2] and ws1.calls()[1][2] == (("id", gone["id"]),)
    assert [h["id"] for h in ws1.list()] == [keep["id"]]


@pytest.mark.parametrize("where, shown, message", [
    ("model_name = 'nobody'", "model_name = ?",
     "found no row; it must find exactly one (narrow its WHERE or add LIMIT 1)"),
    ("1 = 1", "? = ?", "found more than one row; it must find exactly one (narrow its WHERE or add LIMIT 1)"),
])
def test_exec_parameter_query_must_find_exactly_one_row(ws1, conn, where, shown, message):
    """The query is quoted without its literals: an error never shows a value of the statement."""
    ws1.create(model_name="a"), ws1.create(model_name="b")
    ws1.reset()
    with pytest.raises(sqlprovider.ProgrammingError) as err:
        conn.execute(f"EXEC model_registry_webhooks.delete @deployment_name='ws1' "
                     f"@id=(SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND {where})")
    assert str(err.value) == (f"@id=(SELECT id FROM model_registry_webhooks WHERE deployment_name = ? "
                              f"AND {shown}) {message}")
    assert [c[0] for c in ws1.calls()] == ["GET"]


def test_exec_parameter_query_must_select_one_column(conn):
    with pytest.raises(sqlprovider.ProgrammingError, match=r"^@id=\(SELECT \?, \?\) selects 2 columns; select one$"):
        conn.execute("EXEC model_registry_webhooks.delete @deployment_name='ws1' @id=(SELECT 1, 2)")

"""`workspace` is another name for `deployment_name` (StackQL renamed it): accepted wherever
deployment_name is, with the same requests; both given and different is a one-line error."""

from __future__ import annotations

import pytest

import sqlprovider
from sqlprovider.resources import RESOURCES

LIST = ("GET", "list", (("max_results", "1000"),), None)
NEW = ("INSERT INTO model_registry_webhooks ({column}, events, http_url_spec) "
       "VALUES ('ws1', '[\"MODEL_VERSION_CREATED\"]', '{{\"url\": \"https://example.com/h\"}}')")


@pytest.mark.parametrize("where", [
    "workspace = 'ws1'",
    "WORKSPACE = 'ws1'",
    "workspace IN ('ws1')",
    "workspace = 'ws1' AND deployment_name = 'ws1'",
    "workspace IN ('ws1', 'ws1') AND deployment_name IN ('ws1')",
])
def test_select_by_workspace_lists_like_deployment_name(ws1, conn, where):
    hook = ws1.create()
    ws1.reset()
    rows = conn.execute(f"SELECT id, workspace, deployment_name FROM model_registry_webhooks WHERE {where}").fetchall()
    assert rows == [(hook["id"], "ws1", "ws1")]
    assert ws1.calls() == [LIST]


def test_workspace_in_a_list_fans_out_once_per_workspace(two_workspaces, conn):
    a, b = two_workspaces
    a.create(model_name="m")
    b.create(model_name="m")
    a.reset()
    b.reset()
    rows = conn.execute("SELECT workspace, model_name FROM databricks_workspace.ml.model_registry_webhooks "
                        "WHERE workspace IN ('ws1', 'ws2') AND model_name = 'm' ORDER BY workspace").fetchall()
    assert rows == [("ws1", "m"), ("ws2", "m")]
    assert len(a.calls()) == 1 and len(b.calls()) == 1


def test_workspace_from_a_join_and_a_subquery(two_workspaces, conn):
    a, b = two_workspaces
    a.create()
    b.create()
    joined = conn.execute("WITH w(name) AS (VALUES ('ws1'), ('ws2')) SELECT w.name FROM w "
                          "JOIN model_registry_webhooks h ON h.workspace = w.name ORDER BY 1").fetchall()
    nested = conn.execute("SELECT workspace FROM model_registry_webhooks WHERE workspace IN "
                          "(SELECT 'ws1' UNION SELECT 'ws2') ORDER BY 1").fetchall()
    assert joined == nested == [("ws1",), ("ws2",)]


def test_insert_with_a_workspace_column(ws1, conn):
    cursor = conn.execute(NEW.format(column="workspace"))
    assert [c[:2] for c in ws1.calls()] == [("POST", "create")]
    assert cursor.rowcount == 1 and len(ws1.list()) == 1


def test_insert_returning_workspace(ws1, conn):
    rows = conn.execute(NEW.format(column="workspace") + " RETURNING workspace, deployment_name").fetchall()
    assert rows == [("ws1", "ws1")]


def test_keyed_update_and_delete_by_workspace_make_one_request(ws1, conn):
    hook = ws1.create()
    ws1.reset()
    conn.execute(f"UPDATE model_registry_webhooks SET status = 'DISABLED' WHERE workspace = 'ws1' AND id = '{hook['id']}'")
    conn.execute(f"DELETE FROM model_registry_webhooks WHERE id = '{hook['id']}' AND workspace = 'ws1'")
    assert ws1.calls() == [("PATCH", "update", (), {"id": hook["id"], "status": "DISABLED"}),
                           ("DELETE", "delete", (("id", hook["id"]),), None)]


def test_update_cannot_move_a_webhook_to_another_workspace(ws1, conn):
    hook = ws1.create()
    with pytest.raises(sqlprovider.ValidationError, match="UPDATE cannot change deployment_name"):
        conn.execute(f"UPDATE model_registry_webhooks SET workspace = 'ws2' WHERE workspace = 'ws1' AND id = '{hook['id']}'")


def test_exec_takes_at_workspace(ws1, conn):
    hook = ws1.create()
    rows = conn.execute(f"EXEC model_registry_webhooks.test @workspace='ws1', @id='{hook['id']}'").fetchall()
    assert len(rows) == 1
    conn.execute(f"EXEC model_registry_webhooks.delete @workspace='ws1' @deployment_name='ws1' @id='{hook['id']}'")
    assert ws1.list() == []


@pytest.mark.parametrize("sql, message", [
    ("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND workspace = 'ws2'",
     "deployment_name = 'ws1' and workspace = 'ws2' disagree: workspace is another name for deployment_name; "
     "give one of them"),
    ("INSERT INTO model_registry_webhooks (deployment_name, workspace, events, http_url_spec) VALUES ('ws1', 'ws2', "
     "'[\"MODEL_VERSION_CREATED\"]', '{\"url\": \"https://example.com/h\"}')",
     "INSERT: deployment_name = 'ws1' and workspace = 'ws2' disagree: workspace is another name for deployment_name; "
     "give one of them"),
    ("EXEC model_registry_webhooks.delete @deployment_name='ws1' @workspace='ws2' @id='x'",
     "EXEC model_registry_webhooks.delete: deployment_name = 'ws1' and workspace = 'ws2' disagree: workspace is "
     "another name for deployment_name; give one of them"),
])
def test_both_names_with_different_values_are_an_error_before_any_request(ws1, conn, sql, message):
    ws1.reset()
    with pytest.raises(sqlprovider.ProgrammingError) as err:
        conn.execute(sql)
    assert str(err.value) == message
    assert ws1.calls() == []


def test_every_resource_with_a_deployment_parameter_answers_to_workspace():
    for resource in RESOURCES:
        assert resource.aliases == {"workspace": resource.deployment_param}
        assert "workspace TEXT HIDDEN" in resource.schema()

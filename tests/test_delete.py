"""DELETE: one delete per row; the keyed form makes exactly one request."""

from __future__ import annotations

import json

import pytest

import sqlprovider


def test_keyed_delete_is_exactly_one_request(ws1, conn):
    keep = ws1.create()
    gone = ws1.create()
    ws1.reset()
    cursor = conn.execute(f"DELETE FROM databricks_workspace.ml.model_registry_webhooks "
                          f"WHERE deployment_name = 'ws1' AND id = '{gone['id']}'")
    assert cursor.rowcount == 1
    assert ws1.calls() == [("DELETE", "delete", (("id", gone["id"]),), None)]
    assert [h["id"] for h in ws1.list()] == [keep["id"]]


def test_delete_by_filter_lists_then_deletes_each(ws1, conn):
    a = ws1.create(status="DISABLED")
    b = ws1.create()
    c = ws1.create(status="DISABLED")
    ws1.reset()
    assert conn.execute("DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND status = 'DISABLED'"
                        ).rowcount == 2
    calls = ws1.calls()
    assert calls[0][:2] == ("GET", "list")
    assert sorted(call[2] for call in calls[1:]) == sorted([(("id", a["id"]),), (("id", c["id"]),)])
    assert [h["id"] for h in ws1.list()] == [b["id"]]


def test_delete_returning_gives_the_deleted_rows(ws1, conn):
    hook = ws1.create(description="bye")
    rows = conn.execute(f"DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND id = '{hook['id']}' "
                        "RETURNING id, description, webhook").fetchall()
    assert rows == [(hook["id"], "bye", json.dumps(hook, separators=(",", ":")))]
    assert ws1.list() == []


def test_delete_with_nothing_matching_sends_nothing(ws1, conn):
    ws1.create()
    ws1.reset()
    assert conn.execute("DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND model_name = 'none'"
                        ).rowcount == 0
    assert [c[:2] for c in ws1.calls()] == [("GET", "list")]


def test_keyed_delete_of_unknown_id_is_an_error(ws1, conn):
    with pytest.raises(sqlprovider.ApiError, match=r"ws1: DELETE /api/2.0/mlflow/registry-webhooks/delete failed: "
                                                   r"RESOURCE_DOES_NOT_EXIST \(HTTP 404\)"):
        conn.execute("DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                     "AND id = '0123456789abcdef0123456789abcdef'")

"""Writes are sent when SQLite commits: a ROLLBACK before COMMIT sends nothing."""

from __future__ import annotations

import pytest

import sqlprovider

INSERT = ("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
          "VALUES ('ws1', 'COMMENT_CREATED', '{\"url\": \"https://x.example.com\"}')")


def test_rollback_sends_nothing(ws1, conn):
    conn.execute("BEGIN")
    conn.execute(INSERT)
    conn.execute("ROLLBACK")
    assert ws1.calls() == []


def test_commit_sends_the_queued_writes(ws1, conn):
    conn.execute("BEGIN")
    conn.execute(INSERT)
    conn.execute(INSERT)
    assert ws1.calls() == []
    conn.execute("COMMIT")
    assert [c[:2] for c in ws1.calls()] == [("POST", "create"), ("POST", "create")]
    assert len(ws1.list()) == 2


def test_returning_inside_a_transaction_is_refused(ws1, conn):
    conn.execute("BEGIN")
    with pytest.raises(sqlprovider.NotSupportedError, match="RETURNING is not available inside BEGIN ... COMMIT"):
        conn.execute(INSERT + " RETURNING id")
    conn.execute("ROLLBACK")
    assert ws1.calls() == []


def test_exec_inside_a_transaction_is_refused(ws1, conn):
    hook = ws1.create()
    ws1.reset()
    conn.execute("BEGIN")
    with pytest.raises(sqlprovider.NotSupportedError, match=r"^EXEC is not available inside BEGIN \.\.\. COMMIT: it "
                                                            r"is sent at once and cannot be rolled back"):
        conn.execute(f"EXEC model_registry_webhooks.delete @deployment_name='ws1', @id='{hook['id']}'")
    conn.execute("ROLLBACK")
    assert ws1.calls() == [] and len(ws1.list()) == 1


def test_writes_to_one_webhook_land_in_statement_order(ws1, conn):
    hook = ws1.create()
    ws1.reset()
    where = f"WHERE deployment_name = 'ws1' AND id = '{hook['id']}'"
    conn.execute("BEGIN")
    for status in ("DISABLED", "TEST_MODE", "ACTIVE", "DISABLED"):
        conn.execute(f"UPDATE model_registry_webhooks SET status = '{status}' {where}")
    conn.execute(f"UPDATE model_registry_webhooks SET description = 'last words' {where}")
    conn.execute(f"DELETE FROM model_registry_webhooks {where}")
    conn.execute("COMMIT")
    assert [(c[0], (c[3] or {}).get("status")) for c in ws1.calls()] == [
        ("PATCH", "DISABLED"), ("PATCH", "TEST_MODE"), ("PATCH", "ACTIVE"), ("PATCH", "DISABLED"), ("PATCH", None),
        ("DELETE", None)]
    assert ws1.list() == []


def test_a_failing_transaction_of_several_kinds_is_named_as_its_commit(ws1, conn):
    hook = ws1.create()
    where = f"WHERE deployment_name = 'ws1' AND id = '{hook['id']}'"
    conn.execute("BEGIN")
    conn.execute(f"DELETE FROM model_registry_webhooks {where}")
    conn.execute(f"UPDATE model_registry_webhooks SET description = 'too late' {where}")
    with pytest.raises(sqlprovider.PartialWriteError) as caught:
        conn.execute("COMMIT")
    assert str(caught.value).startswith("COMMIT failed at row 2 of 2: ws1: PATCH /api/2.0/mlflow/registry-webhooks/"
                                        "update failed: RESOURCE_DOES_NOT_EXIST (HTTP 404)")
    assert f"1 of 2 rows were applied (row 1: {hook['id']})" in str(caught.value)

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

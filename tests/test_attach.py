"""ATTACH: the resource names always mean the live resource, whatever file is attached; `snap.<name>` reads
the file. (SQLite looks eponymous virtual tables up only after every attached schema.)"""

from __future__ import annotations

import sqlite3


def _snapshot_like(path) -> None:
    """A file holding a plain table of the resource's name, as `sqlprovider snapshot` writes one."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE model_registry_webhooks (id TEXT, deployment_name TEXT, model_name TEXT)")
        db.executemany("INSERT INTO model_registry_webhooks VALUES (?, 'ws1', ?)",
                       [("stale1", "a"), ("stale2", "b"), ("stale3", "c")])
    db.close()


def test_writes_and_reads_reach_the_workspace_not_the_attached_file(ws1, conn, tmp_path):
    _snapshot_like(tmp_path / "snap.db")
    live = ws1.create(model_name="live")
    conn.execute(f"ATTACH '{tmp_path / 'snap.db'}' AS snap")
    ws1.reset()
    rows = conn.execute("SELECT id, model_name FROM model_registry_webhooks WHERE deployment_name = 'ws1'").fetchall()
    assert rows == [(live["id"], "live")]
    cursor = conn.execute("DELETE FROM databricks_workspace.ml.model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert cursor.rowcount == 1
    assert [call[:2] for call in ws1.calls()] == [("GET", "list"), ("GET", "list"), ("DELETE", "delete")]
    assert ws1.list() == []
    assert conn.execute("SELECT id FROM snap.model_registry_webhooks ORDER BY id").fetchall() == [
        ("stale1",), ("stale2",), ("stale3",)]


def test_a_table_of_a_resource_name_is_refused_and_the_connection_keeps_working(ws1, conn):
    import pytest

    import sqlprovider

    for sql in ("CREATE TABLE model_registry_webhooks(x)",
                "CREATE TABLE databricks_workspace.ml.model_registry_webhooks(x)",
                "CREATE VIEW MODEL_REGISTRY_WEBHOOKS AS SELECT 1"):
        with pytest.raises(sqlprovider.ProgrammingError) as info:
            conn.execute(sql)
        assert str(info.value).lower() == ("model_registry_webhooks is a resource's name (the live table): give "
                                           "your table or view another name")
    conn.execute("CREATE TABLE mine(x)")  # other names are as in SQLite
    hook = ws1.create()
    assert conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1'").fetchall() == [
        (hook["id"],)]

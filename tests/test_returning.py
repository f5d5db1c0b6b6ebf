"""RETURNING on every form of write SQLite accepts: on the resources it returns what the API answered,
on SQLite's own tables it is SQLite's; never silently dropped."""

from __future__ import annotations

import pytest

import sqlprovider

SPEC = '{"url": "https://r.example.com/h"}'


@pytest.mark.parametrize("insert", [
    "INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES (?1, ?2, ?3)",
    "REPLACE INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES (?1, ?2, ?3)",
    "INSERT OR IGNORE INTO main.model_registry_webhooks (deployment_name, events, http_url_spec) VALUES (?1, ?2, ?3)",
    'INSERT INTO "model_registry_webhooks" (deployment_name, events, http_url_spec) VALUES (?1, ?2, ?3)',
    "WITH v(d, e, s) AS (VALUES (?1, ?2, ?3)) INSERT INTO model_registry_webhooks "
    "(deployment_name, events, http_url_spec) SELECT d, e, s FROM v",
])
def test_insert_forms(ws1, conn, insert):
    rows = conn.execute(insert + " RETURNING id, status", ("ws1", '["COMMENT_CREATED"]', SPEC)).fetchall()
    [hook] = ws1.list()
    assert rows == [(hook["id"], "ACTIVE")]


def test_update_and_delete_with_numbered_and_named_parameters(ws1, conn):
    hook = ws1.create(model_name="m")
    ws1.reset()
    rows = conn.execute("UPDATE model_registry_webhooks SET description = ?1 WHERE deployment_name = ?2 AND id = ?3 "
                        "RETURNING id, description", ("new", "ws1", hook["id"])).fetchall()
    assert rows == [(hook["id"], "new")]
    assert ws1.calls() == [("PATCH", "update", (), {"id": hook["id"], "description": "new"})]  # keyed: no listing
    rows = conn.execute("DELETE FROM model_registry_webhooks WHERE deployment_name = :ws RETURNING model_name",
                        {"ws": "ws1"}).fetchall()
    assert rows == [("m",)] and ws1.list() == []


def test_sqlite_own_tables_keep_their_returning(conn):
    conn.execute("CREATE TEMP TABLE notes(n INTEGER, text TEXT)")
    cursor = conn.execute("INSERT INTO notes VALUES (1, 'a'), (2, 'b') RETURNING n, upper(text) AS t")
    assert (cursor.fetchall(), cursor.rowcount) == ([(1, "A"), (2, "B")], 2)
    assert [d[0] for d in cursor.description] == ["n", "t"]
    cursor = conn.execute("UPDATE notes SET n = n * 10 RETURNING n")
    assert (sorted(cursor.fetchall()), cursor.rowcount) == ([(10,), (20,)], 2)
    cursor = conn.execute("DELETE FROM notes")
    assert (cursor.fetchall(), cursor.rowcount, cursor.description) == ([], 2, None)


def test_a_mistake_in_returning_is_an_error_before_anything_is_sent(ws1, conn):
    hook = ws1.create()
    ws1.reset()
    insert = ("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
              f"VALUES ('ws1', 'COMMENT_CREATED', '{SPEC}') RETURNING idd")
    delete = "DELETE FROM model_registry_webhooks WHERE deployment_name = 'ws1' RETURNING nosuch"
    for statement, column in ((insert, "idd"), (delete, "nosuch")):
        with pytest.raises(sqlprovider.ProgrammingError) as caught:
            conn.execute(statement)
        assert str(caught.value) == f"RETURNING: no such column: {column}"
    assert ws1.calls() == [] and [h["id"] for h in ws1.list()] == [hook["id"]]


def test_returning_that_matches_nothing_still_has_its_columns(ws1, conn):
    cursor = conn.execute("UPDATE model_registry_webhooks SET status = 'ACTIVE' WHERE deployment_name = 'ws1' "
                          "AND model_name = 'nope' RETURNING id, status AS now")
    assert (cursor.fetchall(), [d[0] for d in cursor.description], cursor.rowcount) == ([], ["id", "now"], 0)

"""The sandbox's delivery log as a SQL table, and event simulation as an EXEC: a second resource
served by the same engine."""

from __future__ import annotations

import pytest

import sqlprovider


def test_emit_delivers_to_matching_active_webhooks_and_the_log_shows_it(ws1, conn, receiver):
    url, got = receiver
    active = ws1.create(events=["MODEL_VERSION_CREATED"], url=url, model_name="m")
    ws1.create(events=["MODEL_VERSION_CREATED"], url=url, model_name="m", status="DISABLED")
    ws1.create(events=["MODEL_VERSION_CREATED"], url=url, model_name="other")
    wide = ws1.create(events=["MODEL_VERSION_CREATED"], url=url)
    cursor = conn.execute("EXEC sqlprovider.sandbox.deliveries.emit @deployment_name='ws1' "
                          "@event='MODEL_VERSION_CREATED' @model_name='m' @version='3'")
    assert [d[0] for d in cursor.description] == ["webhook_id", "event", "url", "job_id", "status_code",
                                                  "duration_ms", "error"]
    rows = cursor.fetchall()
    assert sorted((r[0], r[1], r[2], r[4], r[6]) for r in rows) == sorted(
        [(active["id"], "MODEL_VERSION_CREATED", url, 200, None), (wide["id"], "MODEL_VERSION_CREATED", url, 200, None)])
    assert sorted(g["webhook_id"] for g in got) == sorted([active["id"], wide["id"]])
    assert all(g["model_name"] == "m" and g["version"] == "3" for g in got)

    ws1.reset()
    log = conn.execute("SELECT webhook_id, event, source, status_code FROM sandbox_deliveries "
                       "WHERE deployment_name = 'ws1' AND webhook_id = ?", (active["id"],)).fetchall()
    assert log == [(active["id"], "MODEL_VERSION_CREATED", "emit", 200)]
    assert [r.query for r in ws1.sandbox.requests if r.path.endswith("/deliveries/list")] == [
        (("webhook_id", active["id"]), ("max_results", "1000"))]


def test_test_deliveries_are_logged_too(ws1, conn, receiver):
    url, _ = receiver
    hook = ws1.create(events=["COMMENT_CREATED"], url=url)
    conn.execute(f"EXEC databricks_workspace.ml.model_registry_webhooks.test @deployment_name='ws1' @id='{hook['id']}'")
    rows = conn.execute("SELECT webhook_id, event, source, url, status_code, error FROM "
                        "sqlprovider.sandbox.deliveries WHERE deployment_name = 'ws1'").fetchall()
    assert rows == [(hook["id"], "COMMENT_CREATED", "test", url, 200, None)]


def test_a_delivery_by_its_numeric_id(ws1, conn, receiver):
    url, _ = receiver
    hook = ws1.create(events=["COMMENT_CREATED"], url=url)
    for _ in range(3):
        conn.execute(f"EXEC model_registry_webhooks.test @deployment_name='ws1' @id='{hook['id']}'")
    for where in ("id = 2", "id = '2'", "id IN (2, 3)", "id = 2.0"):
        rows = conn.execute(f"SELECT id FROM sandbox_deliveries WHERE deployment_name = 'ws1' AND {where}").fetchall()
        assert rows == ([(2,), (3,)] if "IN" in where else [(2,)]), where


def test_the_delivery_log_is_read_only(ws1, conn):
    with pytest.raises(sqlprovider.NotSupportedError, match="sandbox_deliveries is read-only: the API has no create "
                                                            "method, so INSERT is not possible"):
        conn.execute("INSERT INTO sandbox_deliveries (deployment_name, event) VALUES ('ws1', 'COMMENT_CREATED')")


def test_a_workspace_that_is_not_a_sandbox_is_named_as_such(prod, conn):
    with pytest.raises(sqlprovider.ApiError) as caught:
        conn.execute("SELECT * FROM sandbox_deliveries WHERE deployment_name = 'prod'").fetchall()
    assert str(caught.value) == (
        "sandbox_deliveries exists only in a sqlprovider sandbox, and prod is not one (GET "
        "/api/2.0/sandbox/deliveries/list answered HTTP 404): use deployment_name = 'sandbox', or a profile whose "
        "host is a running `sqlprovider sandbox serve`")
    with pytest.raises(sqlprovider.ApiError) as caught:
        conn.execute("EXEC sqlprovider.sandbox.deliveries.emit @deployment_name='prod', "
                     "@event='MODEL_VERSION_CREATED', @model_name='m'").fetchall()
    assert str(caught.value).startswith("sandbox_deliveries exists only in a sqlprovider sandbox, and prod is not "
                                        "one (POST /api/2.0/sandbox/emit answered HTTP 404): use "
                                        "@deployment_name='sandbox', or a profile")
    # the webhooks of the same workspace are fine
    assert conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'prod'").fetchall() == [
        ("a" * 32,)]

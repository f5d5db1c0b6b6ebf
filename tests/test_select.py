"""SELECT: pushdown of deployment, events, model_name, paging and LIMIT, asserted at the HTTP level."""

from __future__ import annotations

import json

import pytest

import sqlprovider

COLUMNS = ("id", "model_name", "creation_timestamp", "description", "events", "http_url_spec", "job_spec",
           "last_updated_timestamp", "status")


def row(hook: dict) -> tuple:
    """The SQL row the API object should become."""
    compact = lambda v: None if v is None else json.dumps(v, separators=(",", ":"))  # noqa: E731
    return (hook["id"], hook.get("model_name"), hook["creation_timestamp"], hook.get("description"),
            compact(hook["events"]), compact(hook.get("http_url_spec")), compact(hook.get("job_spec")),
            hook["last_updated_timestamp"], hook["status"])


def test_select_star_returns_every_webhook_as_rows(ws1, conn):
    a = ws1.create(model_name="m1", description="first")
    b = ws1.create(events=["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"], status="DISABLED")
    ws1.reset()
    cursor = conn.execute("SELECT * FROM databricks_workspace.ml.model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert tuple(d[0] for d in cursor.description) == COLUMNS
    assert cursor.fetchall() == [row(a), row(b)]
    assert ws1.calls() == [("GET", "list", (("max_results", "1000"),), None)]


def test_short_name_quoted_name_and_table_valued_form(ws1, conn):
    a = ws1.create()
    for sql in ("SELECT * FROM model_registry_webhooks WHERE deployment_name = 'ws1'",
                'SELECT * FROM "databricks_workspace.ml.model_registry_webhooks" WHERE deployment_name = \'ws1\'',
                "SELECT * FROM model_registry_webhooks('ws1')",
                "SELECT w.* FROM databricks_workspace.ml.model_registry_webhooks AS w WHERE w.deployment_name = 'ws1'"):
        assert conn.execute(sql).fetchall() == [row(a)], sql


def test_missing_deployment_is_a_clear_error_before_any_request(ws1, conn):
    ws1.create()
    ws1.reset()
    with pytest.raises(sqlprovider.ProgrammingError) as err:
        conn.execute("SELECT id FROM model_registry_webhooks WHERE model_name = 'm'").fetchall()
    assert str(err.value) == ("model_registry_webhooks needs deployment_name: add WHERE deployment_name = "
                              "'<workspace>' (or deployment_name = 'sandbox' for the local sandbox workspace)")
    assert ws1.calls() == []


def test_events_equality_is_one_pushed_down_listing(ws1, conn):
    ws1.create(events=["COMMENT_CREATED"])
    b = ws1.create(events=["MODEL_VERSION_CREATED", "MODEL_VERSION_TAG_SET"])
    ws1.reset()
    rows = conn.execute("SELECT id, events FROM model_registry_webhooks "
                        "WHERE deployment_name = 'ws1' AND events = 'MODEL_VERSION_TAG_SET'").fetchall()
    assert rows == [(b["id"], '["MODEL_VERSION_CREATED","MODEL_VERSION_TAG_SET"]')]
    assert ws1.calls() == [("GET", "list", (("events", "MODEL_VERSION_TAG_SET"), ("max_results", "1000")), None)]


def test_events_in_is_one_listing_with_the_events_repeated(ws1, conn):
    a = ws1.create(events=["COMMENT_CREATED"])
    ws1.create(events=["MODEL_VERSION_TAG_SET"])
    c = ws1.create(events=["TRANSITION_REQUEST_CREATED", "COMMENT_CREATED"])
    ws1.reset()
    rows = conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "AND events IN ('TRANSITION_REQUEST_CREATED', 'COMMENT_CREATED')").fetchall()
    assert rows == [(a["id"],), (c["id"],)]
    assert ws1.calls() == [("GET", "list", (("events", "COMMENT_CREATED"), ("events", "TRANSITION_REQUEST_CREATED"),
                                            ("max_results", "1000")), None)]


def test_all_of_several_events_as_the_readme_writes_it(ws1, conn):
    ws1.create(events=["COMMENT_CREATED"])
    both = ws1.create(events=["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"])
    ws1.reset()
    rows = conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "AND events = 'COMMENT_CREATED' "
                        "AND EXISTS (SELECT 1 FROM json_each(events) WHERE value = 'MODEL_VERSION_TAG_SET')").fetchall()
    assert rows == [(both["id"],)]
    assert ws1.calls() == [("GET", "list", (("events", "COMMENT_CREATED"), ("max_results", "1000")), None)]


def test_collations_other_than_binary_are_left_to_sqlite(ws1, conn):
    a = ws1.create(model_name="m1")
    ws1.create(model_name="m2")
    ws1.reset()
    rows = conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "AND model_name = 'M1' COLLATE NOCASE").fetchall()
    assert rows == [(a["id"],)]
    assert ws1.calls() == [("GET", "list", (("max_results", "1000"),), None)]  # not pushed down: the API is exact
    rows = conn.execute("SELECT model_name FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "AND id = ? COLLATE NOCASE", (a["id"].upper(),)).fetchall()
    assert rows == [("m1",)]


def test_unknown_event_is_refused_with_the_valid_names(ws1, conn):
    ws1.reset()
    with pytest.raises(sqlprovider.ValidationError, match=r"events: unknown value 'MODEL_CREATED'; valid values are MODEL_VERSION_CREATED, MODEL_VERSION_TRANSITIONED_STAGE, "):
        conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND events = 'MODEL_CREATED'")
    assert ws1.calls() == []


def test_model_name_is_pushed_down_and_in_fans_out(ws1, conn):
    a = ws1.create(model_name="m1")
    b = ws1.create(model_name="m2")
    ws1.create(model_name="m3")
    ws1.reset()
    assert conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND model_name = 'm2'"
                        ).fetchall() == [(b["id"],)]
    assert ws1.calls() == [("GET", "list", (("model_name", "m2"), ("max_results", "1000")), None)]
    ws1.reset()
    rows = conn.execute("SELECT id, model_name FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "AND model_name IN ('m2', 'm1')").fetchall()
    assert rows == [(a["id"], "m1"), (b["id"], "m2")]
    assert sorted(c[2] for c in ws1.calls()) == [(("model_name", "m1"), ("max_results", "1000")),
                                                   (("model_name", "m2"), ("max_results", "1000"))]


def test_deployment_in_lists_each_workspace_and_rows_keep_their_deployment(two_workspaces, conn):
    one, two = two_workspaces
    a = one.create(description="in one")
    b = two.create(description="in two")
    one.reset()
    two.reset()
    rows = conn.execute("SELECT deployment_name, id, description FROM model_registry_webhooks "
                        "WHERE deployment_name IN ('ws2', 'ws1')").fetchall()
    assert rows == [("ws1", a["id"], "in one"), ("ws2", b["id"], "in two")]
    assert len(one.calls()) == 1 and len(two.calls()) == 1


def test_join_supplies_the_deployment(two_workspaces, conn):
    one, two = two_workspaces
    a = one.create()
    b = two.create()
    conn.execute("CREATE TEMP TABLE workspaces(name TEXT, team TEXT)")
    conn.execute("INSERT INTO workspaces VALUES ('ws1', 'red'), ('ws2', 'blue')")
    rows = conn.execute("SELECT ws.team, w.id FROM workspaces AS ws JOIN model_registry_webhooks AS w "
                        "ON w.deployment_name = ws.name ORDER BY ws.team").fetchall()
    assert rows == [("blue", b["id"]), ("red", a["id"])]


def test_limit_stops_paging_and_asks_only_for_what_it_needs(ws1, conn):
    hooks = [ws1.create(description=f"h{i}") for i in range(12)]
    ws1.reset()
    rows = conn.execute("SELECT description FROM model_registry_webhooks WHERE deployment_name = 'ws1' LIMIT 3").fetchall()
    assert rows == [("h0",), ("h1",), ("h2",)]
    assert ws1.calls() == [("GET", "list", (("max_results", "3"),), None)]
    ws1.reset()
    rows = conn.execute("SELECT description FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "LIMIT 2 OFFSET 4").fetchall()
    assert rows == [("h4",), ("h5",)]
    assert ws1.calls() == [("GET", "list", (("max_results", "6"),), None)]
    assert len(hooks) == 12


def test_limit_with_order_by_still_sorts_everything(ws1, conn):
    for name in ("c", "a", "d", "b"):
        ws1.create(description=name)
    ws1.reset()
    rows = conn.execute("SELECT description FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "ORDER BY description LIMIT 2").fetchall()
    assert rows == [("a",), ("b",)]
    assert ws1.calls() == [("GET", "list", (("max_results", "1000"),), None)]


def test_limit_with_a_local_filter_stays_right(ws1, conn):
    for i in range(5):
        ws1.create(description=f"h{i}", status="ACTIVE" if i < 4 else "DISABLED")
    rows = conn.execute("SELECT description FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "AND status = 'DISABLED' LIMIT 1").fetchall()
    assert rows == [("h4",)]


def test_explicit_max_results_and_page_token_are_passed_through(ws1, conn):
    hooks = [ws1.create(description=f"h{i}") for i in range(5)]
    ws1.reset()
    rows = conn.execute("SELECT description FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "AND max_results = 2").fetchall()
    assert rows == [(f"h{i}",) for i in range(5)]
    calls = ws1.calls()
    assert [c[2][0] for c in calls] == [("max_results", "2")] * 3
    assert calls[0][2] == (("max_results", "2"),)
    token = dict(calls[1][2])["page_token"]
    ws1.reset()
    rows = conn.execute("SELECT description FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                        "AND max_results = 2 AND page_token = ?", (token,)).fetchall()
    assert rows == [("h2",), ("h3",), ("h4",)]
    assert ws1.calls()[0][2] == (("max_results", "2"), ("page_token", token))
    assert len(hooks) == 5


def test_pages_are_fetched_lazily(ws1, conn):
    for i in range(25):
        ws1.create(description=f"h{i}")
    ws1.reset()
    cursor = conn.execute("SELECT description FROM model_registry_webhooks WHERE deployment_name = 'ws1' "
                          "AND max_results = 10")
    assert cursor.fetchone() == ("h0",)
    assert len(ws1.calls()) == 1
    assert len(cursor.fetchall()) == 24
    assert len(ws1.calls()) == 3


def test_other_predicates_are_filtered_by_sqlite_after_listing(ws1, conn):
    a = ws1.create(url="https://a.example.com/x", status="TEST_MODE")
    b = ws1.create(url="https://b.example.com/y", model_name="fraud")
    ws1.reset()
    base = "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND "
    assert conn.execute(base + "id = ?", (b["id"],)).fetchall() == [(b["id"],)]
    assert conn.execute(base + "status = 'TEST_MODE'").fetchall() == [(a["id"],)]
    assert conn.execute(base + "model_name LIKE 'fr%'").fetchall() == [(b["id"],)]
    assert conn.execute(base + "json_extract(http_url_spec, '$.url') LIKE '%a.example%'").fetchall() == [(a["id"],)]
    assert conn.execute(base + "EXISTS (SELECT 1 FROM json_each(events) WHERE value = 'MODEL_VERSION_CREATED')"
                        ).fetchall() == [(a["id"],), (b["id"],)]
    assert all(c[2] == (("max_results", "1000"),) for c in ws1.calls())


def test_empty_string_parameters_mean_not_given(ws1, conn):
    a = ws1.create()
    ws1.reset()
    rows = conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1' AND events = '' "
                        "AND max_results = '' AND model_name = '' AND page_token = ''").fetchall()
    assert rows == [(a["id"],)]
    assert ws1.calls() == [("GET", "list", (("max_results", "1000"),), None)]


def test_workspace_errors_name_the_workspace(ws1, conn, monkeypatch, tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text(f"[ws1]\nhost = {ws1.sandbox.url}\ntoken = not-the-token\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(cfg))
    with sqlprovider.connect() as other:
        with pytest.raises(sqlprovider.ApiError) as err:
            other.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'ws1'")
    assert str(err.value).startswith("ws1: GET /api/2.0/mlflow/registry-webhooks/list failed: HTTP 403: "
                                     "Invalid access token.; check that the token for ws1 is valid")
    assert "not-the-token" not in str(err.value)
    assert err.value.error_code == 403


def test_deployment_in_a_subquery_fans_out(two_workspaces, conn):
    one, two = two_workspaces
    a = one.create()
    b = two.create()
    one.reset()
    two.reset()
    conn.execute("CREATE TEMP TABLE wanted(name TEXT)")
    conn.execute("INSERT INTO wanted VALUES ('ws1'), ('ws2')")
    rows = conn.execute("SELECT deployment_name, id FROM model_registry_webhooks "
                        "WHERE deployment_name IN (SELECT name FROM wanted)").fetchall()
    assert rows == [("ws1", a["id"]), ("ws2", b["id"])]
    assert [c[:2] for c in one.calls()] == [("GET", "list")] and [c[:2] for c in two.calls()] == [("GET", "list")]


def test_a_misspelt_stackql_name_names_the_known_ones(conn):
    with pytest.raises(sqlprovider.ProgrammingError) as caught:
        conn.execute("SELECT * FROM databricks_workspace.ml.model_registry_webhook WHERE deployment_name = 'ws1'")
    assert str(caught.value) == ("unknown resource databricks_workspace.ml.model_registry_webhook; known resources "
                                 "are databricks_workspace.ml.model_registry_webhooks, sqlprovider.sandbox.deliveries")

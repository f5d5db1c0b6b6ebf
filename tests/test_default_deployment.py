"""A default workspace: connect(deployment=...) and sqlprovider://<workspace> for tools that cannot add
`WHERE deployment_name = ...` to every query (BI tools browsing a table)."""

from __future__ import annotations

import pandas
import pytest
import sqlalchemy

import sqlprovider

LIST_ALL = ("GET", "list", (("max_results", "1000"),), None)


@pytest.fixture
def default_conn(ws1):
    with sqlprovider.connect(deployment="ws1") as connection:
        yield connection


def test_a_query_that_names_no_workspace_lists_the_default_one(ws1, default_conn):
    hook = ws1.create(model_name="m", description="d")
    ws1.reset()
    rows = default_conn.execute("SELECT id, model_name, description, deployment_name, workspace "
                                "FROM model_registry_webhooks").fetchall()
    assert rows == [(hook["id"], "m", "d", "ws1", "ws1")]
    assert ws1.calls() == [LIST_ALL]


def test_pushdown_still_applies_with_the_default(ws1, default_conn):
    ws1.create(model_name="m")
    ws1.reset()
    assert default_conn.execute("SELECT count(*) FROM model_registry_webhooks WHERE model_name = 'm' LIMIT 5"
                                ).fetchall() == [(1,)]
    assert ws1.calls() == [("GET", "list", (("model_name", "m"), ("max_results", "1000")), None)]


def test_a_workspace_named_in_the_query_wins_over_the_default(two_workspaces):
    ws1, ws2 = two_workspaces
    ws1.create(model_name="one")
    ws2.create(model_name="two")
    with sqlprovider.connect(deployment="ws1") as conn:
        ws1.reset()
        assert conn.execute("SELECT model_name, deployment_name FROM model_registry_webhooks "
                            "WHERE deployment_name = 'ws2'").fetchall() == [("two", "ws2")]
        assert conn.execute("SELECT model_name FROM model_registry_webhooks WHERE workspace IN ('ws1', 'ws2') "
                            "ORDER BY 1").fetchall() == [("one",), ("two",)]
    assert ws1.calls() == [LIST_ALL]  # only the IN listing asked ws1


def test_writes_and_exec_use_the_default(ws1, default_conn):
    created = default_conn.execute("INSERT INTO model_registry_webhooks (model_name, events, http_url_spec) "
                                   "VALUES ('m', '[\"COMMENT_CREATED\"]', '{\"url\": \"https://h.example\"}') "
                                   "RETURNING id, deployment_name").fetchall()
    [(hook_id, deployment)] = created
    assert deployment == "ws1" and [h["id"] for h in ws1.list()] == [hook_id]
    ws1.reset()
    default_conn.execute(f"UPDATE model_registry_webhooks SET status = 'DISABLED' WHERE id = '{hook_id}'")
    assert ws1.calls() == [("PATCH", "update", (), {"id": hook_id, "status": "DISABLED"})]  # keyed: no listing
    ws1.reset()
    default_conn.execute(f"EXEC databricks_workspace.ml.model_registry_webhooks.delete @id='{hook_id}'")
    assert ws1.calls() == [("DELETE", "delete", (("id", hook_id),), None)]
    assert ws1.list() == []


def test_keyed_delete_with_the_default_is_one_request(ws1, default_conn):
    hook = ws1.create()
    ws1.reset()
    assert default_conn.execute(f"DELETE FROM model_registry_webhooks WHERE id = '{hook['id']}'").rowcount == 1
    assert ws1.calls() == [("DELETE", "delete", (("id", hook["id"]),), None)]


def test_without_a_default_the_workspace_is_still_required(ws1, conn):
    with pytest.raises(sqlprovider.ProgrammingError, match="model_registry_webhooks needs deployment_name: add "
                                                           "WHERE deployment_name = '<workspace>'"):
        conn.execute("SELECT * FROM model_registry_webhooks").fetchall()


@pytest.mark.parametrize("options, error, message", [
    ({"deployment": "evil.example.com"}, sqlprovider.ConfigurationError,
     "deployment_name 'evil.example.com' is not a workspace name"),
    ({"deployment": "ws1", "workspace": "ws2"}, sqlprovider.ProgrammingError,
     "connect(): deployment='ws1' and workspace='ws2' disagree: they all name the default workspace; give one"),
])
def test_a_bad_default_is_refused_at_connect(ws1, options, error, message):
    with pytest.raises(error) as caught:
        sqlprovider.connect(**options)
    assert str(caught.value).startswith(message)
    assert ws1.calls() == []


@pytest.mark.parametrize("name", ["workspace", "profile"])
def test_workspace_and_profile_are_other_names_of_the_option(ws1, name):
    ws1.create(model_name="m")
    with sqlprovider.connect(**{name: "ws1"}) as conn:
        assert conn.execute("SELECT model_name FROM model_registry_webhooks").fetchall() == [("m",)]


@pytest.mark.parametrize("url", ["sqlprovider://ws1", "sqlprovider://?deployment=ws1", "sqlprovider://?profile=ws1"])
def test_sqlalchemy_url_selects_the_default_workspace(ws1, url):
    hook = ws1.create(model_name="m")
    engine = sqlalchemy.create_engine(url)
    try:
        frame = pandas.read_sql("SELECT id, model_name, deployment_name FROM model_registry_webhooks", engine)
        table = sqlalchemy.Table("model_registry_webhooks", sqlalchemy.MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            selected = connection.execute(sqlalchemy.select(table.c.id, table.c.model_name)).fetchall()
    finally:
        engine.dispose()
    assert frame.to_dict("records") == [{"id": hook["id"], "model_name": "m", "deployment_name": "ws1"}]
    assert selected == [(hook["id"], "m")]


def test_sqlalchemy_url_naming_two_workspaces_is_refused():
    with pytest.raises(sqlalchemy.exc.ArgumentError,
                       match="the URL names workspace 'ws1' and deployment='ws2': give one"):
        sqlalchemy.create_engine("sqlprovider://ws1?deployment=ws2")


def test_an_empty_workspace_is_not_given_so_the_default_answers(ws1, default_conn):
    """As the StackQL templates produce it: `deployment_name = ''` with --var deployment_name= ."""
    hook = ws1.create(model_name="m")
    assert default_conn.execute("SELECT id, deployment_name FROM model_registry_webhooks "
                                "WHERE deployment_name = '' AND model_name = 'm'").fetchall() == [(hook["id"], "ws1")]

"""The `sqlprovider://` SQLAlchemy dialect: pandas.read_sql, inspection and URL options, over real HTTP."""

from __future__ import annotations

import pandas
import pytest
import sqlalchemy
from sqlalchemy import INTEGER, TEXT

import sqlprovider
from sqlprovider.resources import RESOURCES
from sqlprovider.adapters.sqlalchemy_dialect import SQLProviderDialect


@pytest.fixture
def engine():
    engine = sqlalchemy.create_engine("sqlprovider://")
    yield engine
    engine.dispose()


def test_the_entry_point_registers_the_dialect(engine):
    assert isinstance(engine.dialect, SQLProviderDialect)
    assert engine.dialect.dbapi is sqlprovider and engine.dialect.paramstyle == "qmark"


def test_pandas_read_sql_gives_the_exact_rows(ws1, engine):
    one = ws1.create(model_name="m1", description="first")
    two = ws1.create(events=["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"], model_name="m2", status="DISABLED")
    frame = pandas.read_sql("SELECT id, model_name, events, status, creation_timestamp, deployment_name "
                            "FROM model_registry_webhooks WHERE deployment_name='ws1' ORDER BY model_name", engine)
    assert list(frame.columns) == ["id", "model_name", "events", "status", "creation_timestamp", "deployment_name"]
    assert frame.to_dict("records") == [
        {"id": one["id"], "model_name": "m1", "events": '["MODEL_VERSION_CREATED"]', "status": "ACTIVE",
         "creation_timestamp": one["creation_timestamp"], "deployment_name": "ws1"},
        {"id": two["id"], "model_name": "m2", "events": '["COMMENT_CREATED","MODEL_VERSION_TAG_SET"]',
         "status": "DISABLED", "creation_timestamp": two["creation_timestamp"], "deployment_name": "ws1"},
    ]
    assert str(frame["creation_timestamp"].dtype) == "int64"


def test_pandas_with_bound_parameters_and_an_empty_result(ws1, engine):
    ws1.create(model_name="a")
    ws1.create(model_name="b")
    query = sqlalchemy.text("SELECT model_name FROM databricks_workspace.ml.model_registry_webhooks "
                            "WHERE deployment_name = :d AND model_name = :m")
    assert pandas.read_sql(query, engine, params={"d": "ws1", "m": "b"}).to_dict("records") == [{"model_name": "b"}]
    empty = pandas.read_sql(query, engine, params={"d": "ws1", "m": "nobody"})
    assert list(empty.columns) == ["model_name"] and len(empty) == 0


def test_inspection_lists_resources_and_their_columns(engine):
    inspector = sqlalchemy.inspect(engine)
    assert inspector.get_table_names() == sorted(r.name for r in RESOURCES)
    assert "model_registry_webhooks" in inspector.get_table_names()
    assert inspector.get_schema_names() == ["main"] and inspector.get_view_names() == []
    columns = inspector.get_columns("model_registry_webhooks")
    assert [(c["name"], type(c["type"])) for c in columns] == [
        ("id", TEXT), ("model_name", TEXT), ("creation_timestamp", INTEGER), ("description", TEXT), ("events", TEXT),
        ("http_url_spec", TEXT), ("job_spec", TEXT), ("last_updated_timestamp", INTEGER), ("status", TEXT),
        ("deployment_name", TEXT)]
    assert columns[4]["comment"].endswith("(JSON text)")
    assert columns[-1]["comment"].startswith("hidden; required in WHERE")
    assert inspector.has_table("model_registry_webhooks") and not inspector.has_table("nope")
    assert inspector.get_pk_constraint("model_registry_webhooks") == {"constrained_columns": [], "name": None}
    assert inspector.get_indexes("model_registry_webhooks") == []
    assert inspector.get_foreign_keys("model_registry_webhooks") == []
    assert inspector.get_unique_constraints("model_registry_webhooks") == []
    with pytest.raises(sqlalchemy.exc.NoSuchTableError):
        inspector.get_columns("nope")


def test_a_reflected_table_queries_through_core(ws1, engine):
    ws1.create(model_name="m")
    table = sqlalchemy.Table("model_registry_webhooks", sqlalchemy.MetaData(), autoload_with=engine)
    query = sqlalchemy.select(table.c.model_name, table.c.status).where(table.c.deployment_name == "ws1")
    with engine.connect() as connection:
        assert connection.execute(query).all() == [("m", "ACTIVE")]


def test_url_options_go_to_connect(ws1):
    engine = sqlalchemy.create_engine("sqlprovider://?max_workers=3&dry_run=true")
    try:
        raw = engine.raw_connection()
        assert raw.driver_connection.engine.max_workers == 3 and raw.driver_connection.requests.dry_run
        raw.close()
    finally:
        engine.dispose()


@pytest.mark.parametrize("url, message", [
    ("sqlprovider://?colour=red", "unknown URL option 'colour'; sqlprovider:// takes max_workers, dry_run and "
                                  "deployment"),
    ("sqlprovider://?max_workers=0", "max_workers='0': give a whole number of at least 1"),
    ("sqlprovider://?dry_run=maybe", "dry_run='maybe': give true or false"),
    ("sqlprovider://sandbox/db", "a sqlprovider:// URL takes a workspace name and options only"),
    ("sqlprovider://user@sandbox", "a sqlprovider:// URL takes a workspace name and options only"),
    ("sqlprovider://sandbox:8080", "a sqlprovider:// URL takes a workspace name and options only"),
])
def test_bad_urls_are_refused_by_create_engine_with_the_fix(url, message):
    with pytest.raises(sqlalchemy.exc.ArgumentError, match=message):
        sqlalchemy.create_engine(url)


def test_a_bad_workspace_in_the_url_is_refused_at_connect():
    engine = sqlalchemy.create_engine("sqlprovider://?deployment=a.b")
    with pytest.raises(sqlalchemy.exc.DBAPIError, match="deployment_name 'a.b' is not a workspace name"):
        engine.connect()

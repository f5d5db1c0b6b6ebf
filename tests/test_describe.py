"""DESCRIBE, SHOW METHODS and SHOW RESOURCES: derived from the resource definitions, no HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlprovider.engine import describe
from sqlprovider.errors import ProgrammingError, StatementError
from sqlprovider.resources import RESOURCES
from sqlprovider.resources.model_registry_webhooks import WEBHOOKS

WEBHOOK_ROWS = [
    ("id", "TEXT", "column", "", "key; set by the workspace"),
    ("model_name", "TEXT", "column", "", "cannot be changed; filter sent to the API"),
    ("creation_timestamp", "INTEGER", "column", "", "set by the workspace"),
    ("description", "TEXT", "column", "", ""),
    ("events", "TEXT", "column", "", "JSON array; 12 allowed values; required on INSERT; filter sent to the API"),
    ("http_url_spec", "TEXT", "column", "", "JSON object; must have url; write-only http_url_spec.authorization, "
     "http_url_spec.secret; INSERT takes exactly one of http_url_spec, job_spec"),
    ("job_spec", "TEXT", "column", "", "JSON object; must have job_id, access_token; write-only "
     "job_spec.access_token; INSERT takes exactly one of http_url_spec, job_spec"),
    ("last_updated_timestamp", "INTEGER", "column", "", "set by the workspace"),
    ("status", "TEXT", "column", "", "one of ACTIVE, DISABLED, TEST_MODE"),
    ("deployment_name", "TEXT", "parameter", "required", "which workspace"),
    ("max_results", "INTEGER", "parameter", "optional", "sent to the API"),
    ("page_token", "TEXT", "parameter", "optional", "sent to the API"),
    ("workspace", "TEXT", "parameter", "optional", "another name for deployment_name"),
]


@pytest.mark.parametrize("sql", [
    "DESCRIBE databricks_workspace.ml.model_registry_webhooks",
    'describe "databricks_workspace.ml.model_registry_webhooks";',
    "DESC databricks_workspace.ml.[model_registry_webhooks] -- a comment",
    "DESCRIBE model_registry_webhooks",
    'DESCRIBE "model_registry_webhooks"',
    "DESCRIBE `Model_Registry_Webhooks`",
])
def test_describe_accepts_short_and_stackql_names_quoted_or_not(sql):
    assert describe.run(sql) == (("name", "type", "kind", "required", "notes"), WEBHOOK_ROWS)


def test_describe_extended_adds_descriptions_with_the_allowed_values():
    columns, rows = describe.run("DESCRIBE EXTENDED databricks_workspace.ml.model_registry_webhooks")
    assert columns[-1] == "description"
    by_name = {row[0]: row for row in rows}
    assert [row[:5] for row in rows] == WEBHOOK_ROWS
    assert by_name["events"][5].startswith("JSON array of the events that trigger the webhook. Allowed: "
                                           "MODEL_VERSION_CREATED, MODEL_VERSION_TRANSITIONED_STAGE,")
    assert by_name["deployment_name"][5].startswith("Workspace: 'sandbox'")


def test_show_methods_lists_sql_verbs_and_exec_methods():
    columns, rows = describe.run("SHOW METHODS IN databricks_workspace.ml.model_registry_webhooks")
    assert columns == ("method", "sql_verb", "required_params", "optional_params", "description")
    assert [row[:4] for row in rows] == [
        ("list", "SELECT", "deployment_name", "events, model_name, max_results, page_token"),
        ("create", "INSERT", "deployment_name, events, http_url_spec|job_spec", "model_name, description, status"),
        ("update", "UPDATE", "deployment_name, id", "description, events, http_url_spec, job_spec, status"),
        ("delete", "DELETE", "deployment_name, id", ""),
        ("delete", "EXEC", "@deployment_name, @id", ""),
        ("test", "EXEC", "@deployment_name, @id", "@event"),
    ]
    assert rows[-1][4] == "Send a test event to the webhook and show the receiver's answer"


def test_every_resource_is_described_from_its_data():
    for resource in RESOURCES:
        _, rows = describe.run(f"DESCRIBE {resource.qualified_name}")
        assert [r[0] for r in rows] == resource.all_names
        _, methods = describe.run(f"SHOW METHODS IN {resource.name}")
        assert [m[0] for m in methods if m[1] == "EXEC"] == [m.name for m in resource.exec_methods]


def test_show_resources_with_and_without_a_service():
    columns, rows = describe.run("SHOW RESOURCES")
    assert columns == ("name", "stackql_name", "description")
    assert [r[:2] for r in rows] == [(r.name, r.qualified_name) for r in RESOURCES]
    assert describe.run("SHOW RESOURCES IN databricks_workspace.ml")[1] == [
        (WEBHOOKS.name, WEBHOOKS.qualified_name, WEBHOOKS.description)]
    assert describe.run("SHOW RESOURCES IN nowhere")[1] == []


def test_unknown_resource_is_one_line_naming_the_known_ones():
    with pytest.raises(ProgrammingError) as info:
        describe.run("DESCRIBE databricks_workspace.ml.webhooks")
    message = str(info.value)
    assert message.startswith("unknown resource 'databricks_workspace.ml.webhooks'; known resources: "
                              "databricks_workspace.ml.model_registry_webhooks (model_registry_webhooks)")
    assert "\n" not in message


@pytest.mark.parametrize("sql, expected", [
    ("DESCRIBE", "expected one resource name"),
    ("DESCRIBE a b", "expected one resource name"),
    ("DESCRIBE 'model_registry_webhooks'", "expected one resource name"),
    ("SHOW METHODS model_registry_webhooks", "SHOW METHODS needs IN <resource>"),
    ("SHOW TABLES", "cannot read 'SHOW TABLES'; the forms are DESCRIBE [EXTENDED] <resource>"),
])
def test_malformed_statements_say_the_forms(sql, expected):
    with pytest.raises(StatementError, match="^" + expected.replace("[", r"\[").replace("]", r"\]")):
        describe.run(sql)


def test_describe_through_the_connection(conn):
    cursor = conn.execute("DESCRIBE model_registry_webhooks;")
    assert [d[0] for d in cursor.description] == ["name", "type", "kind", "required", "notes"]
    assert cursor.fetchall() == WEBHOOK_ROWS


# --- SHOW INSERT: StackQL's INSERT template generator ---------------------------------------------------
QUERIES = Path(__file__).resolve().parent.parent / "queries"
REQUIRED_TEMPLATE = """INSERT INTO databricks_workspace.ml.model_registry_webhooks (
events,
http_url_spec,
job_spec,
deployment_name
)
SELECT
'{{ events }}' /* required */,
'{{ http_url_spec }}' /* exactly one of http_url_spec, job_spec */,
'{{ job_spec }}' /* exactly one of http_url_spec, job_spec */,
'{{ deployment_name }}'
RETURNING
webhook
;"""


@pytest.mark.parametrize("sql", ["SHOW INSERT INTO databricks_workspace.ml.model_registry_webhooks",
                                 "show insert into model_registry_webhooks;"])
def test_show_insert_prints_the_seeds_insert_example(sql):
    seed = "".join(line for line in (QUERIES / "create_webhook.sql").read_text().splitlines(keepends=True)
                   if not line.startswith("--"))  # the seed's INSERT, verbatim (run by test_queries.py)
    assert describe.run(sql) == (("insert_statement",), [(seed.rstrip("\n"),)])


@pytest.mark.parametrize("sql", ["SHOW INSERT /*+ REQUIRED */ INTO databricks_workspace.ml.model_registry_webhooks",
                                 "SHOW INSERT /*+ required */ INTO model_registry_webhooks"])
def test_show_insert_required_keeps_the_required_columns_and_the_exactly_one_group(sql):
    assert describe.run(sql) == (("insert_statement",), [(REQUIRED_TEMPLATE,)])


def test_show_insert_is_derived_from_the_definition():
    from dataclasses import replace

    from sqlprovider.resources.base import Column

    extra = Column("priority", "INTEGER", on_create=True, required_on_create=True)
    resource = replace(WEBHOOKS, columns=WEBHOOKS.columns + (extra,), exactly_one_on_create=())
    text = describe.insert_template(resource, required_only=True)[1][0][0]
    assert text.splitlines()[1:4] == ["events,", "priority,", "deployment_name"]
    assert "'{{ events }}' /* required */,\n{{ priority }} /* required */,\n'{{ deployment_name }}'\n" in text


@pytest.mark.parametrize("sql, expected", [
    ("SHOW INSERT /*+ AWAIT */ INTO model_registry_webhooks", ProgrammingError),
    ("SHOW INSERT model_registry_webhooks", "SHOW INSERT needs INTO <resource>"),
    ("SHOW INSERT INTO sandbox_deliveries", "sqlprovider.sandbox.deliveries takes no INSERT"),
])
def test_show_insert_mistakes_are_one_line(sql, expected):
    with pytest.raises((StatementError, ProgrammingError)) as info:
        describe.run(sql)
    message = str(info.value)
    assert "\n" not in message
    if isinstance(expected, str):
        assert message.startswith(expected)
    else:
        assert message == "SHOW INSERT: unknown hint AWAIT; the one hint is /*+ REQUIRED */"


def test_show_insert_through_the_connection_sends_nothing(conn):
    cursor = conn.execute("SHOW INSERT /*+ REQUIRED */ INTO databricks_workspace.ml.model_registry_webhooks")
    assert [d[0] for d in cursor.description] == ["insert_statement"]
    assert cursor.fetchall() == [(REQUIRED_TEMPLATE,)]
    assert conn._workspaces == {}

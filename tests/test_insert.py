"""INSERT: one create per row, validated before any request, RETURNING from the API's answers."""

from __future__ import annotations

import json

import pytest

import sqlprovider

CREATE = "/api/2.0/mlflow/registry-webhooks/create"


def test_multi_row_values_make_one_create_each_with_exact_bodies(ws1, conn):
    cursor = conn.execute("""
        INSERT INTO databricks_workspace.ml.model_registry_webhooks
            (deployment_name, events, model_name, description, http_url_spec, job_spec, status)
        VALUES ('ws1', '["MODEL_VERSION_CREATED"]', 'm1', 'one', '{"url": "https://a.example.com/h", "secret": "s3cret"}', '', ''),
               ('ws1', 'COMMENT_CREATED,MODEL_VERSION_TAG_SET', '', '', '', '{"job_id": "42", "access_token": "dapi-x"}', 'TEST_MODE')
    """)
    assert cursor.rowcount == 2
    # creates are sent concurrently, so they may arrive in either order
    assert sorted(ws1.calls(), key=lambda c: c[3]["events"]) == [
        ("POST", "create", (), {"events": ["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"],
                                "job_spec": {"job_id": "42", "access_token": "dapi-x"}, "status": "TEST_MODE"}),
        ("POST", "create", (), {"events": ["MODEL_VERSION_CREATED"], "model_name": "m1", "description": "one",
                                "http_url_spec": {"url": "https://a.example.com/h", "secret": "s3cret"}}),
    ]
    hooks = sorted(ws1.list(), key=lambda h: h["events"])
    assert [(h.get("model_name"), h["status"]) for h in hooks] == [(None, "TEST_MODE"), ("m1", "ACTIVE")]
    assert hooks[1]["http_url_spec"] == {"url": "https://a.example.com/h", "enable_ssl_verification": True}


def test_insert_select_creates_one_per_selected_row(ws1, conn):
    conn.execute("CREATE TEMP TABLE wanted(model TEXT)")
    conn.execute("INSERT INTO wanted VALUES ('a'), ('b'), ('c')")
    conn.execute("""INSERT INTO model_registry_webhooks (deployment_name, model_name, events, http_url_spec)
                    SELECT 'ws1', model, '["MODEL_VERSION_CREATED"]', json_object('url', 'https://h.example.com/' || model)
                    FROM wanted""")
    assert sorted((h["model_name"], h["http_url_spec"]["url"]) for h in ws1.list()) == [
        ("a", "https://h.example.com/a"), ("b", "https://h.example.com/b"), ("c", "https://h.example.com/c")]


def test_returning_gives_what_the_api_answered(ws1, conn):
    rows = conn.execute("""INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec)
                           VALUES ('ws1', '["COMMENT_CREATED"]', '{"url": "https://x.example.com"}'),
                                  ('ws1', '["MODEL_VERSION_CREATED"]', '{"url": "https://y.example.com"}')
                           RETURNING id, status, creation_timestamp, webhook""").fetchall()
    # RETURNING keeps statement order, whatever order the concurrent creates landed in
    by_url = {h["http_url_spec"]["url"]: h for h in ws1.list()}
    hooks = [by_url["https://x.example.com"], by_url["https://y.example.com"]]
    assert [r[0] for r in rows] == [h["id"] for h in hooks]
    assert [(r[1], r[2]) for r in rows] == [("ACTIVE", h["creation_timestamp"]) for h in hooks]
    assert [json.loads(r[3]) for r in rows] == hooks
    star = conn.execute("""INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec)
                           VALUES ('ws1', '["COMMENT_CREATED"]', '{"url": "https://z.example.com"}') RETURNING *""")
    assert [d[0] for d in star.description] == ["id", "model_name", "creation_timestamp", "description", "events",
                                                "http_url_spec", "job_spec", "last_updated_timestamp", "status"]
    assert len(star.fetchall()) == 1


@pytest.mark.parametrize("values, message", [
    ("'[\"MODEL_CREATED\"]', '{\"url\": \"https://x\"}', NULL, NULL",
     "events: unknown value 'MODEL_CREATED'; valid values are MODEL_VERSION_CREATED, "),
    ("'', '{\"url\": \"https://x\"}', NULL, NULL", "INSERT needs events: give a JSON array such as '[\"MODEL_VERSION_CREATED\"]'"),
    ("'[\"COMMENT_CREATED\"]', '{\"url\": \"https://x\"}', NULL, 'ENABLED'",
     "status: unknown value 'ENABLED'; valid values are ACTIVE, DISABLED, TEST_MODE"),
    ("'[\"COMMENT_CREATED\"]', '{\"url\": https://x}', NULL, NULL", "http_url_spec is not valid JSON (Expecting value at character 8)"),
    ("'[\"COMMENT_CREATED\"]', NULL, NULL, NULL", "INSERT gave neither of http_url_spec or job_spec: give exactly one"),
    ("'[\"COMMENT_CREATED\"]', '{\"url\": \"https://x\"}', '{\"job_id\": 1, \"access_token\": \"t\"}', NULL",
     "INSERT gave both of http_url_spec or job_spec: give exactly one"),
    ("'[\"COMMENT_CREATED\"]', '{\"secret\": \"s\"}', NULL, NULL", "http_url_spec is missing url"),
    ("'[\"COMMENT_CREATED\"]', NULL, '{\"job_id\": 1}', NULL", "job_spec is missing access_token"),
])
def test_validation_happens_before_any_request(ws1, conn, values, message):
    with pytest.raises(sqlprovider.DataError) as err:
        conn.execute("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec, job_spec, status) "
                     f"VALUES ('ws1', '[\"COMMENT_CREATED\"]', '{{\"url\": \"https://ok\"}}', NULL, NULL), ('ws1', {values})")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)
    assert ws1.calls() == []  # the good first row was not sent either


def test_registered_model_created_needs_a_registry_wide_webhook(ws1, conn):
    with pytest.raises(sqlprovider.ValidationError, match="REGISTERED_MODEL_CREATED is only valid for a registry-wide "
                                                          "webhook; leave model_name empty"):
        conn.execute("INSERT INTO model_registry_webhooks (deployment_name, model_name, events, http_url_spec) "
                     "VALUES ('ws1', 'm', '[\"REGISTERED_MODEL_CREATED\"]', '{\"url\": \"https://x\"}')")
    assert ws1.calls() == []


def test_missing_deployment_and_read_only_columns(ws1, conn):
    with pytest.raises(sqlprovider.ProgrammingError, match=r"INSERT needs deployment_name: add it to the column list"):
        conn.execute("INSERT INTO model_registry_webhooks (events, http_url_spec) VALUES ('COMMENT_CREATED', '{\"url\": \"https://x\"}')")
    with pytest.raises(sqlprovider.ValidationError, match="creation_timestamp is set by the workspace"):
        conn.execute("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec, creation_timestamp) "
                     "VALUES ('ws1', 'COMMENT_CREATED', '{\"url\": \"https://x\"}', 5)")
    assert ws1.calls() == []


def test_failure_part_way_reports_what_was_applied(ws1):
    with sqlprovider.connect(max_workers=1) as conn:
        with pytest.raises(sqlprovider.PartialWriteError) as err:
            # the sandbox, like Databricks, refuses a plain-http URL to a non-loopback host
            conn.execute("""INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES
                ('ws1', 'COMMENT_CREATED', '{"url": "https://one.example.com"}'),
                ('ws1', 'COMMENT_CREATED', '{"url": "http://two.example.com"}'),
                ('ws1', 'COMMENT_CREATED', '{"url": "https://three.example.com"}')""")
    created = ws1.list()
    assert len(created) == 1
    message = str(err.value)
    assert message.startswith(f"INSERT failed at row 2 of 3: ws1: POST {CREATE} failed: INVALID_PARAMETER_VALUE (HTTP 400): ")
    assert message.endswith(f" | 1 of 3 rows were applied (row 1: {created[0]['id']}); 1 not attempted; "
                            "applied changes are not rolled back")
    assert err.value.applied == created
    assert "\n" not in message


def test_returning_expressions_keep_the_names_the_user_wrote(ws1, conn):
    cursor = conn.execute("""INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec)
                             VALUES ('ws1', 'COMMENT_CREATED', '{"url": "https://n.example.com"}')
                             RETURNING json_extract(http_url_spec, '$.url'), upper(status) AS loud""")
    assert [d[0] for d in cursor.description] == ["json_extract(http_url_spec, '$.url')", "loud"]
    assert cursor.fetchall() == [("https://n.example.com", "ACTIVE")]


@pytest.mark.parametrize("value, message", [
    (b"abc", "description is a blob, not text: give a string (CAST(... AS TEXT) makes one)"),
    (float("inf"), "description: inf cannot be sent as JSON; give a finite number or text"),
    (10**30, "a parameter is too large (int too big to convert): SQLite integers are 64-bit; pass it as text"),
])
def test_values_the_api_cannot_take_are_refused_before_any_request(ws1, conn, value, message):
    ws1.reset()
    with pytest.raises(sqlprovider.Error) as caught:
        conn.execute("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec, description) "
                     "VALUES ('ws1', 'COMMENT_CREATED', '{\"url\": \"https://x.example\"}', ?)", (value,))
    assert str(caught.value).endswith(message)
    assert ws1.calls() == []


def test_a_number_for_a_text_column_is_sent_as_text(ws1, conn):
    conn.execute("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec, description) "
                 "VALUES ('ws1', 'COMMENT_CREATED', '{\"url\": \"https://x.example\"}', 42)")
    assert [(c[1], c[3]["description"]) for c in ws1.calls()] == [("create", "42")]

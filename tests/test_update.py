"""UPDATE: one PATCH per row with only the SET columns; the keyed form makes exactly one request."""

from __future__ import annotations

import json
import re

import pytest

import sqlprovider


def test_keyed_update_is_exactly_one_patch_with_only_the_set_columns(ws1, conn):
    hook = ws1.create(description="old")
    ws1.reset()
    cursor = conn.execute(f"UPDATE model_registry_webhooks SET status = 'DISABLED', description = 'new' "
                          f"WHERE deployment_name = 'ws1' AND id = '{hook['id']}'")
    assert cursor.rowcount == 1
    assert ws1.calls() == [("PATCH", "update", (), {"id": hook["id"], "status": "DISABLED", "description": "new"})]
    assert (ws1.list()[0]["status"], ws1.list()[0]["description"]) == ("DISABLED", "new")


def test_keyed_update_with_bound_parameters(ws1, conn):
    hook = ws1.create()
    ws1.reset()
    conn.execute("UPDATE model_registry_webhooks SET events = :events WHERE deployment_name = :ws AND id = :id",
                 {"events": '["COMMENT_CREATED"]', "ws": "ws1", "id": hook["id"]})
    assert ws1.calls() == [("PATCH", "update", (), {"id": hook["id"], "events": ["COMMENT_CREATED"]})]


def test_empty_strings_are_not_sent_and_same_id_is_allowed(ws1, conn):
    hook = ws1.create()
    ws1.reset()
    conn.execute(f"""UPDATE databricks_workspace.ml.model_registry_webhooks
                     SET id = '{hook['id']}', description = '', events = '', http_url_spec = '{{"url": "https://new.example.com"}}',
                         job_spec = '', status = ''
                     WHERE deployment_name = 'ws1' --required
                     AND id = '{hook['id']}' --required""")
    assert ws1.calls() == [("PATCH", "update", (), {"id": hook["id"], "http_url_spec": {"url": "https://new.example.com"}})]


def test_update_by_filter_lists_then_patches_each_match(ws1, conn):
    a = ws1.create(model_name="m")
    b = ws1.create(model_name="m")
    ws1.create(model_name="other")
    ws1.reset()
    cursor = conn.execute("UPDATE model_registry_webhooks SET status = 'TEST_MODE' "
                          "WHERE deployment_name = 'ws1' AND model_name = 'm'")
    assert cursor.rowcount == 2
    calls = ws1.calls()
    assert calls[0] == ("GET", "list", (("model_name", "m"), ("max_results", "1000")), None)
    assert sorted(c[3]["id"] for c in calls[1:]) == sorted([a["id"], b["id"]])
    assert all(c[:2] == ("PATCH", "update") and c[3]["status"] == "TEST_MODE" for c in calls[1:])


def test_set_referring_to_columns_uses_the_listed_row(ws1, conn):
    hook = ws1.create(description="draft")
    ws1.reset()
    conn.execute(f"UPDATE model_registry_webhooks SET description = description || ' (reviewed)' "
                 f"WHERE deployment_name = 'ws1' AND id = '{hook['id']}'")
    assert [c[:2] for c in ws1.calls()] == [("GET", "list"), ("PATCH", "update")]
    assert ws1.list()[0]["description"] == "draft (reviewed)"


def test_returning_gives_the_updated_webhook(ws1, conn):
    hook = ws1.create()
    rows = conn.execute(f"""UPDATE model_registry_webhooks SET description = 'x'
                            WHERE deployment_name = 'ws1' AND id = '{hook['id']}' RETURNING webhook""").fetchall()
    returned = json.loads(rows[0][0])
    assert returned == ws1.list()[0]
    assert returned["description"] == "x" and returned["last_updated_timestamp"] >= hook["last_updated_timestamp"]


@pytest.mark.parametrize("assignment, message", [
    ("id = 'ffffffffffffffffffffffffffffffff'", "UPDATE cannot change id from '[0-9a-f]{32}' to 'f{32}'"),
    ("model_name = 'other'", "UPDATE cannot change model_name (from 'm' )?to 'other'; the API has no way to change it"),
    ("creation_timestamp = 1", "UPDATE cannot change creation_timestamp; changeable columns: description, events, "
                               "http_url_spec, job_spec, status$"),
    ("status = 'PAUSED'", "status: unknown value 'PAUSED'; valid values are ACTIVE, DISABLED, TEST_MODE$"),
    ("http_url_spec = '{\"url\": \"https://a\"}', job_spec = '{\"job_id\": 1, \"access_token\": \"t\"}'",
     "UPDATE set both http_url_spec and job_spec: set only one"),
    ("deployment_name = 'ws2'", "UPDATE cannot change deployment_name"),
])
def test_invalid_updates_are_refused_before_any_request(ws1, conn, assignment, message):
    hook = ws1.create(model_name="m")
    for where in (f"deployment_name = 'ws1' AND id = '{hook['id']}'", "deployment_name = 'ws1' AND model_name = 'm'"):
        ws1.reset()
        with pytest.raises(sqlprovider.DataError) as err:
            conn.execute(f"UPDATE model_registry_webhooks SET {assignment} WHERE {where}")
        assert re.match(message, str(err.value)), where
        assert [c[0] for c in ws1.calls()] in ([], ["GET"])


def test_keyed_update_of_an_unknown_id_says_so(ws1, conn):
    with pytest.raises(sqlprovider.ApiError, match="RESOURCE_DOES_NOT_EXIST"):
        conn.execute("UPDATE model_registry_webhooks SET status = 'DISABLED' "
                     "WHERE deployment_name = 'ws1' AND id = '0123456789abcdef0123456789abcdef'")


@pytest.mark.parametrize("where", ["deployment_name = 'ws1' AND id = 'nonexistent'", "deployment_name = 'ws1'"])
def test_an_update_that_sets_nothing_says_so_and_sends_nothing(ws1, conn, where):
    ws1.create()
    ws1.reset()
    with pytest.raises(sqlprovider.ProgrammingError) as caught:
        conn.execute(f"UPDATE model_registry_webhooks SET description = '', status = NULL WHERE {where}")
    assert str(caught.value) == ("UPDATE sets nothing: '' and NULL mean \"not given\" (leave unchanged), and no "
                                 "other value is set; give at least one column a value")
    assert [c[0] for c in ws1.calls()] in ([], ["GET"])  # the listing that found the rows, at most

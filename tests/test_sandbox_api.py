"""The sandbox's registry-webhooks API over raw HTTP: shapes, paging, filters, errors, auth, records."""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlprovider.sandbox import RecordedRequest, Sandbox
from sqlprovider.sandbox.store import Store
from sqlprovider.webhooks import EVENTS

API = "/api/2.0/mlflow/registry-webhooks/"
VALID_EVENTS = ", ".join(EVENTS)
HTTP_SPEC = {"url": "https://hooks.example.com/in"}


def call(sb: Sandbox, method: str, endpoint: str, *, params=None, body=None, data=None,
         token: str | None = "default") -> requests.Response:
    headers = {}
    if token == "default":
        headers["Authorization"] = f"Bearer {sb.token}"
    elif token is not None:
        headers["Authorization"] = token
    return requests.request(method, sb.url + API + endpoint, params=params, json=body, data=data,
                            headers=headers, timeout=10)


def create(sb: Sandbox, **fields) -> dict:
    body = {"events": ["MODEL_VERSION_CREATED"], "http_url_spec": HTTP_SPEC, **fields}
    response = call(sb, "POST", "create", body=body)
    assert response.status_code == 200, response.text
    return response.json()["webhook"]


def listing(sb: Sandbox, **params) -> dict:
    response = call(sb, "GET", "list", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def error(response: requests.Response) -> tuple[int, object, str]:
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error_code", "message"}
    return response.status_code, body["error_code"], body["message"]


# -- create and the webhook object -----------------------------------------------------------------

def test_create_returns_the_webhook_with_empty_fields_omitted(sandbox):
    before = int(time.time() * 1000)
    hook = create(sandbox)
    after = int(time.time() * 1000)
    assert re.fullmatch(r"[0-9a-f]{32}", hook["id"])
    assert type(hook["creation_timestamp"]) is int and before <= hook["creation_timestamp"] <= after
    assert hook["last_updated_timestamp"] == hook["creation_timestamp"]
    assert hook == {"id": hook["id"], "creation_timestamp": hook["creation_timestamp"],
                    "last_updated_timestamp": hook["creation_timestamp"], "events": ["MODEL_VERSION_CREATED"],
                    "status": "ACTIVE",
                    "http_url_spec": {"url": "https://hooks.example.com/in", "enable_ssl_verification": True}}


def test_create_with_every_field_and_a_job_spec(sandbox):
    hook = create(sandbox, events=["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"], model_name="churn",
                  description="notify the team", status="TEST_MODE", http_url_spec=None,
                  job_spec={"job_id": "1234", "access_token": "dapi-job-secret",
                            "workspace_url": "https://other.cloud.databricks.com"})
    assert {k: v for k, v in hook.items() if k not in ("id", "creation_timestamp", "last_updated_timestamp")} == {
        "model_name": "churn", "events": ["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"],
        "description": "notify the team", "status": "TEST_MODE",
        "job_spec": {"job_id": "1234", "workspace_url": "https://other.cloud.databricks.com"}}


def test_an_integer_job_id_is_stored_and_returned_as_a_string(sandbox, tmp_path):
    hook = create(sandbox, http_url_spec=None, model_name="churn", job_spec={"job_id": 42, "access_token": "t"})
    assert hook["job_spec"] == {"job_id": "42"}
    assert listing(sandbox)["webhooks"][0]["job_spec"] == {"job_id": "42"}
    updated = call(sandbox, "PATCH", "update", body={"id": hook["id"], "job_spec": {"job_id": 7, "access_token": "t"}})
    assert updated.json()["webhook"]["job_spec"] == {"job_id": "7"}
    assert call(sandbox, "POST", "test", body={"id": hook["id"]}).status_code == 200
    log = requests.get(sandbox.url + "/api/2.0/sandbox/deliveries/list",
                       headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=10).json()
    assert [row["job_id"] for row in log["deliveries"]] == ["7"]
    # a data file written before job ids were normalised holds the number: it is read back as a string
    store = Store(sandbox.data_path)
    try:
        old = store.create(events=["COMMENT_CREATED"], model_name=None, description=None, status="ACTIVE",
                           http_url_spec=None, job_spec={"job_id": 99, "access_token": "t"})
    finally:
        store.close()
    assert [h["job_spec"] for h in listing(sandbox)["webhooks"] if h["id"] == old.id] == [{"job_id": "99"}]


@pytest.mark.parametrize("job_id", [1.5, True, [1], {"id": 1}])
def test_a_job_id_of_another_type_is_malformed(sandbox, job_id):
    body = {"events": ["COMMENT_CREATED"], "job_spec": {"job_id": job_id, "access_token": "t"}}
    assert error(call(sandbox, "POST", "create", body=body)) == (
        400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a string for field "
                                  "'job_spec.job_id'.")


def test_ids_are_unique(sandbox):
    ids = {create(sandbox)["id"] for _ in range(20)}
    assert len(ids) == 20


def test_enable_ssl_verification_false_is_returned(sandbox):
    hook = create(sandbox, http_url_spec={"url": "https://self-signed.example", "enable_ssl_verification": False})
    assert hook["http_url_spec"] == {"url": "https://self-signed.example", "enable_ssl_verification": False}


def test_plain_http_is_accepted_for_loopback_hosts(sandbox):
    for url in ("http://127.0.0.1:9/a", "http://localhost/b", "http://[::1]:8080/c", "http://127.9.9.9/d"):
        assert create(sandbox, http_url_spec={"url": url})["http_url_spec"]["url"] == url


def test_write_only_fields_are_never_returned(sandbox):
    hook = create(sandbox, http_url_spec={"url": "https://h.example", "secret": "s3cr3t-value",
                                          "authorization": "Bearer receiver-cred"})
    job = create(sandbox, http_url_spec=None, job_spec={"job_id": "7", "access_token": "job-token-value"})
    updated = call(sandbox, "PATCH", "update", body={"id": hook["id"], "http_url_spec": {
        "url": "https://h.example", "secret": "other-secret-value"}})
    texts = [json.dumps(hook), json.dumps(job), updated.text, call(sandbox, "GET", "list").text]
    for text in texts:
        for secret in ("s3cr3t-value", "receiver-cred", "job-token-value", "other-secret-value"):
            assert secret not in text
        assert '"secret"' not in text and '"authorization"' not in text and '"access_token"' not in text
    assert job["job_spec"] == {"job_id": "7"}


# -- list: paging ----------------------------------------------------------------------------------

def test_empty_list_is_an_empty_object(sandbox):
    assert listing(sandbox) == {}


def test_pages_in_creation_order_and_the_last_page_has_no_token(sandbox):
    hooks = [create(sandbox, description=f"h{i}") for i in range(5)]
    first = listing(sandbox, max_results=2)
    assert [h["id"] for h in first["webhooks"]] == [hooks[0]["id"], hooks[1]["id"]]
    second = listing(sandbox, max_results=2, page_token=first["next_page_token"])
    assert [h["description"] for h in second["webhooks"]] == ["h2", "h3"]
    third = listing(sandbox, max_results=2, page_token=second["next_page_token"])
    assert third == {"webhooks": [hooks[4]]}


def test_a_page_ending_exactly_at_the_last_webhook_has_no_token(sandbox):
    for i in range(4):
        create(sandbox, description=f"h{i}")
    first = listing(sandbox, max_results=2)
    second = listing(sandbox, max_results=2, page_token=first["next_page_token"])
    assert [h["description"] for h in second["webhooks"]] == ["h2", "h3"]
    assert "next_page_token" not in second


def test_default_page_size_is_100_and_max_results_is_capped_at_1000(sandbox, tmp_path):
    store = Store(tmp_path / "sb.db")  # a second writer on the same file: quicker than 1001 POSTs
    try:
        for i in range(1001):
            store.create(events=["MODEL_VERSION_CREATED"], model_name=None, description=f"h{i}", status="ACTIVE",
                         http_url_spec={"url": "https://h.example", "enable_ssl_verification": True}, job_spec=None)
    finally:
        store.close()
    page = listing(sandbox)
    assert len(page["webhooks"]) == 100 and "next_page_token" in page
    page = listing(sandbox, max_results=5000)
    assert len(page["webhooks"]) == 1000
    rest = listing(sandbox, max_results=5000, page_token=page["next_page_token"])
    assert [h["description"] for h in rest["webhooks"]] == ["h1000"] and "next_page_token" not in rest


def test_page_tokens_survive_inserts_and_deletes_between_pages(sandbox):
    hooks = [create(sandbox, description=f"h{i}") for i in range(6)]
    first = listing(sandbox, max_results=3)
    assert [h["description"] for h in first["webhooks"]] == ["h0", "h1", "h2"]
    call(sandbox, "DELETE", "delete", params={"id": hooks[1]["id"]})  # already seen
    call(sandbox, "DELETE", "delete", params={"id": hooks[3]["id"]})  # not yet seen
    create(sandbox, description="h6")
    second = listing(sandbox, max_results=3, page_token=first["next_page_token"])
    assert [h["description"] for h in second["webhooks"]] == ["h4", "h5", "h6"]
    assert "next_page_token" not in second


def test_page_tokens_are_opaque_urlsafe_strings(sandbox):
    for _ in range(3):
        create(sandbox)
    token = listing(sandbox, max_results=1)["next_page_token"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)


@pytest.mark.parametrize("token", [
    "not-a-token",
    "!!!",
    base64.urlsafe_b64encode(b"[1,2]").decode(),
    base64.urlsafe_b64encode(b'{"after": -1}').decode(),
    base64.urlsafe_b64encode(b'{"after": "3"}').decode(),
    base64.urlsafe_b64encode(b'{"after": 9223372036854775808}').decode(),  # past SQLite's largest integer
    base64.urlsafe_b64encode(b'{"after": 99999999999999999999999}').decode(),
    base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),  # too deep for the JSON parser
])
def test_invalid_page_token(sandbox, token):
    assert error(call(sandbox, "GET", "list", params={"page_token": token})) == (
        400, "INVALID_PARAMETER_VALUE", "Invalid page_token: it was not returned by a previous list call.")


def test_a_page_token_at_the_largest_position_is_an_empty_page(sandbox):
    create(sandbox)
    token = base64.urlsafe_b64encode(b'{"after": 9223372036854775807}').decode()
    assert listing(sandbox, page_token=token) == {}


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1.5", ""])
def test_invalid_max_results(sandbox, value):
    assert error(call(sandbox, "GET", "list", params={"max_results": value})) == (
        400, "INVALID_PARAMETER_VALUE",
        "Invalid value for parameter 'max_results': it must be a positive integer (at most 1000 are returned per page).")


# -- list: filters ---------------------------------------------------------------------------------

def test_events_filter_matches_any_of_the_given_events(sandbox):
    a = create(sandbox, events=["MODEL_VERSION_CREATED"])
    b = create(sandbox, events=["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"])
    create(sandbox, events=["TRANSITION_REQUEST_CREATED"])
    d = create(sandbox, events=["MODEL_VERSION_TAG_SET"])
    page = listing(sandbox, events=["MODEL_VERSION_CREATED", "MODEL_VERSION_TAG_SET"])
    assert [h["id"] for h in page["webhooks"]] == [a["id"], b["id"], d["id"]]
    assert listing(sandbox, events="REGISTERED_MODEL_CREATED") == {}


def test_model_name_filter(sandbox):
    create(sandbox)
    m1 = create(sandbox, model_name="m1")
    create(sandbox, model_name="m2")
    m1b = create(sandbox, model_name="m1", events=["COMMENT_CREATED"])
    assert [h["id"] for h in listing(sandbox, model_name="m1")["webhooks"]] == [m1["id"], m1b["id"]]
    assert [h["id"] for h in listing(sandbox, model_name="m1", events="COMMENT_CREATED")["webhooks"]] == [m1b["id"]]
    assert listing(sandbox, model_name="nope") == {}


def test_list_takes_its_parameters_from_a_json_body_too(sandbox):
    create(sandbox, model_name="m1", events=["COMMENT_CREATED"])
    hooks = [create(sandbox, model_name="m1") for _ in range(3)]
    first = call(sandbox, "GET", "list", body={"events": ["MODEL_VERSION_CREATED"], "model_name": "m1",
                                                 "max_results": 2}).json()
    assert [h["id"] for h in first["webhooks"]] == [hooks[0]["id"], hooks[1]["id"]]
    second = call(sandbox, "GET", "list", body={"events": ["MODEL_VERSION_CREATED"], "model_name": "m1",
                                                  "max_results": "2", "page_token": first["next_page_token"]}).json()
    assert second == {"webhooks": [hooks[2]]}


def test_query_parameters_win_over_the_body(sandbox):
    create(sandbox, model_name="m1")
    m2 = create(sandbox, model_name="m2")
    response = call(sandbox, "GET", "list", params={"model_name": "m2"}, body={"model_name": "m1"})
    assert [h["id"] for h in response.json()["webhooks"]] == [m2["id"]]


def test_unknown_event_in_the_filter(sandbox):
    assert error(call(sandbox, "GET", "list", params={"events": ["MODEL_VERSION_CREATED", "NOPE"]})) == (
        400, "INVALID_PARAMETER_VALUE", f"Invalid event 'NOPE'. Valid events are: {VALID_EVENTS}.")


# -- update ----------------------------------------------------------------------------------------

def test_update_replaces_fields_whole_and_bumps_the_timestamp(sandbox):
    hook = create(sandbox, events=["MODEL_VERSION_CREATED", "COMMENT_CREATED"], description="old", model_name="m")
    response = call(sandbox, "PATCH", "update", body={"id": hook["id"], "events": ["MODEL_VERSION_TAG_SET"],
                                                      "description": "new", "status": "DISABLED"})
    assert response.status_code == 200
    updated = response.json()["webhook"]
    assert updated["last_updated_timestamp"] > hook["last_updated_timestamp"]
    assert updated == {**hook, "events": ["MODEL_VERSION_TAG_SET"], "description": "new", "status": "DISABLED",
                       "last_updated_timestamp": updated["last_updated_timestamp"]}
    assert listing(sandbox)["webhooks"] == [updated]


def test_update_with_only_the_id_changes_nothing_but_the_timestamp(sandbox):
    hook = create(sandbox, description="keep")
    updated = call(sandbox, "PATCH", "update", body={"id": hook["id"]}).json()["webhook"]
    assert updated == {**hook, "last_updated_timestamp": updated["last_updated_timestamp"]}


def test_update_switches_between_http_and_job_specs(sandbox):
    hook = create(sandbox, http_url_spec={"url": "https://h.example", "secret": "s"})
    as_job = call(sandbox, "PATCH", "update", body={
        "id": hook["id"], "job_spec": {"job_id": "5", "access_token": "t"}}).json()["webhook"]
    assert as_job["job_spec"] == {"job_id": "5"} and "http_url_spec" not in as_job
    back = call(sandbox, "PATCH", "update", body={
        "id": hook["id"], "http_url_spec": {"url": "https://g.example"}}).json()["webhook"]
    assert back["http_url_spec"] == {"url": "https://g.example", "enable_ssl_verification": True}
    assert "job_spec" not in back


def test_update_with_an_empty_description_clears_it(sandbox):
    hook = create(sandbox, description="something")
    updated = call(sandbox, "PATCH", "update", body={"id": hook["id"], "description": ""}).json()["webhook"]
    assert "description" not in updated


def test_update_errors(sandbox):
    hook = create(sandbox, model_name="m")
    hid = hook["id"]
    assert error(call(sandbox, "PATCH", "update", body={"id": hid, "model_name": "other"})) == (
        400, "INVALID_PARAMETER_VALUE", "model_name cannot be updated: it is not an update field. "
                                        "Delete the webhook and create a new one for another model.")
    assert error(call(sandbox, "PATCH", "update", body={
        "id": hid, "http_url_spec": HTTP_SPEC, "job_spec": {"job_id": "1", "access_token": "t"}})) == (
        400, "INVALID_PARAMETER_VALUE", "Only one of http_url_spec and job_spec may be given, not both.")
    assert error(call(sandbox, "PATCH", "update", body={"id": hid, "events": ["REGISTERED_MODEL_CREATED"]})) == (
        400, "INVALID_PARAMETER_VALUE", "Event REGISTERED_MODEL_CREATED can only be specified for a registry-wide "
                                        "webhook, i.e. one created without model_name.")
    assert error(call(sandbox, "PATCH", "update", body={"id": hid, "events": []}))[:2] == (
        400, "INVALID_PARAMETER_VALUE")
    assert error(call(sandbox, "PATCH", "update", body={"id": hid, "status": "ON"}))[:2] == (
        400, "INVALID_PARAMETER_VALUE")
    assert error(call(sandbox, "PATCH", "update", body={"events": ["COMMENT_CREATED"]})) == (
        400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'id'.")
    assert error(call(sandbox, "PATCH", "update", body={"id": "0" * 32, "description": "x"})) == (
        404, "RESOURCE_DOES_NOT_EXIST", f"Webhook with id '{'0' * 32}' does not exist.")
    assert listing(sandbox)["webhooks"] == [hook]


def test_registry_wide_webhooks_may_add_registered_model_created(sandbox):
    hook = create(sandbox)
    updated = call(sandbox, "PATCH", "update", body={"id": hook["id"], "events": ["REGISTERED_MODEL_CREATED"]})
    assert updated.json()["webhook"]["events"] == ["REGISTERED_MODEL_CREATED"]


# -- delete ----------------------------------------------------------------------------------------

def test_delete_takes_the_id_from_the_query_or_the_body(sandbox):
    a, b, c = create(sandbox), create(sandbox), create(sandbox)
    response = call(sandbox, "DELETE", "delete", params={"id": a["id"]})
    assert (response.status_code, response.json()) == (200, {})
    response = call(sandbox, "DELETE", "delete", body={"id": b["id"]})
    assert (response.status_code, response.json()) == (200, {})
    assert listing(sandbox) == {"webhooks": [c]}


def test_delete_errors(sandbox):
    hook = create(sandbox)
    call(sandbox, "DELETE", "delete", params={"id": hook["id"]})
    assert error(call(sandbox, "DELETE", "delete", params={"id": hook["id"]})) == (
        404, "RESOURCE_DOES_NOT_EXIST", f"Webhook with id '{hook['id']}' does not exist.")
    assert error(call(sandbox, "DELETE", "delete")) == (
        400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'id'.")


# -- validation ------------------------------------------------------------------------------------

REGISTERED_ONLY = ("Event REGISTERED_MODEL_CREATED can only be specified for a registry-wide webhook, "
                   "i.e. one created without model_name.")
PLAIN_HTTP = ("Invalid value for 'http_url_spec.url': it must use https://. The sandbox accepts http:// only "
              "for loopback hosts (127.0.0.0/8, localhost, ::1).")


@pytest.mark.parametrize("body, status, code, message", [
    ({"http_url_spec": HTTP_SPEC}, 400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'events'."),
    ({"events": [], "http_url_spec": HTTP_SPEC}, 400, "INVALID_PARAMETER_VALUE",
     f"The parameter 'events' must contain at least one event. Valid events are: {VALID_EVENTS}."),
    ({"events": ["MODEL_CREATED"], "http_url_spec": HTTP_SPEC}, 400, "INVALID_PARAMETER_VALUE",
     f"Invalid event 'MODEL_CREATED'. Valid events are: {VALID_EVENTS}."),
    ({"events": ["REGISTERED_MODEL_CREATED"], "model_name": "m", "http_url_spec": HTTP_SPEC}, 400,
     "INVALID_PARAMETER_VALUE", REGISTERED_ONLY),
    ({"events": ["COMMENT_CREATED"]}, 400, "INVALID_PARAMETER_VALUE",
     "Exactly one of http_url_spec and job_spec must be given."),
    ({"events": ["COMMENT_CREATED"], "http_url_spec": HTTP_SPEC, "job_spec": {"job_id": "1", "access_token": "t"}},
     400, "INVALID_PARAMETER_VALUE", "Exactly one of http_url_spec and job_spec must be given, not both."),
    ({"events": ["COMMENT_CREATED"], "status": "ENABLED", "http_url_spec": HTTP_SPEC}, 400,
     "INVALID_PARAMETER_VALUE", "Invalid status 'ENABLED'. Valid statuses are: ACTIVE, DISABLED, TEST_MODE."),
    ({"events": ["COMMENT_CREATED"], "http_url_spec": {}}, 400, "INVALID_PARAMETER_VALUE",
     "Missing value for required parameter 'http_url_spec.url'."),
    ({"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "http://hooks.example.com/in"}}, 400,
     "INVALID_PARAMETER_VALUE", PLAIN_HTTP),
    ({"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "ftp://hooks.example.com"}}, 400,
     "INVALID_PARAMETER_VALUE", "Invalid value for 'http_url_spec.url': it must be an https:// URL with a host."),
    ({"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "https://[::1"}}, 400,
     "INVALID_PARAMETER_VALUE", "Invalid value for 'http_url_spec.url': not a valid URL."),
    ({"events": ["COMMENT_CREATED"], "job_spec": {"access_token": "t"}}, 400, "INVALID_PARAMETER_VALUE",
     "Missing value for required parameter 'job_spec.job_id'."),
    ({"events": ["COMMENT_CREATED"], "job_spec": {"job_id": "1"}}, 400, "INVALID_PARAMETER_VALUE",
     "Missing value for required parameter 'job_spec.access_token'."),
    ({"events": "COMMENT_CREATED", "http_url_spec": HTTP_SPEC}, 400, "MALFORMED_REQUEST",
     "Invalid JSON given in the body of the request - expected a list of strings for field 'events'."),
    ({"events": ["COMMENT_CREATED"], "status": 1, "http_url_spec": HTTP_SPEC}, 400, "MALFORMED_REQUEST",
     "Invalid JSON given in the body of the request - expected a string for field 'status'."),
    ({"events": ["COMMENT_CREATED"], "http_url_spec": "https://x"}, 400, "MALFORMED_REQUEST",
     "Invalid JSON given in the body of the request - expected an object for field 'http_url_spec'."),
    ({"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "https://x", "enable_ssl_verification": "no"}},
     400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a boolean for field "
                               "'http_url_spec.enable_ssl_verification'."),
    ([1, 2], 400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a JSON object."),
])
def test_create_validation(sandbox, body, status, code, message):
    assert error(call(sandbox, "POST", "create", body=body)) == (status, code, message)
    assert listing(sandbox) == {}


def test_malformed_json(sandbox):
    for data in ("{", "not json", '{"events": [}'):
        assert error(call(sandbox, "POST", "create", data=data)) == (
            400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - failed to parse given JSON.")


DEEP = ["[" * 5000 + "]" * 5000, '{"events": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"id": "x", "description": ' + '{"a": ' * 5000 + "1" + "}" * 5001]
ENDPOINTS = [("POST", API + "create"), ("PATCH", API + "update"), ("GET", API + "list"), ("DELETE", API + "delete"),
             ("POST", API + "test"), ("POST", "/api/2.0/sandbox/emit"), ("GET", "/api/2.0/sandbox/deliveries/list")]


@pytest.mark.parametrize("data", DEEP, ids=["array", "in-object", "objects"])
def test_deeply_nested_json_is_malformed_not_a_dropped_connection(sandbox, data):
    auth = {"Authorization": f"Bearer {sandbox.token}"}
    with requests.Session() as session:  # one kept-alive connection: it must survive every answer
        for method, path in ENDPOINTS:
            answer = session.request(method, sandbox.url + path, data=data, headers=auth, timeout=10)
            assert error(answer) == (400, "MALFORMED_REQUEST",
                                     "Invalid JSON given in the body of the request - failed to parse given JSON.")
            # the order stays: credentials are checked before the body is parsed, as for any bad body
            assert error(session.request(method, sandbox.url + path, data=data, timeout=10)) == (
                401, 401, "Credential was not sent or was of an unsupported type for this API.")
    assert sandbox.requests[0].body is None
    assert listing(sandbox) == {}


SURROGATE = ("Invalid JSON given in the body of the request - a string contains an unpaired surrogate escape "
             "(\\uD800-\\uDFFF), which is not valid Unicode.")


@pytest.mark.parametrize("method, path, data", [
    ("POST", API + "create", '{"events": ["COMMENT_CREATED"], "model_name": "a\\ud800b", "http_url_spec": '
                             '{"url": "https://h.example"}}'),
    ("POST", API + "create", '{"events": ["COMMENT_CREATED"], "description": "\\udfff", "http_url_spec": '
                             '{"url": "https://h.example"}}'),
    ("POST", API + "create", '{"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "https://h.example/\\ud800"}}'),
    ("POST", API + "create", '{"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "https://h.example", '
                             '"secret": "\\ud800"}}'),
    ("POST", API + "create", '{"events": ["COMMENT_CREATED"], "job_spec": {"job_id": "1", "access_token": "\\uDBFF"}}'),
    ("POST", API + "create", '{"events": ["COMMENT_CREATED"], "\\ud800": 1, "http_url_spec": {"url": "https://h.example"}}'),
    ("POST", API + "create", '{"events": ["COMMENT_CREATED"], "x": [[{"y": "\\ude00\\ud83d"}]], '
                             '"http_url_spec": {"url": "https://h.example"}}'),  # a pair in the wrong order
    ("GET", API + "list", '{"model_name": "\\ud800"}'),
    ("DELETE", API + "delete", '{"id": "\\ud800"}'),
    ("PATCH", API + "update", '{"id": "\\ud800"}'),
    ("POST", API + "test", '{"id": "\\ud800"}'),
    ("POST", "/api/2.0/sandbox/emit", '{"event": "MODEL_VERSION_CREATED", "model_name": "\\ud800"}'),
    ("GET", "/api/2.0/sandbox/deliveries/list", '{"webhook_id": "\\ud800"}'),
    ("POST", API + "test", '{"id": "\\ud800"}'.encode("utf-16")),  # JSON may come in UTF-16 too
])
def test_lone_surrogate_escapes_are_malformed(sandbox, method, path, data):
    answer = requests.request(method, sandbox.url + path, data=data,
                              headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=10)
    assert error(answer) == (400, "MALFORMED_REQUEST", SURROGATE)
    assert listing(sandbox) == {}


def test_surrogate_pairs_are_ordinary_characters(sandbox):
    data = ('{"events": ["COMMENT_CREATED"], "description": "\\ud83d\\ude00 \\\\ud800", '
            '"http_url_spec": {"url": "https://h.example"}}')  # an escaped backslash is no escape
    answer = call(sandbox, "POST", "create", data=data)
    assert answer.status_code == 200, answer.text
    assert answer.json()["webhook"]["description"] == "\U0001F600 \\ud800"


def test_test_endpoint_validation(sandbox):
    hook = create(sandbox, events=["COMMENT_CREATED"])
    assert error(call(sandbox, "POST", "test", body={})) == (
        400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'id'.")
    assert error(call(sandbox, "POST", "test", body={"id": hook["id"], "event": "MODEL_VERSION_CREATED"})) == (
        400, "INVALID_PARAMETER_VALUE", "Event MODEL_VERSION_CREATED is not one of the webhook's events: "
                                        "COMMENT_CREATED.")
    assert error(call(sandbox, "POST", "test", body={"id": hook["id"], "event": "BOGUS"}))[:2] == (
        400, "INVALID_PARAMETER_VALUE")
    assert error(call(sandbox, "POST", "test", body={"id": "f" * 32})) == (
        404, "RESOURCE_DOES_NOT_EXIST", f"Webhook with id '{'f' * 32}' does not exist.")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.sampled_from(["", "x", "COMMENT_CREATED", "ACTIVE",
                                                                       "https://h.example", "http://10.0.0.1"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["url", "secret", "job_id", "access_token", "enable_ssl_verification", "workspace_url"]),
        children, max_size=4),
    max_leaves=8)
bodies = st.dictionaries(
    st.sampled_from(["id", "events", "model_name", "description", "status", "http_url_spec", "job_spec",
                     "event", "max_results", "page_token"]),
    json_values, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, endpoint=st.sampled_from([("POST", "create"), ("PATCH", "update"), ("GET", "list"),
                                              ("DELETE", "delete"), ("POST", "test")]))
def test_bad_input_never_yields_a_server_error(sandbox, body, endpoint):
    response = call(sandbox, endpoint[0], endpoint[1], body=body)
    assert response.status_code in (200, 400, 404), response.text
    if response.status_code != 200:
        assert error(response)[1] in ("INVALID_PARAMETER_VALUE", "MALFORMED_REQUEST", "RESOURCE_DOES_NOT_EXIST")


# -- auth and routing ------------------------------------------------------------------------------

def test_missing_or_unsupported_credentials_are_401_with_a_numeric_code(sandbox):
    for token in (None, "Basic dXNlcjpwYXNz", "Bearer", sandbox.token):
        assert error(call(sandbox, "GET", "list", token=token)) == (
            401, 401, "Credential was not sent or was of an unsupported type for this API.")


def test_a_wrong_token_is_403_with_a_numeric_code(sandbox):
    assert error(call(sandbox, "GET", "list", token="Bearer dapi-wrong")) == (403, 403, "Invalid access token.")
    assert error(call(sandbox, "POST", "create", body={}, token="Bearer dapi-wrong")) == (
        403, 403, "Invalid access token.")


def test_the_bearer_scheme_is_case_insensitive(sandbox):
    assert call(sandbox, "GET", "list", token=f"bearer {sandbox.token}").status_code == 200


@pytest.mark.parametrize("method, path, shown", [
    ("GET", API + "lists", "GET /mlflow/registry-webhooks/lists"),
    ("POST", API + "list", "POST /mlflow/registry-webhooks/list"),
    ("GET", API + "create", "GET /mlflow/registry-webhooks/create"),
    ("PUT", API + "update", "PUT /mlflow/registry-webhooks/update"),
    ("GET", "/api/2.0/clusters/list", "GET /clusters/list"),
    ("GET", "/", "GET /"),
    ("BREW", API + "list", "BREW /mlflow/registry-webhooks/list"),  # a method HTTP does not define
    ("PROPFIND", "/", "PROPFIND /"),
])
def test_unknown_endpoints(sandbox, method, path, shown):
    response = requests.request(method, sandbox.url + path, headers={"Authorization": f"Bearer {sandbox.token}"})
    assert error(response) == (404, "ENDPOINT_NOT_FOUND", f"No API found for '{shown}'")


def test_unknown_endpoints_still_need_credentials(sandbox):
    assert requests.get(sandbox.url + "/api/2.0/clusters/list").status_code == 401
    assert error(requests.request("BREW", sandbox.url + API + "list")) == (
        401, 401, "Credential was not sent or was of an unsupported type for this API.")


def raw_exchange(sb: Sandbox, request: bytes) -> bytes:
    """Send raw bytes and read until the sandbox closes the connection."""
    host, port = sb.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_requests_http_cannot_parse_are_answered_in_json_and_closed(sandbox):
    too_long = b"GET " + API.encode() + b"list HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    head, _, body = raw_exchange(sandbox, too_long).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"Content-Type: application/json; charset=utf-8" in head and b"Connection: close" in head
    assert json.loads(body) == {"error_code": "MALFORMED_REQUEST", "message": "Line too long"}

    head, _, body = raw_exchange(sandbox, b"GET /x HTTP/1.1.5\r\n\r\n").partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")  # an unreadable version: answered as HTTP/1.1 all the same
    assert json.loads(body) == {"error_code": "MALFORMED_REQUEST", "message": "Bad request version ('HTTP/1.1.5')"}


# -- the Sandbox object ----------------------------------------------------------------------------

def test_state_persists_across_a_restart_on_the_same_file(tmp_path):
    path = tmp_path / "state.db"
    with Sandbox(data_path=path) as first:
        hook = create(first, description="survives")
        workspace_id = first.workspace_id
    with Sandbox(data_path=path) as second:
        assert listing(second) == {"webhooks": [hook]}
        assert second.workspace_id == workspace_id
        other = create(second)
        assert other["id"] != hook["id"]
        assert [h["id"] for h in listing(second)["webhooks"]] == [hook["id"], other["id"]]


def test_default_data_file_is_in_the_data_dir(isolated_data_dir):
    with Sandbox() as sb:
        assert sb.data_path == Path(isolated_data_dir) / "sandbox.db"
        create(sb)
    assert (Path(isolated_data_dir) / "sandbox.db").exists()


def test_data_path_parent_directories_are_created(tmp_path):
    with Sandbox(data_path=tmp_path / "a" / "b" / "sb.db") as sb:
        create(sb)
    assert (tmp_path / "a" / "b" / "sb.db").exists()


def test_a_given_token_is_the_one_accepted(tmp_path):
    with Sandbox(data_path=tmp_path / "sb.db", token="my-token") as sb:
        assert sb.token == "my-token"
        assert call(sb, "GET", "list", token="Bearer my-token").status_code == 200


def test_generated_tokens_differ(tmp_path):
    assert Sandbox(data_path=tmp_path / "a.db").token != Sandbox(data_path=tmp_path / "b.db").token


def test_non_loopback_hosts_need_an_explicit_token(tmp_path):
    with pytest.raises(ValueError) as info:
        Sandbox(data_path=tmp_path / "sb.db", host="0.0.0.0")
    assert str(info.value) == ("refusing to listen on non-loopback address 0.0.0.0 without an explicit token "
                               "(give one with --token / token=...)")
    assert Sandbox(data_path=tmp_path / "sb.db", host="0.0.0.0", token="chosen").token == "chosen"


def test_url_before_start_is_an_error(tmp_path):
    with pytest.raises(RuntimeError):
        Sandbox(data_path=tmp_path / "sb.db").url


def test_stop_is_idempotent_and_closes_the_port(tmp_path):
    sb = Sandbox(data_path=tmp_path / "sb.db").start()
    url = sb.url
    sb.stop()
    sb.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + API + "list", timeout=2)


# -- recorded requests -----------------------------------------------------------------------------

def test_every_request_is_recorded_with_the_authorization_masked(sandbox):
    create(sandbox, model_name="m")
    call(sandbox, "GET", "list", params=[("events", "COMMENT_CREATED"), ("model_name", "m"),
                                         ("events", "MODEL_VERSION_CREATED")])
    call(sandbox, "GET", "list", token=None)
    call(sandbox, "GET", "list", token="Bearer wrong-token")
    call(sandbox, "GET", "nowhere")
    got = sandbox.requests
    assert [(r.method, r.path, r.query) for r in got] == [
        ("POST", API + "create", ()),
        ("GET", API + "list",
         (("events", "COMMENT_CREATED"), ("model_name", "m"), ("events", "MODEL_VERSION_CREATED"))),
        ("GET", API + "list", ()),
        ("GET", API + "list", ()),
        ("GET", API + "nowhere", ()),
    ]
    assert got[0].body == {"events": ["MODEL_VERSION_CREATED"], "http_url_spec": HTTP_SPEC, "model_name": "m"}
    assert got[1].body is None
    assert [r.headers.get("Authorization") for r in got] == ["Bearer ***", "Bearer ***", None, "Bearer ***",
                                                              "Bearer ***"]
    assert all(sandbox.token not in repr(r) and "wrong-token" not in repr(r) for r in got)
    assert isinstance(got[0], RecordedRequest)
    with pytest.raises(AttributeError):
        got[0].method = "PUT"  # frozen
    sandbox.clear_requests()
    assert sandbox.requests == []


# --- a data file that is not a sandbox database ---------------------------------------------------------------

def test_a_garbage_data_file_is_one_line_naming_the_fix(tmp_path):
    import sqlprovider

    path = tmp_path / "sb.db"
    path.write_bytes(b"not a database at all " * 20)
    with pytest.raises(sqlprovider.Error) as caught:
        Store(path)
    assert str(caught.value) == (f"sandbox data file {path} is not a sandbox database: move it away (or set "
                                 f"SQLPROVIDER_DATA_DIR / --data)")
    with pytest.raises(sqlprovider.OperationalError, match="is not a sandbox database"):
        Sandbox(data_path=path).start()
    assert path.read_bytes() == b"not a database at all " * 20


def test_another_applications_sqlite_file_is_refused_and_left_alone(tmp_path):
    import sqlite3

    import sqlprovider

    path = tmp_path / "theirs.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE precious (x)")
    db.commit()
    db.close()
    with pytest.raises(sqlprovider.Error, match="is not a sandbox database"):
        Store(path)
    db = sqlite3.connect(path)
    assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("precious",)]
    db.close()
    path.write_bytes(b"")  # an empty file becomes a new sandbox database
    Store(path).close()


def test_the_cli_reports_a_garbage_default_data_file_in_one_line(isolated_data_dir, capsys):
    from sqlprovider.cli import main as cli
    from sqlprovider.workspace import deployments

    (isolated_data_dir / "sandbox.db").write_bytes(b"garbage " * 40)
    deployments.stop_embedded_sandbox()
    try:
        code = cli.main(["exec", "-e", "SELECT id FROM model_registry_webhooks WHERE deployment_name = 'sandbox'"])
    finally:
        deployments.stop_embedded_sandbox()
    assert code == 1
    assert capsys.readouterr().err == (
        f"sqlprovider: error: -e:1: sandbox data file {isolated_data_dir / 'sandbox.db'} is not a sandbox database: "
        f"move it away (or set SQLPROVIDER_DATA_DIR / --data)\n")

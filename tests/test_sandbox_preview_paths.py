"""The preview prefix `/api/2.0/preview/mlflow/registry-webhooks/` is served like the GA one: Databricks' own
`databricks-registry-webhooks` client (which calls the preview paths) drives the sandbox unchanged."""

from __future__ import annotations

import os
import warnings

import pytest
import requests

from sqlprovider.sandbox import FaultSpec, Sandbox

GA = "/api/2.0/mlflow/registry-webhooks/"
PREVIEW = "/api/2.0/preview/mlflow/registry-webhooks/"

with warnings.catch_warnings():  # its generated code imports protobuf's deprecated `service` module
    warnings.simplefilter("ignore")
    from databricks_registry_webhooks import HttpUrlSpec, JobSpec, RegistryWebhooksClient


@pytest.fixture
def client(sandbox, monkeypatch, tmp_path) -> RegistryWebhooksClient:
    """Databricks' client, configured the way its docs say (DATABRICKS_HOST and DATABRICKS_TOKEN)."""
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.databrickscfg of the user's
    monkeypatch.setenv("DATABRICKS_HOST", sandbox.url)
    monkeypatch.setenv("DATABRICKS_TOKEN", sandbox.token)
    return RegistryWebhooksClient()


def paths(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in sandbox.requests]


def test_databricks_own_client_manages_webhooks_over_the_preview_paths(sandbox, client, receiver):
    url, got = receiver
    hook = client.create_webhook(events=["MODEL_VERSION_CREATED"], model_name="churn", description="first",
                                 http_url_spec=HttpUrlSpec(url=url, secret="s3cret"))
    assert (hook.model_name, hook.events, hook.description, hook.status) == (
        "churn", ["MODEL_VERSION_CREATED"], "first", "ACTIVE")
    assert hook.http_url_spec.url == url and hook.http_url_spec.secret in ("", None)

    job = client.create_webhook(events=["COMMENT_CREATED"], job_spec=JobSpec(job_id="42", access_token="dapi-job"))
    assert job.job_spec.job_id == "42"

    listed = client.list_webhooks(model_name="churn")
    assert [h.id for h in listed] == [hook.id]
    assert [h.id for h in client.list_webhooks(events=["COMMENT_CREATED", "REGISTERED_MODEL_CREATED"])] == [job.id]

    updated = client.update_webhook(id=hook.id, description="second", status="TEST_MODE")
    assert (updated.id, updated.description, updated.status) == (hook.id, "second", "TEST_MODE")

    tested = client.test_webhook(id=hook.id)
    assert (tested.status_code, tested.body) == (200, "received")
    assert [body["event"] for body in got] == ["MODEL_VERSION_CREATED"]

    client.delete_webhook(id=hook.id)
    assert [h.id for h in client.list_webhooks()] == [job.id]

    assert paths(sandbox) == [
        ("POST", PREVIEW + "create"), ("POST", PREVIEW + "create"),
        ("GET", PREVIEW + "list"), ("GET", PREVIEW + "list"),
        ("PATCH", PREVIEW + "update"), ("POST", PREVIEW + "test"),
        ("DELETE", PREVIEW + "delete"), ("GET", PREVIEW + "list")]
    first_list = sandbox.requests[2]
    assert dict(first_list.query) == {"max_results": "1000", "model_name": "churn"}  # its page size: the cap


def test_errors_reach_the_client_as_databricks_sends_them(client):
    from databricks_registry_webhooks.exceptions import RestException

    with pytest.raises(RestException) as caught:
        client.delete_webhook(id="f" * 32)
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(("method", "endpoint", "body"), [
    ("GET", "list", None),
    ("POST", "create", {"events": ["NOPE"]}),
    ("PATCH", "update", {"id": "f" * 32}),
    ("DELETE", "delete", {"id": "f" * 32}),
    ("POST", "test", {}),
])
def test_both_prefixes_answer_alike(sandbox, method, endpoint, body):
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    ga, preview = (requests.request(method, sandbox.url + prefix + endpoint, json=body, headers=headers, timeout=10)
                   for prefix in (GA, PREVIEW))
    assert (preview.status_code, preview.json()) == (ga.status_code, ga.json())


def test_preview_paths_need_credentials_and_take_injected_faults(sandbox):
    assert requests.get(sandbox.url + PREVIEW + "list", timeout=10).json()["error_code"] == 401
    sandbox.inject(FaultSpec("503", endpoint="list"))
    answer = requests.get(sandbox.url + PREVIEW + "list", headers={"Authorization": f"Bearer {sandbox.token}"},
                          timeout=10)
    assert (answer.status_code, answer.json()["error_code"]) == (503, "TEMPORARILY_UNAVAILABLE")


def test_a_wrong_verb_on_a_preview_path_is_endpoint_not_found(sandbox):
    answer = requests.post(sandbox.url + PREVIEW + "list", headers={"Authorization": f"Bearer {sandbox.token}"},
                           timeout=10)
    assert (answer.status_code, answer.json()) == (404, {
        "error_code": "ENDPOINT_NOT_FOUND", "message": "No API found for 'POST /preview/mlflow/registry-webhooks/list'"})

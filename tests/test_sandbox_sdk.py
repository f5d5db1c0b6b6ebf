"""The official databricks-sdk drives the sandbox unchanged: the proof that the sandbox is faithful."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    BadRequest,
    InternalError,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceDoesNotExist,
    Unauthenticated,
)
from databricks.sdk.service.ml import (
    HttpUrlSpec,
    JobSpec,
    RegistryWebhookEvent,
    RegistryWebhookStatus,
)

from sqlprovider.sandbox import FaultSpec, Sandbox

E = RegistryWebhookEvent
API = "/api/2.0/mlflow/registry-webhooks/"
CLIENT_ID, CLIENT_SECRET = "sp-client-id", "sp-client-secret"


@pytest.fixture(autouse=True)
def no_user_databricks_config(monkeypatch, tmp_path):
    """Keep the SDK away from the user's ~/.databrickscfg and DATABRICKS_* variables."""
    import os

    for name in list(os.environ):
        if name.startswith(("DATABRICKS_", "ARM_", "AZURE_", "GOOGLE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-such-databrickscfg"))


@pytest.fixture
def oauth_sandbox(tmp_path) -> Iterator[Sandbox]:
    with Sandbox(data_path=tmp_path / "oauth.db", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                 token_ttl=1) as sb:
        yield sb


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict]]]:
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.send_header("Content-Length", "8")
            self.end_headers()
            self.wfile.write(b"accepted")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()
    server.server_close()


def client(sb: Sandbox, **auth) -> WorkspaceClient:
    return WorkspaceClient(host=sb.url, **(auth or {"token": sb.token}))


def list_calls(sb: Sandbox) -> list[tuple[tuple[str, str], ...]]:
    return [r.query for r in sb.requests if r.path == API + "list"]


def test_the_sdk_manages_webhooks_end_to_end(sandbox, receiver):
    url, got = receiver
    registry = client(sandbox).model_registry
    created = registry.create_webhook(events=[E.MODEL_VERSION_CREATED, E.COMMENT_CREATED], model_name="churn",
                                      description="team hook", http_url_spec=HttpUrlSpec(url=url, secret="s3"))
    hook = created.webhook
    assert len(hook.id) == 32 and hook.model_name == "churn" and hook.description == "team hook"
    assert hook.events == [E.MODEL_VERSION_CREATED, E.COMMENT_CREATED]
    assert hook.status == RegistryWebhookStatus.ACTIVE
    assert hook.http_url_spec.url == url and hook.http_url_spec.enable_ssl_verification is True
    assert hook.creation_timestamp == hook.last_updated_timestamp and hook.creation_timestamp > 1_600_000_000_000

    [listed] = list(registry.list_webhooks())
    assert listed == hook

    updated = registry.update_webhook(id=hook.id, description="renamed", status=RegistryWebhookStatus.TEST_MODE,
                                      events=[E.COMMENT_CREATED]).webhook
    assert (updated.description, updated.status, updated.events) == (
        "renamed", RegistryWebhookStatus.TEST_MODE, [E.COMMENT_CREATED])
    assert updated.last_updated_timestamp > hook.last_updated_timestamp

    answer = registry.test_registry_webhook(id=hook.id, event=E.COMMENT_CREATED)
    assert (answer.status_code, answer.body) == (202, "accepted")
    assert got[0]["event"] == "COMMENT_CREATED" and got[0]["webhook_id"] == hook.id
    assert got[0]["model_name"] == "churn"

    registry.delete_webhook(id=hook.id)
    assert list(registry.list_webhooks()) == []
    assert sandbox.requests[-2].method == "DELETE" and sandbox.requests[-2].query == (("id", hook.id),)


def test_the_sdk_follows_page_tokens(sandbox):
    registry = client(sandbox).model_registry
    ids = [registry.create_webhook(events=[E.MODEL_VERSION_CREATED], description=f"h{i}",
                                   http_url_spec=HttpUrlSpec(url="https://h.example")).webhook.id for i in range(7)]
    sandbox.clear_requests()
    assert [h.id for h in registry.list_webhooks(max_results=3)] == ids
    calls = list_calls(sandbox)
    assert len(calls) == 3
    assert calls[0] == (("max_results", "3"),)
    assert [dict(c).get("page_token") is not None for c in calls] == [False, True, True]


def test_the_sdk_filters_by_events_and_model(sandbox):
    registry = client(sandbox).model_registry
    spec = HttpUrlSpec(url="https://h.example")
    a = registry.create_webhook(events=[E.MODEL_VERSION_CREATED], model_name="m1", http_url_spec=spec).webhook
    b = registry.create_webhook(events=[E.COMMENT_CREATED], model_name="m2", http_url_spec=spec).webhook
    c = registry.create_webhook(events=[E.MODEL_VERSION_TAG_SET], model_name="m1", http_url_spec=spec).webhook
    sandbox.clear_requests()
    found = registry.list_webhooks(events=[E.MODEL_VERSION_CREATED, E.COMMENT_CREATED])
    assert [h.id for h in found] == [a.id, b.id]
    assert list_calls(sandbox)[0] == (("events", "MODEL_VERSION_CREATED"), ("events", "COMMENT_CREATED"))
    assert [h.id for h in registry.list_webhooks(model_name="m1")] == [a.id, c.id]
    assert [h.id for h in registry.list_webhooks(model_name="m1", events=[E.MODEL_VERSION_TAG_SET])] == [c.id]


def test_the_sdk_switches_a_webhook_to_a_job(sandbox):
    registry = client(sandbox).model_registry
    hook = registry.create_webhook(events=[E.MODEL_VERSION_CREATED],
                                   http_url_spec=HttpUrlSpec(url="https://h.example")).webhook
    updated = registry.update_webhook(id=hook.id, job_spec=JobSpec(job_id="42", access_token="tok")).webhook
    assert updated.http_url_spec is None and updated.job_spec.job_id == "42"
    answer = registry.test_registry_webhook(id=hook.id)
    assert (answer.status_code, answer.body) == (200, '{"run_id": 1, "number_in_job": 1}')
    assert sandbox.deliveries[-1]["url"] == f"{sandbox.url}/api/2.1/jobs/run-now"


def test_sdk_errors_map_to_the_right_classes(sandbox):
    registry = client(sandbox).model_registry
    spec = HttpUrlSpec(url="https://h.example")

    with pytest.raises(ResourceDoesNotExist) as info:
        registry.delete_webhook(id="0" * 32)
    assert isinstance(info.value, NotFound) and info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(ResourceDoesNotExist):
        registry.update_webhook(id="0" * 32, description="x")
    with pytest.raises(ResourceDoesNotExist):
        registry.test_registry_webhook(id="0" * 32)

    cases = [
        lambda: registry.create_webhook(events=[], http_url_spec=spec),
        lambda: registry.create_webhook(events=[E.REGISTERED_MODEL_CREATED], model_name="m", http_url_spec=spec),
        lambda: registry.create_webhook(events=[E.COMMENT_CREATED]),
        lambda: registry.create_webhook(events=[E.COMMENT_CREATED], http_url_spec=spec,
                                        job_spec=JobSpec(job_id="1", access_token="t")),
        lambda: registry.create_webhook(events=[E.COMMENT_CREATED], http_url_spec=HttpUrlSpec(url="http://h.example")),
        lambda: registry.create_webhook(events=[E.COMMENT_CREATED], job_spec=JobSpec(job_id="1", access_token="")),
        lambda: list(registry.list_webhooks(max_results=0)),
        lambda: list(registry.list_webhooks(page_token="garbage")),
    ]
    for case in cases:
        with pytest.raises(InvalidParameterValue) as info:
            case()
        assert isinstance(info.value, BadRequest) and info.value.error_code == "INVALID_PARAMETER_VALUE"

    hook = registry.create_webhook(events=[E.COMMENT_CREATED], http_url_spec=spec).webhook
    with pytest.raises(InvalidParameterValue) as info:
        registry.test_registry_webhook(id=hook.id, event=E.MODEL_VERSION_CREATED)
    assert str(info.value) == "Event MODEL_VERSION_CREATED is not one of the webhook's events: COMMENT_CREATED."


def test_sdk_auth_failures(sandbox):
    with pytest.raises(PermissionDenied) as info:
        list(WorkspaceClient(host=sandbox.url, token="dapi-wrong").model_registry.list_webhooks())
    # the SDK appends its (masked) config to auth errors
    assert info.value.error_code == 403 and str(info.value).startswith("Invalid access token. Config: ")

    # The SDK always sends a credential; without one the sandbox answers 401, which it maps to Unauthenticated.
    response = requests.get(sandbox.url + API + "list")
    from databricks.sdk.errors.parser import _Parser

    error = _Parser().get_api_error(response)
    assert isinstance(error, Unauthenticated) and error.error_code == 401


def test_sdk_unknown_endpoint(sandbox):
    w = client(sandbox)
    with pytest.raises(NotFound) as info:
        w.api_client.do("GET", "/api/2.0/mlflow/registry-webhooks/get", query={"id": "x"})
    assert info.value.error_code == "ENDPOINT_NOT_FOUND"
    assert str(info.value) == "No API found for 'GET /mlflow/registry-webhooks/get'"


def test_sdk_retries_throttling_and_unavailability(sandbox):
    registry = client(sandbox).model_registry
    sandbox.inject(FaultSpec("429", endpoint="list", retry_after=0))
    sandbox.inject(FaultSpec("503", endpoint="list", retry_after=0))
    sandbox.clear_requests()
    assert list(registry.list_webhooks()) == []
    assert len(list_calls(sandbox)) == 3


def test_sdk_reports_an_injected_internal_error(sandbox):
    registry = client(sandbox).model_registry
    sandbox.inject(FaultSpec("500", endpoint="create"))
    with pytest.raises(InternalError) as info:
        registry.create_webhook(events=[E.COMMENT_CREATED], http_url_spec=HttpUrlSpec(url="https://h.example"))
    assert info.value.error_code == "INTERNAL_ERROR"


def test_sdk_logs_in_with_oauth_m2m_and_refreshes_expired_tokens(oauth_sandbox, receiver):
    url, got = receiver
    w = WorkspaceClient(host=oauth_sandbox.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert w.config.auth_type == "oauth-m2m"
    registry = w.model_registry
    hook = registry.create_webhook(events=[E.MODEL_VERSION_CREATED], http_url_spec=HttpUrlSpec(url=url)).webhook
    assert [h.id for h in registry.list_webhooks()] == [hook.id]
    paths = [r.path for r in oauth_sandbox.requests]
    assert paths[:3] == ["/.well-known/databricks-config", "/oidc/.well-known/oauth-authorization-server",
                         "/oidc/v1/token"]
    token_request = next(r for r in oauth_sandbox.requests if r.path == "/oidc/v1/token")
    assert token_request.headers["Authorization"] == "Basic ***" and token_request.body is None

    time.sleep(1.1)  # past token_ttl: the first token is dead now
    assert registry.test_registry_webhook(id=hook.id).status_code == 202
    assert got[0]["event"] == "MODEL_VERSION_CREATED"
    assert sum(r.path == "/oidc/v1/token" for r in oauth_sandbox.requests) >= 2


def test_oauth_tokens_expire_and_bad_clients_are_refused(oauth_sandbox):
    token_url = oauth_sandbox.url + "/oidc/v1/token"
    form = {"grant_type": "client_credentials", "scope": "all-apis"}
    issued = requests.post(token_url, data=form, auth=(CLIENT_ID, CLIENT_SECRET))
    assert issued.status_code == 200
    body = issued.json()
    assert {k: v for k, v in body.items() if k != "access_token"} == {
        "token_type": "Bearer", "expires_in": 1, "scope": "all-apis"}
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert requests.get(oauth_sandbox.url + API + "list", headers=headers).status_code == 200
    time.sleep(1.05)
    expired = requests.get(oauth_sandbox.url + API + "list", headers=headers)
    assert (expired.status_code, expired.json()) == (403, {"error_code": 403, "message": "Invalid access token."})

    post_form = requests.post(token_url, data={**form, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    assert post_form.status_code == 200
    bad = requests.post(token_url, data=form, auth=(CLIENT_ID, "wrong"))
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    grant = requests.post(token_url, data={"grant_type": "password"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
    assert bad.headers["Content-Type"].startswith("application/json")


def test_sdk_with_bad_client_secret_fails_to_log_in(oauth_sandbox):
    w = WorkspaceClient(host=oauth_sandbox.url, client_id=CLIENT_ID, client_secret="not-it")
    with pytest.raises(ValueError) as info:
        list(w.model_registry.list_webhooks())
    assert "invalid_client" in str(info.value)


def test_oauth_is_off_without_client_credentials(sandbox):
    response = requests.post(sandbox.url + "/oidc/v1/token", data={"grant_type": "client_credentials"},
                             auth=("anyone", "anything"))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")

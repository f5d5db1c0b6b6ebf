"""Redirects are never followed: a 3xx from a workspace (or its OAuth token endpoint) is a one-line error
naming where it pointed, and neither the credential nor the request body reaches that other address."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

import sqlprovider
from sqlprovider.workspace.client import RetryPolicy, redirect_target

from conftest import JsonServer

TOKEN = "dapi-redirect-token-4242"
CLIENT_SECRET = "client-secret-redirect-77"
WEBHOOK_SECRET = "whsec-redirect-secret-99"
RECEIVER_AUTH = "Bearer receiver-redirect-auth-55"
SECRETS = (TOKEN, CLIENT_SECRET, WEBHOOK_SECRET, RECEIVER_AUTH, "pa55word", "query-secret")
LIST = "/api/2.0/mlflow/registry-webhooks/list"
CREATE = "/api/2.0/mlflow/registry-webhooks/create"
INSERT = ("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) VALUES ('moved', "
          "'[\"MODEL_VERSION_CREATED\"]', '{\"url\": \"https://example.com/hook\", \"secret\": \"" + WEBHOOK_SECRET
          + "\", \"authorization\": \"" + RECEIVER_AUTH + "\"}')")
#: Retries would show as more than one request to the redirecting server.
RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.01)


@pytest.fixture
def elsewhere() -> Iterator[JsonServer]:
    """Where the redirects point: answers everything as a workspace would (it must never be asked)."""
    server = JsonServer(lambda method, path: (200, {}, {"webhooks": [], "webhook": {"id": "x"},
                                                    "access_token": "t", "token_type": "Bearer"}))
    yield server
    server.close()


@pytest.fixture
def redirecting(request, elsewhere, tmp_path, monkeypatch) -> Iterator[JsonServer]:
    """The workspace of deployment 'moved' (a profile with a token): answers every request with
    `request.param` (the status) and a Location on `elsewhere` carrying user info and a secret query
    (or `server.location` when a test sets it)."""
    status = request.param

    def answer(method: str, path: str):
        location = server.location or elsewhere_url + path + "?token=query-secret"
        return status, {"Location": location}, {"message": "moved"}

    elsewhere_url = elsewhere.url.replace("http://", "http://user:pa55word@")
    server = JsonServer(answer)
    server.status, server.location = status, None
    config = tmp_path / "databrickscfg"
    config.write_text(f"[moved]\nhost = {server.url}\ntoken = {TOKEN}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    yield server
    server.close()


def expected(verb: str, path: str, status: int, workspace: str, elsewhere: str) -> str:
    return (f"moved: {verb} {path} failed: HTTP {status} redirect to {elsewhere}, not followed (credentials and "
            f"request bodies go only to {workspace}); if {elsewhere} is the workspace's final host, set "
            f"host = {elsewhere} in its profile")


def assert_clean(message: str) -> None:
    assert "\n" not in message and "Traceback" not in message
    for secret in SECRETS:
        assert secret not in message


@pytest.mark.parametrize("redirecting", [307, 308, 302], indirect=True)
def test_a_listing_is_not_followed_to_another_host(redirecting, elsewhere):
    with sqlprovider.connect(retry=RETRY) as conn, pytest.raises(sqlprovider.OperationalError) as error:
        conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'moved'").fetchall()
    assert str(error.value) == expected("GET", LIST, redirecting.status, redirecting.url, elsewhere.url)
    assert_clean(str(error.value))
    assert [(method, path.split("?")[0]) for method, path, _, _ in redirecting.requests] == [("GET", LIST)]
    assert elsewhere.requests == []


@pytest.mark.parametrize("redirecting", [307, 308, 302], indirect=True)
def test_a_create_with_a_secret_is_not_resent_to_another_host(redirecting, elsewhere):
    with sqlprovider.connect(retry=RETRY) as conn, pytest.raises(sqlprovider.OperationalError) as error:
        conn.execute(INSERT)
    message = str(error.value)
    assert message == expected("POST", CREATE, redirecting.status, redirecting.url, elsewhere.url)
    assert_clean(message)
    ((method, path, headers, body),) = redirecting.requests
    assert (method, path) == ("POST", CREATE) and WEBHOOK_SECRET.encode() in body  # sent once, to the workspace
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert elsewhere.requests == []


@pytest.mark.parametrize("redirecting", [307], indirect=True)
def test_the_oauth_token_request_is_not_followed_to_another_host(redirecting, elsewhere, tmp_path, monkeypatch):
    config = tmp_path / "databrickscfg-oauth"
    config.write_text(f"[moved]\nhost = {redirecting.url}\nclient_id = sp-1\nclient_secret = {CLIENT_SECRET}\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config))
    with sqlprovider.connect(retry=RETRY) as conn, pytest.raises(sqlprovider.Error) as error:
        conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'moved'").fetchall()
    token_url = redirecting.url + "/oidc/v1/token"
    assert str(error.value) == (
        f"moved: OAuth M2M login of client id 'sp-1' at {token_url} failed: HTTP 307 redirect to {elsewhere.url}, "
        f"not followed (the client secret goes only to {redirecting.url}); set the workspace's final host in its "
        f"profile")
    assert_clean(str(error.value))
    # discovery was redirected too (not followed: the default token path is used), then the login
    assert [(method, path.split("?")[0]) for method, path, _, _ in redirecting.requests] == [
        ("GET", "/oidc/.well-known/oauth-authorization-server"), ("POST", "/oidc/v1/token")]
    assert elsewhere.requests == []


@pytest.mark.parametrize("location, shown", [
    ("https://user:pa55word@other.example.com/api/2.0/x?token=query-secret#f", "https://other.example.com"),
    ("https://OTHER.example.com:443/", "https://other.example.com"),
    ("http://10.0.0.5:8080/login", "http://10.0.0.5:8080"),
    ("http://[::1]:9000/", "http://[::1]:9000"),
    ("/login?next=/api", "https://ws.example.com"),  # relative: the same host
    ("//cdn.example.net/x", "https://cdn.example.net"),
    ("ftp://files.example.com/", None),
    ("", None),
    (None, None),
])
def test_redirect_target_is_only_scheme_host_and_port(location, shown):
    response = requests.Response()
    response.status_code, response.url = 302, "https://ws.example.com/api/2.0/mlflow/registry-webhooks/list"
    if location is not None:
        response.headers["Location"] = location
    assert redirect_target(response) == shown


@pytest.mark.parametrize("redirecting", [302], indirect=True)
def test_a_redirect_to_the_same_host_says_to_check_the_profile_host(redirecting, tmp_path, monkeypatch):
    redirecting.location = "/login.html?next=" + LIST
    with sqlprovider.connect(retry=RETRY) as conn, pytest.raises(sqlprovider.OperationalError) as error:
        conn.execute("SELECT id FROM model_registry_webhooks WHERE deployment_name = 'moved'").fetchall()
    assert str(error.value) == (
        f"moved: GET {LIST} failed: HTTP 302 redirect to another path on {redirecting.url}, not followed "
        f"(credentials and request bodies go only to {redirecting.url}); set the workspace's final host in its "
        f"profile (the workspace URL itself, not a proxy or login page)")

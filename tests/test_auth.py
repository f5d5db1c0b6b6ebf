"""Credentials: OAuth M2M end to end against the sandbox's token endpoint (cache, refresh, errors),
the token cache's rules on a fake clock, auth-failure hints, and the optional Databricks SDK."""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest
import requests

import sqlprovider
from sqlprovider.workspace import auth, deployments
from sqlprovider.workspace.client import Workspace
from sqlprovider.errors import ApiError, ConfigurationError
from sqlprovider.sandbox import Sandbox

CLIENT_ID = "sp-client-7f3a"
SECRET = "dose-m2m-secret-5b1e9c"
CREATE = ("INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
          "VALUES ('{ws}', '[\"MODEL_VERSION_CREATED\"]', '{{\"url\": \"https://example.com/h\"}}')")
LIST = "SELECT id FROM model_registry_webhooks WHERE deployment_name = '{ws}'"


@pytest.fixture
def m2m(tmp_path):
    with Sandbox(data_path=tmp_path / "m2m.db", client_id=CLIENT_ID, client_secret=SECRET) as sb:
        yield sb


def profile_file(tmp_path, monkeypatch, text: str) -> str:
    path = tmp_path / "oauth.cfg"
    path.write_text(text)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(path))
    for name in ("DATABRICKS_TOKEN", "DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET",
                 "DATABRICKS_CONFIG_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return str(path)


def calls(sb: Sandbox, path: str) -> int:
    return sum(1 for r in sb.requests if r.path == path)


# --- end to end against the sandbox --------------------------------------------------------------------------

def test_profile_client_credentials_one_token_for_many_calls(m2m, tmp_path, monkeypatch):
    profile_file(tmp_path, monkeypatch, f"[sp]\nhost = {m2m.url}\nclient_id = {CLIENT_ID}\nclient_secret = {SECRET}\n")
    with sqlprovider.connect() as conn:
        conn.execute(CREATE.format(ws="sp"))
        for _ in range(5):
            assert len(conn.execute(LIST.format(ws="sp")).fetchall()) == 1
        conn.execute("UPDATE model_registry_webhooks SET status = 'DISABLED' WHERE deployment_name = 'sp'")
    assert calls(m2m, auth.DISCOVERY_PATH) == 1
    assert calls(m2m, auth.TOKEN_PATH) == 1
    api = [r for r in m2m.requests if "/registry-webhooks/" in r.path]
    assert len(api) >= 8 and all(r.headers.get("Authorization") == "Bearer ***" for r in api)


def test_environment_client_credentials_for_the_host_databricks_host_names(m2m, tmp_path, monkeypatch):
    profile_file(tmp_path, monkeypatch, f"[envsp]\nhost = {m2m.url}\n")
    monkeypatch.setenv("DATABRICKS_HOST", m2m.url)
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", SECRET)
    with sqlprovider.connect() as conn:
        conn.execute(CREATE.format(ws="envsp"))
        assert len(conn.execute(LIST.format(ws="envsp")).fetchall()) == 1
    assert calls(m2m, auth.TOKEN_PATH) == 1


def test_the_token_is_refreshed_before_it_expires(tmp_path, monkeypatch):
    with Sandbox(data_path=tmp_path / "short.db", client_id=CLIENT_ID, client_secret=SECRET, token_ttl=1) as sb:
        profile_file(tmp_path, monkeypatch, f"[sp]\nhost = {sb.url}\nclient_id = {CLIENT_ID}\nclient_secret = {SECRET}\n")
        with sqlprovider.connect() as conn:
            conn.execute(LIST.format(ws="sp")).fetchall()
            conn.execute(LIST.format(ws="sp")).fetchall()
            assert calls(sb, auth.TOKEN_PATH) == 1
            time.sleep(1.0)  # past the refresh point (0.9 s) and the expiry: a new token, no 403
            conn.execute(LIST.format(ws="sp")).fetchall()
        assert calls(sb, auth.TOKEN_PATH) == 2


def test_concurrent_requests_share_one_token_request(m2m):
    provider = auth.OAuthM2M(m2m.url, CLIENT_ID, SECRET)
    barrier = threading.Barrier(16)
    headers: list[dict] = []

    def call() -> None:
        barrier.wait()
        headers.append(dict(provider()))

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls(m2m, auth.TOKEN_PATH) == 1 and provider.token_requests == 1
    assert len({h["Authorization"] for h in headers}) == 1


def test_a_wrong_secret_is_one_line_naming_client_and_endpoint_not_the_secret(m2m, tmp_path, monkeypatch):
    path = profile_file(tmp_path, monkeypatch,
                        f"[bad]\nhost = {m2m.url}\nclient_id = {CLIENT_ID}\nclient_secret = wrong-{SECRET}\n")
    with sqlprovider.connect() as conn, pytest.raises(ConfigurationError) as err:
        conn.execute(LIST.format(ws="bad")).fetchall()
    message = str(err.value)
    assert message == (f"bad: OAuth M2M login of client id '{CLIENT_ID}' at {m2m.url}/oidc/v1/token failed: "
                       f"invalid_client (HTTP 401): Client authentication failed.; check the client id and secret "
                       f"(profile [bad] in {path}) and that the service principal belongs to this workspace")
    assert SECRET not in message
    assert not [r for r in m2m.requests if "/registry-webhooks/" in r.path]


def test_a_token_endpoint_nobody_answers_is_an_api_error(tmp_path):
    provider = auth.OAuthM2M("http://127.0.0.1:9", CLIENT_ID, SECRET, workspace="gone", timeout=(0.5, 0.5))
    with pytest.raises(ApiError, match=r"^gone: OAuth M2M login of client id 'sp-client-7f3a' at http://127.0.0.1:9/"
                                       r"oidc/.well-known/oauth-authorization-server failed: cannot reach"):
        provider()


# --- the token cache, on a fake clock and a fake token endpoint ------------------------------------------------

class FakeSession:
    """Answers discovery and token requests from canned (status, payload) pairs; counts them."""

    def __init__(self, discovery=(404, {}), token=(200, {"access_token": "tok", "expires_in": 3600})) -> None:
        self.discovery, self.token = discovery, token
        self.gets: list[str] = []
        self.posts: list[tuple[str, dict]] = []

    def get(self, url, **kw):
        self.gets.append(url)
        return _response(*self.discovery)

    def post(self, url, **kw):
        self.posts.append((url, kw))
        if isinstance(self.token, Exception):
            raise self.token
        status, payload = self.token
        if status == 200 and isinstance(payload, dict) and "access_token" in payload:
            payload = {**payload, "access_token": f"{payload['access_token']}-{len(self.posts)}"}
        return _response(status, payload)


def _response(status: int, payload) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return response


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("lifetime, refresh_after", [(3600, 3540), (30, 27), (None, 3540)])
def test_the_token_is_kept_until_60_seconds_or_a_tenth_of_its_life_remain(lifetime, refresh_after):
    clock = Clock()
    session = FakeSession(token=(200, {"access_token": "tok", **({"expires_in": lifetime} if lifetime else {})}))
    provider = auth.OAuthM2M("https://h.example.com", "id", "s", session, clock=clock)
    assert provider() == {"Authorization": "Bearer tok-1"}
    clock.now += refresh_after - 0.01
    assert provider() == {"Authorization": "Bearer tok-1"}
    clock.now += 0.02
    assert provider() == {"Authorization": "Bearer tok-2"}
    assert session.gets == ["https://h.example.com/oidc/.well-known/oauth-authorization-server"]  # discovered once
    url, kw = session.posts[0]
    assert url == "https://h.example.com/oidc/v1/token"  # discovery failed (404): the fallback
    assert kw["data"] == {"grant_type": "client_credentials", "scope": "all-apis"} and kw["auth"] == ("id", "s")
    assert kw["allow_redirects"] is False


def test_the_discovered_endpoint_is_used_when_it_is_on_the_workspace_host():
    session = FakeSession(discovery=(200, {"token_endpoint": "https://H.example.com:443/oidc/v2/token"}))
    auth.OAuthM2M("https://h.example.com", "id", "s", session)()
    assert session.posts[0][0] == "https://H.example.com:443/oidc/v2/token"


@pytest.mark.parametrize("endpoint", ["https://evil.example.com/oidc/v1/token", "http://h.example.com/oidc/v1/token",
                                      "https://h.example.com:8443/token", "https://x@h.example.com/token"])
def test_a_token_endpoint_on_another_host_gets_no_secret(endpoint):
    session = FakeSession(discovery=(200, {"token_endpoint": endpoint}))
    with pytest.raises(ConfigurationError, match=r"names a token endpoint on another host .*; refusing to send the "
                                                 r"client secret of client id 'id' there"):
        auth.OAuthM2M("https://h.example.com", "id", "s3cr3t-value", session, workspace="w")()
    assert session.posts == []


@pytest.mark.parametrize("token, kind, text", [
    ((503, b"<html>busy</html>"), ApiError, "HTTP 503 (HTTP 503)"),
    ((400, {"error": "invalid_scope", "error_description": "no all-apis"}), ConfigurationError,
     "invalid_scope (HTTP 400): no all-apis; check the client id and secret"),
    ((200, {"token_type": "Bearer"}), ApiError, "the token endpoint answered without an access_token"),
    (requests.ConnectionError("[Errno 111] Connection refused"), ApiError,
     "cannot reach the token endpoint (Connection refused)"),
])
def test_token_endpoint_failures_are_one_line(token, kind, text):
    provider = auth.OAuthM2M("https://h.example.com", "id", "s3cr3t-value", FakeSession(token=token), workspace="w")
    with pytest.raises(kind) as err:
        provider()
    assert str(err.value).startswith("w: OAuth M2M login of client id 'id' at https://h.example.com/oidc/v1/token failed: ")
    assert text in str(err.value) and "\n" not in str(err.value) and "s3cr3t-value" not in str(err.value)


def test_a_token_endpoint_echoing_the_secret_is_masked():
    session = FakeSession(token=(401, {"error": "invalid_client", "error_description": "bad secret s3cr3t-value"}))
    with pytest.raises(ConfigurationError) as err:
        auth.OAuthM2M("https://h.example.com", "id", "s3cr3t-value", session)()
    assert "s3cr3t-value" not in str(err.value) and "bad secret ***" in str(err.value)


# --- auth failures of the API say what to check ---------------------------------------------------------------

def _api_error(status: int, payload, body: dict | None = None, source: str = "profile [ws] in /cfg") -> str:
    workspace = Workspace("ws", "https://ws.example.com", auth.PersonalAccessToken("dapi-abc123", source))
    response = _response(status, payload)
    response.request = requests.Request("POST", "https://ws.example.com/x", json=body,
                                        headers={"Authorization": "Bearer dapi-abc123"}).prepare()
    return str(workspace._api_error("POST", "/x", response))


def test_401_names_the_workspace_and_the_credential_source():
    message = _api_error(401, {"error_code": 401, "message": "Credential was not sent or was of an unsupported type "
                                                             "for this API."})
    assert message.endswith("; no valid credential reached ws: check the one from profile [ws] in /cfg "
                            "(DATABRICKS_TOKEN, DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, or a profile's token "
                            "or client_id/client_secret)")


def test_403_invalid_token_says_expired_and_names_its_source():
    message = _api_error(403, {"error_code": 403, "message": "Invalid access token."})
    assert message == ("ws: POST /x failed: HTTP 403: Invalid access token.; check that the token for ws is "
                       "valid and not expired (it comes from profile [ws] in /cfg): create a new one, or for OAuth "
                       "check the client id and secret")


def test_403_permission_denied_names_admin_rights_and_unity_catalog():
    message = _api_error(403, {"error_code": "PERMISSION_DENIED", "message": "User is not an admin."})
    assert message.endswith("; managing registry webhooks on ws needs workspace admin rights (registry-wide "
                            "webhooks) or CAN MANAGE on the model; Unity Catalog models have no registry webhooks")


def test_an_error_echoing_what_was_sent_masks_every_secret():
    body = {"http_url_spec": {"url": "https://e.com", "secret": "hook-secret-1", "authorization": "Bearer hook-auth-2"},
            "job_spec": {"job_id": "1", "access_token": "job-token-3"}}
    message = _api_error(400, {"error_code": "INVALID_PARAMETER_VALUE",
                               "message": "bad hook-secret-1 hook-auth-2 job-token-3 dapi-abc123"}, body)
    for secret in ("hook-secret-1", "hook-auth-2", "job-token-3", "dapi-abc123"):
        assert secret not in message
    html = _api_error(502, b"<html>upstream rejected dapi-abc123</html>", body)
    assert "dapi-abc123" not in html and "non-JSON answer" in html


# --- the optional Databricks SDK, for other auth_types of a profile -------------------------------------------

def test_other_auth_types_without_the_sdk_say_how_to_get_it(tmp_path, monkeypatch):
    profile_file(tmp_path, monkeypatch, "[az]\nhost = https://adb-1.2.azuredatabricks.net\nauth_type = azure-cli\n")
    monkeypatch.setitem(sys.modules, "databricks.sdk.core", None)
    with pytest.raises(ConfigurationError, match=r"profile \[az\] in .* uses auth_type = azure-cli, which needs the "
                                                 r"Databricks SDK: pip install 'sqlprovider\[databricks-sdk\]'"):
        deployments.resolve("az")


def test_the_sdk_authenticates_profiles_it_knows(m2m, tmp_path, monkeypatch):
    pytest.importorskip("databricks.sdk")
    profile_file(tmp_path, monkeypatch, f"[basic]\nhost = {m2m.url}\nauth_type = basic\nusername = u\npassword = p\n\n"
                                        f"[az]\nhost = {m2m.url}\nauth_type = azure-cli\n")
    workspace = deployments.resolve("basic")
    assert workspace.host == m2m.url and workspace.auth() == {"Authorization": "Basic dTpw"}
    with pytest.raises(ConfigurationError) as err:
        deployments.resolve("az")
    assert str(err.value).startswith("profile [az] in ") and "uses auth_type = azure-cli, which the Databricks SDK " \
                                                            "cannot set up: " in str(err.value)
    assert "\n" not in str(err.value)


def test_a_netrc_entry_for_the_host_does_not_replace_the_credential(m2m, ws1, tmp_path, monkeypatch):
    """requests puts ~/.netrc's login on any request without `auth=`, over an Authorization header."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\nlogin bob\npassword netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert requests.utils.get_netrc_auth(m2m.url) == ("bob", "netrc-password")  # the trap is armed
    config = profile_file(tmp_path, monkeypatch, f"[sp]\nhost = {m2m.url}\nclient_id = {CLIENT_ID}\n"
                                                 f"client_secret = {SECRET}\n\n[ws1]\nhost = {ws1.sandbox.url}\n"
                                                 f"token = {ws1.sandbox.token}\n")
    assert config
    with sqlprovider.connect() as conn:
        assert conn.execute(LIST.format(ws="ws1")).fetchall() == []
        assert conn.execute(LIST.format(ws="sp")).fetchall() == []
    sent = [(r.path, r.headers.get("Authorization")) for sb in (m2m, ws1.sandbox) for r in sb.requests]
    assert [a for p, a in sent if p != auth.TOKEN_PATH] == [None] + ["Bearer ***"] * 2  # discovery: none

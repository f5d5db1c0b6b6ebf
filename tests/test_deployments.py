"""deployment_name -> workspace: profiles by name and by host label, the cloud default, which
credentials may go where, and names refused before any request."""

from __future__ import annotations

import socket
import threading

import pytest

import sqlprovider
from sqlprovider.workspace import deployments
from sqlprovider.workspace.auth import OAuthM2M, PersonalAccessToken
from sqlprovider.errors import ConfigurationError

CONFIG = """\
[DEFAULT]
host = https://default.example.com
token = dapi-default

[prod]
host = https://dbc-1234.cloud.databricks.com/
token = dapi-prod

[azure]
host = adb-123.4.azuredatabricks.net/?o=123
client_id = sp-azure
client_secret = azure-secret

[notoken]
host = https://x.example.com

[local]
host = http://127.0.0.1:8
token = dapi-local
"""


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    path = tmp_path / "databrickscfg"
    path.write_text(CONFIG)
    for name in ("DATABRICKS_TOKEN", "DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CLIENT_ID",
                 "DATABRICKS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(path))
    return path


def env(cfg, **values: str) -> dict[str, str]:
    return {"DATABRICKS_CONFIG_FILE": str(cfg), **values}


def resolve(cfg, name: str, **values: str):
    return deployments.resolve(name, env=env(cfg, **values))


# --- where a name leads ---------------------------------------------------------------------------------------

def test_a_profile_gives_host_and_token(cfg):
    workspace = resolve(cfg, "prod")
    assert workspace.host == "https://dbc-1234.cloud.databricks.com"
    assert workspace.auth() == {"Authorization": "Bearer dapi-prod"}


def test_a_profile_is_found_by_the_first_label_of_its_host(cfg):
    assert resolve(cfg, "dbc-1234").auth() == {"Authorization": "Bearer dapi-prod"}
    azure = resolve(cfg, "adb-123")
    assert azure.host == "https://adb-123.4.azuredatabricks.net"  # bare host -> https; path and ?o= dropped
    assert isinstance(azure.auth, OAuthM2M) and azure.auth.client_id == "sp-azure"


def test_other_names_are_cloud_workspaces_with_the_environment_credentials(cfg):
    workspace = resolve(cfg, "dbc-abcd0123-a1bc", DATABRICKS_TOKEN="dapi-env")
    assert workspace.host == "https://dbc-abcd0123-a1bc.cloud.databricks.com"
    assert workspace.auth() == {"Authorization": "Bearer dapi-env"}
    m2m = resolve(cfg, "dbc-9", DATABRICKS_CLIENT_ID="sp", DATABRICKS_CLIENT_SECRET="s3")
    assert isinstance(m2m.auth, OAuthM2M) and m2m.auth.host == "https://dbc-9.cloud.databricks.com"


def test_ip_address_hosts_have_no_label_to_match(cfg):
    assert resolve(cfg, "127", DATABRICKS_TOKEN="dapi-env").host == "https://127.cloud.databricks.com"


def test_several_profiles_on_one_host_prefer_the_config_profile_then_default(cfg, tmp_path):
    path = tmp_path / "two.cfg"
    path.write_text("[a]\nhost = https://dbc-7.cloud.databricks.com\ntoken = A\n\n"
                    "[b]\nhost = https://DBC-7.cloud.databricks.com:443/\ntoken = B\n\n"
                    "[DEFAULT]\nhost = https://dbc-7.cloud.databricks.com\ntoken = D\n")
    assert deployments.resolve("dbc-7", env=env(path)).auth() == {"Authorization": "Bearer D"}
    chosen = deployments.resolve("dbc-7", env=env(path, DATABRICKS_CONFIG_PROFILE="b"))
    assert chosen.auth() == {"Authorization": "Bearer B"}


def test_profiles_on_different_hosts_with_one_label_are_ambiguous(tmp_path):
    path = tmp_path / "amb.cfg"
    path.write_text("[a]\nhost = https://ws.cloud.databricks.com\ntoken = A\n\n"
                    "[b]\nhost = https://ws.gcp.databricks.com\ntoken = B\n")
    with pytest.raises(ConfigurationError, match=r"matches profiles with different hosts .* \(\[a\], \[b\]\); use the "
                                                 r"profile name instead"):
        deployments.resolve("ws", env=env(path))


# --- which credentials may go where --------------------------------------------------------------------------

def test_databricks_host_keeps_the_environment_credentials_for_that_host(cfg):
    assert resolve(cfg, "dbc-1", DATABRICKS_HOST="dbc-1.cloud.databricks.com", DATABRICKS_TOKEN="t").auth()
    with pytest.raises(ConfigurationError, match=r"no credential for deployment 'dbc-2' "
                                                 r"\(https://dbc-2.cloud.databricks.com\) \(DATABRICKS_HOST is "
                                                 r"https://dbc-1.cloud.databricks.com, so the environment's "
                                                 r"credentials go only there\)"):
        resolve(cfg, "dbc-2", DATABRICKS_HOST="https://dbc-1.cloud.databricks.com", DATABRICKS_TOKEN="t")


def test_plain_http_databricks_host_does_not_match_the_https_default(cfg):
    with pytest.raises(ConfigurationError, match="no credential"):
        resolve(cfg, "dbc-1", DATABRICKS_HOST="http://dbc-1.cloud.databricks.com", DATABRICKS_TOKEN="t")


def test_a_profile_without_credentials_takes_the_environment_only_when_databricks_host_names_it(cfg):
    with pytest.raises(ConfigurationError, match=r"profile \[notoken\] in .* has no credential; add token = "):
        resolve(cfg, "notoken", DATABRICKS_TOKEN="t")
    workspace = resolve(cfg, "notoken", DATABRICKS_TOKEN="t", DATABRICKS_HOST="https://x.example.com/")
    assert workspace.auth() == {"Authorization": "Bearer t"}


def test_environment_credentials_never_replace_a_profiles_own(cfg):
    assert resolve(cfg, "prod", DATABRICKS_TOKEN="env", DATABRICKS_HOST="https://dbc-1234.cloud.databricks.com"
                   ).auth() == {"Authorization": "Bearer dapi-prod"}


def test_config_profile_credentials_go_only_to_its_host(cfg, tmp_path):
    path = tmp_path / "ci.cfg"
    path.write_text(CONFIG + "\n[ci]\ntoken = dapi-ci\n")
    host = "https://dbc-5.cloud.databricks.com"
    chosen = deployments.resolve("dbc-5", env=env(path, DATABRICKS_CONFIG_PROFILE="ci", DATABRICKS_HOST=host))
    assert chosen.auth() == {"Authorization": "Bearer dapi-ci"}
    with pytest.raises(ConfigurationError, match="no credential for deployment 'dbc-6'"):
        deployments.resolve("dbc-6", env=env(path, DATABRICKS_CONFIG_PROFILE="ci", DATABRICKS_HOST=host))
    with pytest.raises(ConfigurationError, match="no credential for deployment 'dbc-5678'"):
        deployments.resolve("dbc-5678", env=env(path, DATABRICKS_CONFIG_PROFILE="prod"))


def test_a_missing_config_profile_is_named(cfg):
    with pytest.raises(ConfigurationError, match=r"DATABRICKS_CONFIG_PROFILE is 'nope', but .* has no profile \[nope\]"):
        resolve(cfg, "dbc-1", DATABRICKS_CONFIG_PROFILE="nope", DATABRICKS_TOKEN="t")


def test_token_wins_over_client_credentials_unless_auth_type_says_otherwise(tmp_path):
    path = tmp_path / "both.cfg"
    path.write_text("[p]\nhost = https://p.example.com\ntoken = T\nclient_id = c\nclient_secret = s\n\n"
                    "[m]\nhost = https://m.example.com\ntoken = T\nclient_id = c\nclient_secret = s\n"
                    "auth_type = oauth-m2m\n\n[half]\nhost = https://h.example.com\nclient_id = c\n")
    assert isinstance(deployments.resolve("p", env=env(path)).auth, PersonalAccessToken)
    assert isinstance(deployments.resolve("m", env=env(path)).auth, OAuthM2M)
    with pytest.raises(ConfigurationError, match=r"profile \[half\] in .* has client_id but no client_secret"):
        deployments.resolve("half", env=env(path))
    with pytest.raises(ConfigurationError, match="needs both DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"):
        deployments.resolve("dbc-1", env=env(path, DATABRICKS_CLIENT_ID="c"))


# --- http only from explicit configuration; odd hosts refused -----------------------------------------------

def test_plain_http_only_from_a_profile(cfg):
    assert resolve(cfg, "local").host == "http://127.0.0.1:8"
    assert resolve(cfg, "anything", DATABRICKS_TOKEN="t").host.startswith("https://")


@pytest.mark.parametrize("host", ["ftp://h.example.com", "https://user:pw@h.example.com", "https://h .example.com",
                                  "https://h.example.com:99999", "https://h..example.com", "file:///etc/passwd",
                                  "https://h.example.com.", "https://-h.example.com"])
def test_odd_profile_hosts_are_refused(tmp_path, host):
    path = tmp_path / "odd.cfg"
    path.write_text(f"[odd]\nhost = {host}\ntoken = t\n")
    with pytest.raises(ConfigurationError, match=r"profile \[odd\] in .* has host = .* which is not an http\(s\) URL"):
        deployments.resolve("odd", env=env(path))


@pytest.mark.parametrize("name", ["foo", "bar", "notoken"])
def test_user_info_in_databricks_host_is_refused_without_showing_the_password(cfg, name):
    with pytest.raises(ConfigurationError) as caught:
        resolve(cfg, name, DATABRICKS_HOST="https://me:pw-secret-9@foo.cloud.databricks.com", DATABRICKS_TOKEN="t")
    assert str(caught.value) == (
        "DATABRICKS_HOST has user info (user:password@) before the host, which is never sent: remove it "
        "(DATABRICKS_HOST=https://foo.cloud.databricks.com) and give the credential in DATABRICKS_TOKEN, or "
        "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET")


@pytest.mark.parametrize("host", ["ftp://foo.cloud.databricks.com", "https://foo .cloud.databricks.com"])
def test_a_databricks_host_that_is_no_host_is_refused(cfg, host):
    with pytest.raises(ConfigurationError, match=r"^DATABRICKS_HOST is not an http\(s\) URL of a host .*; set it to "
                                                 r"the workspace URL, e.g. https://<workspace>.cloud.databricks.com, "
                                                 r"or unset it$"):
        resolve(cfg, "foo", DATABRICKS_HOST=host, DATABRICKS_TOKEN="t")


def test_a_profile_with_its_own_credentials_does_not_look_at_databricks_host(cfg):
    assert resolve(cfg, "prod", DATABRICKS_HOST="https://me:pw@x.example.com").auth() == {
        "Authorization": "Bearer dapi-prod"}


def test_a_config_file_that_is_a_directory_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path))
    with pytest.raises(ConfigurationError) as caught:
        deployments.resolve("prod", env=env(tmp_path, DATABRICKS_TOKEN="t"))
    assert str(caught.value) == (f"Databricks config file {tmp_path} is a directory, not a file: point "
                                 f"DATABRICKS_CONFIG_FILE at the config file itself (default ~/.databrickscfg)")


def test_missing_credentials_say_what_to_set(cfg):
    with pytest.raises(ConfigurationError, match=r"no credential for deployment 'dbc-1' \(https://dbc-1.cloud."
                                                 r"databricks.com\): set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and "
                                                 r"DATABRICKS_CLIENT_SECRET, or add a profile \[dbc-1\] with host and "
                                                 r"token to .*databrickscfg$"):
        resolve(cfg, "dbc-1")


def test_nothing_secret_in_reprs(cfg):
    workspace = resolve(cfg, "adb-123")
    shown = repr(workspace) + repr(workspace.auth) + repr(resolve(cfg, "prod").auth)
    assert "azure-secret" not in shown and "dapi-prod" not in shown


# --- hostile names: refused, and not one connection made -----------------------------------------------------

@pytest.fixture
def listener():
    """A loopback TCP listener that counts the connections it gets."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    connections: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except OSError:
                continue
            with client:
                client.settimeout(0.5)
                try:
                    connections.append(client.recv(1024))
                except OSError:
                    connections.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


def hostile(port: int) -> list[str]:
    at = f"127.0.0.1:{port}"
    return [
        "127.0.0.1", at, f"localhost:{port}", f"x@{at}", f"{at}/", f"{at}#", f"{at}?", f"http://{at}",
        f"//{at}", f"x@{at}#", f"{at}%23", f"localhost:{port}\\", "%2e", "a%2eb", "evil.com", "a.cloud.databricks.com",
        "evil\u3002com", "ｅｖｉｌ", "xn--e1afmkfd", "evil.", "evil\r\nHost: x", "evil\n", "evil\x00", "a" * 64, " evil",
        "evil ", "-evil", "evil-", "[::1]", "évil", "evil\u200b", "ev\u0130l", "sandbox.", "sandbox\n", "../etc",
        "evil/x", "evil:443", "evil?x=1", "evil#frag", "user@evil", "evil\tx",
    ]


def test_hostile_names_are_refused_before_any_request(cfg, listener, monkeypatch):
    port, connections = listener
    # Credentials for the listener exist, as an attacker would hope: none may reach it.
    monkeypatch.setenv("DATABRICKS_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-must-not-leak")
    names = hostile(port)
    assert len(names) >= 15
    for name in names:
        with pytest.raises(ConfigurationError, match=r"is not a workspace name \(one DNS label") as err:
            deployments.resolve(name)
        assert "\n" not in str(err.value) and "\r" not in str(err.value)
    assert connections == []


def test_hostile_names_are_refused_through_sql(cfg, listener, monkeypatch, conn):
    port, connections = listener
    monkeypatch.setenv("DATABRICKS_HOST", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-must-not-leak")
    for name in hostile(port):
        for sql in ("SELECT id FROM model_registry_webhooks WHERE deployment_name = ?",
                    "SELECT id FROM model_registry_webhooks WHERE workspace IN (?, 'x.y')",
                    "INSERT INTO model_registry_webhooks (deployment_name, events, http_url_spec) "
                    "VALUES (?, '[\"MODEL_VERSION_CREATED\"]', '{\"url\": \"https://e.com\"}')",
                    "DELETE FROM model_registry_webhooks WHERE deployment_name = ? AND id = 'x'"):
            with pytest.raises(sqlprovider.Error):
                conn.execute(sql, (name,))
        with pytest.raises(sqlprovider.Error):
            conn.execute("EXEC model_registry_webhooks.delete @deployment_name=:n, @id='x'", {"n": name})
    assert connections == []

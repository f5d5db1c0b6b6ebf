"""deployment_name -> workspace: profiles, the cloud default, and names refused before any request."""

from __future__ import annotations

import pytest

from sqlprovider import deployments
from sqlprovider.errors import ConfigurationError


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    path = tmp_path / "databrickscfg"
    path.write_text("[DEFAULT]\nhost = https://default.example.com\ntoken = dapi-default\n\n"
                    "[prod]\nhost = https://adb-123.4.azuredatabricks.net/\ntoken = dapi-prod\n\n"
                    "[notoken]\nhost = https://x.example.com\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(path))
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    return path


def test_a_profile_gives_host_and_token(cfg):
    workspace = deployments.resolve("prod")
    assert workspace.host == "https://adb-123.4.azuredatabricks.net"
    assert workspace.auth() == {"Authorization": "Bearer dapi-prod"}


def test_other_names_are_cloud_workspaces_with_databricks_token(cfg):
    workspace = deployments.resolve("dbc-abcd0123-a1bc", env={"DATABRICKS_TOKEN": "dapi-env"})
    assert workspace.host == "https://dbc-abcd0123-a1bc.cloud.databricks.com"
    assert workspace.auth() == {"Authorization": "Bearer dapi-env"}


def test_missing_credentials_say_what_to_set(cfg):
    with pytest.raises(ConfigurationError, match=r"no credential for deployment 'dbc-1': set DATABRICKS_TOKEN, "
                                                 r"or add a profile \[dbc-1\] with host and token to "):
        deployments.resolve("dbc-1", env={})
    with pytest.raises(ConfigurationError, match=r"profile \[notoken\] in .* has no token; add token = "):
        deployments.resolve("notoken")


HOSTILE = [
    "evil.com", "evil.com/x", "a.cloud.databricks.com", "http://evil", "https://evil.com", "user@evil",
    "evil:443", "evil com", " evil", "evil\n", "evil\x00", "evil\r\nHost: x", "../etc", "-evil", "evil-",
    "a" * 64, "", "évil", "evil#frag", "evil?x=1", "[::1]", "127.0.0.1",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_names_that_are_not_a_dns_label_are_refused(cfg, name):
    with pytest.raises(ConfigurationError, match=r"is not a workspace name \(one DNS label"):
        deployments.resolve(name, env={"DATABRICKS_TOKEN": "dapi-env"})


def test_refusal_messages_are_one_line(cfg):
    with pytest.raises(ConfigurationError) as err:
        deployments.resolve("evil\r\nHost: x", env={"DATABRICKS_TOKEN": "t"})
    assert "\n" not in str(err.value) and "\r" not in str(err.value)

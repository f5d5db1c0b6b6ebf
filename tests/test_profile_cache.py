"""The Databricks config file is parsed once per content: a query over several workspaces parses it once,
and an edited file is seen at once (issue 8, fan-out)."""

from __future__ import annotations

from pathlib import Path

import pytest

import sqlprovider
from sqlprovider.workspace import deployments
from sqlprovider.workspace.client import RetryPolicy
from sqlprovider.errors import ConfigurationError

NAMES = [f"fan{i}" for i in range(1, 9)]


def profiles(host: str = "http://127.0.0.1:9", token: str = "dapi-aaaa") -> str:
    return "".join(f"[{name}]\nhost = {host}\ntoken = {token}\n\n" for name in NAMES)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "databrickscfg"
    path.write_text(profiles())
    for name in ("DATABRICKS_TOKEN", "DATABRICKS_HOST", "DATABRICKS_CONFIG_PROFILE", "DATABRICKS_CLIENT_ID",
                 "DATABRICKS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(path))
    deployments._parse_profiles.cache_clear()
    return path


def test_eight_workspaces_parse_the_file_once(cfg: Path) -> None:
    workspaces = [deployments.resolve(name) for name in NAMES]
    assert [w.host for w in workspaces] == ["http://127.0.0.1:9"] * 8
    info = deployments._parse_profiles.cache_info()
    assert (info.misses, info.hits) == (1, 7)


def test_a_query_over_eight_workspaces_parses_the_file_once(cfg: Path, closed_port: int) -> None:
    cfg.write_text(profiles(host=f"http://127.0.0.1:{closed_port}"))
    listed = ", ".join(f"'{name}'" for name in NAMES)
    with sqlprovider.connect(retry=RetryPolicy(max_attempts=1)) as conn, pytest.raises(sqlprovider.Error,
                                                                                       match="cannot reach"):
        conn.execute(f"SELECT id FROM model_registry_webhooks WHERE deployment_name IN ({listed})").fetchall()
    assert deployments._parse_profiles.cache_info().misses == 1


def test_an_edit_is_seen_at_once(cfg: Path) -> None:
    assert deployments.read_profiles()["fan1"]["token"] == "dapi-aaaa"
    cfg.write_text(profiles(token="dapi-bbbb"))  # same size, likely the same mtime
    assert deployments.read_profiles()["fan1"]["token"] == "dapi-bbbb"
    cfg.write_text(profiles(token="dapi-aaaa"))
    assert deployments.read_profiles()["fan1"]["token"] == "dapi-aaaa"


def test_changing_the_answer_does_not_change_the_cache(cfg: Path) -> None:
    deployments.read_profiles()["fan1"]["token"] = "changed"
    deployments.read_profiles().pop("fan2")
    again = deployments.read_profiles()
    assert again["fan1"]["token"] == "dapi-aaaa" and "fan2" in again


def test_a_missing_file_or_a_directory_has_no_profiles(tmp_path: Path) -> None:
    assert deployments.read_profiles(tmp_path / "absent") == {}
    assert deployments.read_profiles(tmp_path) == {}


@pytest.mark.parametrize(("content", "message"), [
    (b"host = https://x\n", "File contains no section headers."),
    (b"[a]\nhost = x\n[a]\n", "section 'a' already exists"),
    (b"[a]\nhost = \xff\n", "'utf-8' codec can't decode byte 0xff in position 11: invalid start byte"),
])
def test_a_broken_file_is_an_error_every_time(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "cfg"
    path.write_bytes(content)
    for _ in range(2):
        with pytest.raises(ConfigurationError, match=f"cannot read Databricks config file {path}: .*") as caught:
            deployments.read_profiles(path)
        assert message in str(caught.value)


def test_crlf_and_cr_line_ends_read_as_before(tmp_path: Path) -> None:
    path = tmp_path / "cfg"
    path.write_bytes(b"[a]\r\nhost = https://x\r\ntoken = t\r[b]\rhost = https://y\r")
    assert deployments.read_profiles(path) == {"a": {"host": "https://x", "token": "t"}, "b": {"host": "https://y"}}

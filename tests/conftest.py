"""Shared fixtures: an isolated data directory for every test, and a started sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sqlprovider.sandbox import Sandbox


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point SQLPROVIDER_DATA_DIR at a fresh directory so no test touches the home directory."""
    data_dir = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("SQLPROVIDER_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A started sandbox on a free loopback port with its own data file; stopped afterwards."""
    with Sandbox(data_path=tmp_path / "sb.db") as sb:
        yield sb

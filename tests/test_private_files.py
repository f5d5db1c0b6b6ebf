"""Files that hold secrets are the owner's only: the sandbox's data file (write-only values, as the real
service keeps them) and the shell's history are created 0600 in a directory created 0700."""

from __future__ import annotations

import os
import stat

import pytest

from sqlprovider.cli.shell import History
from sqlprovider.sandbox import Sandbox
from sqlprovider.sandbox.store import Store


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    old = os.umask(0o022)  # the common default: without care, files come out 0644 and directories 0755
    yield
    os.umask(old)


def test_the_sandbox_data_file_is_created_0600_in_a_0700_directory(tmp_path, loose_umask):
    with Sandbox(data_path=tmp_path / "new" / "deeper" / "sb.db") as sb:
        sb_path = sb.data_path
    assert mode(sb_path) == 0o600
    assert mode(tmp_path / "new" / "deeper") == 0o700 and mode(tmp_path / "new") == 0o700
    for companion in (sb_path.with_name("sb.db-wal"), sb_path.with_name("sb.db-shm")):
        if companion.exists():  # SQLite gives its WAL files the database file's mode
            assert mode(companion) == 0o600


def test_an_existing_sandbox_file_and_directory_keep_their_modes(tmp_path, loose_umask):
    path = tmp_path / "sb.db"
    Store(path).close()
    os.chmod(path, 0o640)  # the owner chose this: not ours to change
    Store(path).close()
    assert mode(path) == 0o640


def test_the_history_file_is_created_0600_in_a_0700_directory(tmp_path, loose_umask):
    history = History(tmp_path / "data" / "history")
    history.add("SELECT 1")
    assert mode(history.path) == 0o600 and mode(tmp_path / "data") == 0o700

"""Where sqlprovider keeps its files: one data directory, for the sandbox's store and the shell's history.

A leaf: it imports nothing of the project, so every layer may ask it without depending on another.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Set it to keep every file sqlprovider writes in one chosen directory (the tests, CI, a container).
DATA_DIR_ENV = "SQLPROVIDER_DATA_DIR"


def data_dir() -> Path:
    """`$SQLPROVIDER_DATA_DIR`, else the user's data directory for sqlprovider (not created here)."""
    directory = os.environ.get(DATA_DIR_ENV)
    if not directory:
        import platformdirs  # only when needed: the environment variable is the common case in tests and CI

        directory = platformdirs.user_data_dir("sqlprovider")
    return Path(directory).expanduser()

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


def create_private(path: Path) -> None:
    """Create `path` (if missing) readable by its owner only: mode 0600, its directory 0700 when created here.

    For files that hold secrets: the shell's history, the sandbox's data file (write-only values).
    """
    path = Path(path)
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))

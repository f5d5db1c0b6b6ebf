"""`sqlprovider sandbox serve`: run a Sandbox in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from sqlprovider.sandbox.faults import FaultSpec
from sqlprovider.sandbox.server import Sandbox
from sqlprovider.webhooks.httpd import stop_signals


def serve(*, host: str, port: int, data_path: str | None, token: str | None, client_id: str | None,
          client_secret: str | None, token_ttl: int = 3600, latency: float = 0.0,
          faults: Sequence[FaultSpec] = (), out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Serve until interrupted; print the URL and (a generated) token once. Returns the exit code:
    0 after a clean stop, 2 when the server cannot start (one line on `err`, no traceback)."""
    try:
        sandbox = Sandbox(data_path=data_path, host=host, port=port, token=token, client_id=client_id,
                          client_secret=client_secret, token_ttl=token_ttl).start()
    except ValueError as exc:
        print(f"sqlprovider: error: {exc}", file=err)
        return 2
    except OSError as exc:
        print(f"sqlprovider: error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=err)
        return 2
    sandbox.latency = latency
    for fault in faults:
        sandbox.inject(fault)

    try:
        with stop_signals() as wait_for_signal:  # before the URL is printed, so an early signal is not lost
            _announce(sandbox, token, client_id, out, err)
            wait_for_signal()
    finally:
        sandbox.stop()
    return 0


def _announce(sandbox: Sandbox, token: str | None, client_id: str | None, out: TextIO, err: TextIO) -> None:
    """Print the URL first, then the token (unless given), OAuth client id and data file."""
    print(sandbox.url, file=out)
    print(f"token: {sandbox.token}" if not token else "token: (the one given with --token)", file=out)
    if client_id:
        print(f"oauth client_id: {client_id}", file=out)
    print(f"data: {sandbox.data_path}", file=out)
    out.flush()
    print("sqlprovider: sandbox serving; press Ctrl-C to stop", file=err)

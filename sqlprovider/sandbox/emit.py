"""`sqlprovider sandbox emit`: simulate a registry event on a running sandbox or on a data file.

With a URL and token it POSTs to the sandbox's `/api/2.0/sandbox/emit`; otherwise it opens the data
file (default: the one `Sandbox()` uses) in this process, on a free loopback port for the moment
it takes. Either way it prints one line per delivery, or `no matching ACTIVE webhooks`.

A data file named with `--data` must exist: a mistyped path would otherwise become a new, empty
sandbox and the emit would quietly match nothing. The default file is created when missing, as
`Sandbox()` does.
"""

from __future__ import annotations

import shlex
import sqlite3
import sys
from pathlib import Path
from typing import Any, TextIO

import requests

from sqlprovider.sandbox.delivery import safe_url
from sqlprovider.sandbox.extensions import PREFIX
from sqlprovider.sandbox.server import Sandbox

#: Connect and read timeouts for the remote call; deliveries run one after the other, 10 s at most each.
_TIMEOUT = (10.0, 600.0)


class EmitError(Exception):
    """The emit could not run; `exit_code` 2 for bad input (a 4xx answer), 1 for an unreachable or failing sandbox."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def run(*, event: str, model_name: str, version: str = "1", from_stage: str | None = None,
        to_stage: str | None = None, comment: str | None = None, url: str | None = None,
        token: str | None = None, data_path: str | None = None, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """Emit and print the deliveries; return the exit code (errors: one line on `err`).
    `out` and `err` default to the sys.stdout and sys.stderr of the moment."""
    out, err = out or sys.stdout, err or sys.stderr
    fields = {"event": event, "model_name": model_name, "version": version, "from_stage": from_stage,
              "to_stage": to_stage, "comment": comment}
    try:
        if bool(url) != bool(token):
            raise EmitError("--url and --token go together", 2)
        if url and data_path:
            raise EmitError("--data cannot be combined with --url: the running sandbox has its own data file", 2)
        deliveries = _remote(url, token, fields) if url and token else _local(data_path, fields)
    except EmitError as exc:
        print(f"sqlprovider: error: {exc}", file=err)
        return exc.exit_code
    for delivery in deliveries:
        print(describe(delivery), file=out)
    if not deliveries:
        print("no matching ACTIVE webhooks", file=out)
    return 0


def describe(delivery: dict[str, Any]) -> str:
    """One line: webhook id, event, url (or job id), status code, duration and error if any."""
    target = delivery["url"] if "url" in delivery else f"job {delivery.get('job_id')}"
    line = (f"{delivery['webhook_id']}  {delivery['event']}  {target}  {delivery['status_code']}  "
            f"{delivery['duration_ms']} ms")
    return line + (f"  error: {delivery['error']}" if delivery.get("error") else "")


def _local(data_path: str | None, fields: dict[str, Any]) -> list[dict[str, Any]]:
    if data_path is not None and not Path(data_path).exists():
        raise EmitError(f"no sandbox data file at {data_path}: create one with `sqlprovider sandbox serve --data "
                        f"{shlex.quote(data_path)}` (or leave out --data to use the default one)", 2)
    try:
        with Sandbox(data_path=data_path) as sandbox:
            return sandbox.emit(**fields)
    except ValueError as exc:
        raise EmitError(str(exc), 2) from None
    except (OSError, sqlite3.Error) as exc:
        raise EmitError(f"cannot open the sandbox data: {exc}", 1) from None


def _remote(url: str, token: str, fields: dict[str, Any]) -> list[dict[str, Any]]:
    endpoint = url.rstrip("/") + PREFIX + "emit"
    body = {name: value for name, value in fields.items() if value is not None}
    session = requests.Session()
    session.trust_env = False  # no .netrc credentials or proxies for a local sandbox
    try:
        with session:
            response = session.post(endpoint, json=body, headers={"Authorization": f"Bearer {token}"},
                                    timeout=_TIMEOUT, allow_redirects=False)  # the token goes to this host only
    except requests.RequestException as exc:
        raise EmitError(f"cannot reach the sandbox at {safe_url(url)}: {type(exc).__name__}", 1) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 200 and isinstance(answer, dict):
        return list(answer.get("deliveries") or [])
    message = answer.get("message") if isinstance(answer, dict) else None
    if not isinstance(message, str):
        message = f"the sandbox at {safe_url(url)} answered HTTP {response.status_code}"
    raise EmitError(message, 2 if 400 <= response.status_code < 500 else 1)

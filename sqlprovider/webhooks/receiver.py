"""A local webhook receiver: accepts registry-webhook deliveries, checks their signature, prints them.

For developing against the sandbox (`sqlprovider sandbox emit`, the `test` endpoint) or, through a
tunnel, a real workspace. POSTs to `path` are answered 200 `ok` when the signature verifies or no
secret is set, 401 `bad signature` when a secret is set and the signature is missing or wrong; one
line per delivery goes to `out`::

    2025-06-01T12:00:00+02:00 MODEL_VERSION_CREATED model=churn version=3 webhook=1f0c... verified

The line ends in `verified`, `NOT VERIFIED (bad signature)`, `NOT VERIFIED (no signature)`, or, with
no secret, `unsigned (signature not checked)` / `signed (signature not checked: no secret)`. Neither
the secret nor an Authorization value is ever printed or kept.

From Python::

    with Receiver(secret="s3cret") as receiver:   # port 0: a free port
        ...  # create a webhook with http_url_spec.url = receiver.url and the same secret
        receiver.deliveries[0]["verified"]         # True, False, or None (no secret)
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import urlsplit

from sqlprovider.webhooks import SIGNATURE_HEADER, verify_signature
from sqlprovider.webhooks.httpd import LocalHandler, LocalServer, is_loopback_host, read_body, stop_signals

_PAYLOAD_LIMIT = 1024 * 1024
#: (verified, signed) -> the end of the printed line.
_VERDICTS: dict[tuple[bool | None, bool], str] = {
    (True, True): "verified",
    (False, True): "NOT VERIFIED (bad signature)",
    (False, False): "NOT VERIFIED (no signature)",
    (None, True): "signed (signature not checked: no secret)",
    (None, False): "unsigned (signature not checked)",
}


class Receiver:
    """Receive deliveries on http://host:port/path in a background thread.

    `deliveries` lists one dict per POST to the path, in arrival order: `received_at` (ISO time),
    `event`, `model_name`, `version`, `webhook_id` (None when absent), `payload` (the parsed JSON, or
    None), `body` (the raw bytes), `signed` (a signature header came), `verified` (True/False, None
    without a secret) and `status_code` (the answer sent).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, secret: str | None = None, path: str = "/",
                 out: TextIO | None = None) -> None:
        if not path.startswith("/"):
            path = "/" + path
        self.host = host
        self.port = port
        self.path = path
        self.deliveries: list[dict[str, Any]] = []
        self._secret = secret or None
        self._out = out
        self._lock = threading.Lock()
        self._server: LocalServer | None = None

    @property
    def url(self) -> str:
        """The URL deliveries go to, e.g. http://127.0.0.1:8080/hooks (known once started)."""
        if self._server is None:
            raise RuntimeError("the receiver is not running: call start() first")
        return self._server.base_url + self.path

    @property
    def checks_signatures(self) -> bool:
        """True when a secret was given."""
        return self._secret is not None

    def start(self) -> Receiver:
        """Bind and serve in a daemon thread; return self. OSError when the port cannot be bound."""
        if self._server is None:
            self._server = LocalServer((self.host, self.port), _Handler, self)
            self._server.serve_in_thread(f"sqlprovider-receiver-{self.url}")
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections. Safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def receive(self, body: bytes, signature: str | None) -> int:
        """Check, keep and print one delivery; return the status code to answer. Runs in the
        connection's thread for every POST to the path."""
        verified = None if self._secret is None else verify_signature(body, self._secret, signature)
        payload = _parse(body)
        status = 401 if verified is False else 200
        delivery = {"received_at": datetime.now().astimezone().isoformat(timespec="seconds"),
                    "event": _field(payload, "event"), "model_name": _field(payload, "model_name"),
                    "version": _field(payload, "version"), "webhook_id": _field(payload, "webhook_id"),
                    "payload": payload, "body": body, "signed": bool(signature), "verified": verified,
                    "status_code": status}
        with self._lock:
            self.deliveries.append(delivery)
            if self._out is not None:
                print(describe(delivery), file=self._out, flush=True)
        return status


def describe(delivery: dict[str, Any]) -> str:
    """The one line printed for a delivery: time, event, model, version, webhook id, verdict."""
    verdict = _VERDICTS[delivery["verified"], delivery["signed"]]
    if delivery["payload"] is None:
        return f"{delivery['received_at']} (body is not a JSON object: {len(delivery['body'])} bytes) {verdict}"
    return (f"{delivery['received_at']} {_shown(delivery['event'])} model={_shown(delivery['model_name'])} "
            f"version={_shown(delivery['version'])} webhook={_shown(delivery['webhook_id'])} {verdict}")


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _field(payload: dict[str, Any] | None, name: str) -> str | None:
    value = (payload or {}).get(name)
    return None if value is None else str(value)


def _shown(value: str | None) -> str:
    """A payload value fit for one terminal line: `-` when absent, control characters escaped."""
    if value is None or value == "":
        return "-"
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)
    return text if len(text) <= 200 else text[:200] + "..."


class _Handler(LocalHandler):
    """One HTTP/1.1 connection to the receiver."""

    server_version = "sqlprovider-receiver"

    def do_POST(self) -> None:
        body = self._body()
        if urlsplit(self.path).path != self.server.app.path:
            self._send(404, b"not found")
            return
        if body is None:
            self._send(400, b"body could not be read")
            return
        status = self.server.app.receive(body, self.headers.get(SIGNATURE_HEADER))
        self._send(status, b"ok" if status == 200 else b"bad signature")

    def do_GET(self) -> None:
        self._body()
        self._send(405, b"POST webhook deliveries here", {"Allow": "POST"})

    do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _body(self) -> bytes | None:
        """Read the request's body before any answer, so that a kept-alive connection is left at the next
        request; None when it cannot be read or is over the cap (the connection is then closed)."""
        body = read_body(self, _PAYLOAD_LIMIT)
        if body is None:
            self.close_connection = True
        return body

    def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
        if self.close_connection:
            extra = {**(extra or {}), "Connection": "close"}
        self.send(status, "text/plain; charset=utf-8", body, extra)


def run(*, host: str, port: int, secret: str | None, path: str, out: TextIO | None = None,
        err: TextIO | None = None) -> int:
    """`sqlprovider receive`: print the URL, then one line per delivery until Ctrl-C or SIGTERM.
    Returns 0 after a clean stop, 2 when the port cannot be bound (one line on `err`). `out` and `err`
    default to the sys.stdout and sys.stderr of the moment."""
    out, err = out or sys.stdout, err or sys.stderr
    receiver = Receiver(host, port, secret, path, out)
    try:
        receiver.start()
    except OSError as exc:
        print(f"sqlprovider: error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=err)
        return 2
    try:
        with stop_signals() as wait_for_signal:  # before the URL is printed, so an early signal is not lost
            print(receiver.url, file=out, flush=True)
            checking = "checking signatures" if receiver.checks_signatures else "signatures not checked (no --secret)"
            print(f"sqlprovider: receiving webhook deliveries, {checking}; press Ctrl-C to stop", file=err)
            if not is_loopback_host(host) and not receiver.checks_signatures:
                print(f"sqlprovider: warning: {host} is not a loopback address and no --secret is set: "
                      "anyone who can reach this port can post deliveries", file=err)
            wait_for_signal()
    finally:
        receiver.stop()
    return 0

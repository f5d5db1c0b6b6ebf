"""The Sandbox: an in-process HTTP server speaking the registry-webhooks API, plus its handler.

It also serves the sandbox-only endpoints of `extensions` (simulated events, the delivery log).

Every request is recorded first (Authorization masked). Then, for the registry-webhooks endpoints,
the configured latency and any injected fault apply; then the bearer token is checked (for all but
the OAuth discovery and token endpoints); then the request is routed. Bad input never yields a 500:
an unexpected exception is logged (without request data) and answered INTERNAL_ERROR.

Every answer is JSON: a method HTTP does not define (BREW) is routed like a wrong verb (404
ENDPOINT_NOT_FOUND), and what the standard library refuses before routing (an unreadable request
line, a header line too long) is answered in the same `{"error_code", "message"}` shape.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlprovider.sandbox import oauth
from sqlprovider.sandbox import extensions
from sqlprovider.sandbox.api import PREFIXES, WebhooksApi
from sqlprovider.sandbox.delivery import Deliverer
from sqlprovider.sandbox.errors import ApiError, endpoint_not_found, malformed
from sqlprovider.sandbox.faults import CUT_KINDS, FaultInjector, FaultSpec, answer
from sqlprovider.sandbox.store import Store, default_data_path
from sqlprovider.sandbox.validation import parse_emit
from sqlprovider.webhooks.httpd import LocalHandler, LocalServer, is_loopback_host, read_body

log = logging.getLogger("sqlprovider.sandbox")

Handler = Callable[[list[tuple[str, str]], dict[str, Any]], dict[str, Any]]

_NO_CREDENTIAL = ApiError(401, 401, "Credential was not sent or was of an unsupported type for this API.")
_BAD_TOKEN = ApiError(403, 403, "Invalid access token.")


@dataclass(frozen=True)
class RecordedRequest:
    """One request the sandbox received, as tests inspect it (the Authorization value is masked)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: dict | list | None
    headers: dict[str, str]


def _masked(name: str, value: str) -> str:
    """`Bearer ***` for an Authorization (or Proxy-Authorization) header; other headers unchanged."""
    if name.lower() not in ("authorization", "proxy-authorization"):
        return value
    scheme, _, rest = value.partition(" ")
    return f"{scheme} ***" if rest else "***"


class Sandbox:
    """A local Databricks workspace for the registry-webhooks API, with its state in a SQLite file.

    `data_path` None means `sandbox.db` in $SQLPROVIDER_DATA_DIR or the user's data directory.
    A non-loopback `host` is refused unless `token` is given explicitly. OAuth M2M is served when
    `client_id` and `client_secret` are both given; its tokens live `token_ttl` seconds.

    `emit()` simulates a registry event; every delivery (from `test` and `emit`) is logged in the
    data file and listed by `GET /api/2.0/sandbox/deliveries/list`.

    For tests: `requests` lists every RecordedRequest in arrival order and `deliveries` every
    webhook delivery (dicts); `latency` (seconds) delays each API request; `inject()` queues faults.
    """

    def __init__(self, data_path: str | Path | None = None, host: str = "127.0.0.1", port: int = 0,
                 token: str | None = None, client_id: str | None = None, client_secret: str | None = None,
                 token_ttl: int = 3600) -> None:
        if not is_loopback_host(host) and not token:
            raise ValueError(f"refusing to listen on non-loopback address {host} without an explicit token "
                             "(give one with --token / token=...)")
        if bool(client_id) != bool(client_secret):
            raise ValueError("OAuth needs both client_id and client_secret")
        if token_ttl <= 0:
            raise ValueError("token_ttl must be positive")
        self.data_path = Path(data_path) if data_path is not None else default_data_path()
        self.host = host
        self.port = port
        self.token: str = token or "dapi" + secrets.token_hex(16)
        self.latency: float = 0.0
        self.requests: list[RecordedRequest] = []
        self.deliveries: list[dict[str, Any]] = []
        self._record_lock = threading.Lock()
        self._faults = FaultInjector()
        self._oauth = oauth.TokenIssuer(client_id, client_secret, token_ttl)
        self._server: LocalServer | None = None
        self._store: Store | None = None
        self._deliverer: Deliverer | None = None
        self._routes: dict[tuple[str, str], Handler] = {}
        self._events: extensions.SandboxApi | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Open the store, bind the port and serve in a daemon thread; return self."""
        if self._server is not None:
            return self
        store = Store(self.data_path)
        try:
            server = LocalServer((self.host, self.port), _Handler, self)
        except BaseException:
            store.close()
            raise
        self._store = store
        self._deliverer = Deliverer(lambda: self.url, self._record_delivery,
                                    lambda delivery, source: store.log_delivery(delivery.log_row(source)))
        webhooks_api = WebhooksApi(store, self._deliverer)
        self._events = extensions.SandboxApi(store, self._deliverer)
        self._routes = {(method, prefix + endpoint): handler
                        for prefix, api in (*((p, webhooks_api) for p in PREFIXES), (extensions.PREFIX, self._events))
                        for (method, endpoint), handler in api.routes.items()}
        self._server = server
        server.serve_in_thread(f"sqlprovider-sandbox-{self.url}")
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and close the store. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.stop()
        if self._deliverer is not None:
            self._deliverer.close()
        if self._store is not None:
            self._store.close()
        self._store = self._deliverer = self._events = None
        self._routes = {}

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8765 (known once started)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        return self._server.base_url

    @property
    def workspace_id(self) -> str:
        """The workspace id of the data file (stable across restarts)."""
        if self._store is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        return self._store.workspace_id

    # -- test controls -----------------------------------------------------------------------------

    def inject(self, fault: FaultSpec) -> None:
        """Make the next matching API requests answer `fault` (see FaultSpec)."""
        self._faults.inject(fault)

    def clear_faults(self) -> None:
        """Drop every fault not yet used."""
        self._faults.clear()

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        with self._record_lock:
            self.requests.clear()

    def clear_deliveries(self) -> None:
        """Forget the recorded deliveries."""
        with self._record_lock:
            self.deliveries.clear()

    def _record(self, request: RecordedRequest) -> None:
        with self._record_lock:
            self.requests.append(request)

    def _record_delivery(self, delivery: dict[str, Any]) -> None:
        with self._record_lock:
            self.deliveries.append(delivery)

    def emit(self, event: str, model_name: str, version: str = "1", from_stage: str | None = None,
             to_stage: str | None = None, comment: str | None = None) -> list[dict[str, Any]]:
        """Simulate a registry event: deliver it to every matching ACTIVE webhook, in this thread.

        A transition fires the generic and the stage-specific event. Returns one dict per delivery
        (webhook_id, event, url or job_id, status_code, duration_ms, error when no answer came), as
        `POST /api/2.0/sandbox/emit` answers. Bad input raises ValueError naming what is wrong.
        """
        if self._events is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        body = {"event": event, "model_name": model_name, "version": version, "from_stage": from_stage,
                "to_stage": to_stage, "comment": comment}
        try:
            request = parse_emit(body)
        except ApiError as exc:
            raise ValueError(exc.message) from None
        return [delivery.summary() for delivery in self._events.emit(request)]

    # -- request processing (called by the handler thread) -----------------------------------------

    def _authenticate(self, authorization: str | None) -> None:
        """Accept the sandbox token or an unexpired OAuth token; else raise the Databricks answer."""
        if not authorization:
            raise _NO_CREDENTIAL
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise _NO_CREDENTIAL
        if hmac.compare_digest(credential.encode("utf-8"), self.token.encode("utf-8")):
            return
        if self._oauth.is_valid(credential):
            return
        raise _BAD_TOKEN

    def _dispatch(self, method: str, path: str, query: list[tuple[str, str]], raw_body: bytes,
                  headers: dict[str, str], base_url: str) -> tuple:
        """Answer one request: (status, content type, body, extra headers[, cut]); `cut` ("truncated" or
        "reset", see faults.CUT_KINDS) asks for the answer to be cut off after its headers."""
        if path == "/.well-known/databricks-config" and method == "GET":
            return _json(200, oauth.databricks_config(base_url, self.workspace_id))
        if path == "/oidc/.well-known/oauth-authorization-server" and method == "GET":
            return _json(200, oauth.authorization_server(base_url))
        if path == "/oidc/v1/token" and method == "POST":
            try:
                return _json(200, self._oauth.token_endpoint(headers.get("authorization"), raw_body))
            except ApiError as exc:
                return _json(exc.status, exc.body(), exc.headers)

        endpoint = next((path[len(prefix):] for prefix in PREFIXES if path.startswith(prefix)), None)
        if endpoint is not None:
            if self.latency > 0:
                time.sleep(self.latency)
            fault = self._faults.take(endpoint)
            if fault is not None and fault.kind in CUT_KINDS:  # processed, then its answer cut off
                return (*self._route(method, path, query, raw_body, headers), fault.kind)
            if fault is not None:
                reply = answer(fault)
                return reply.status, reply.content_type, reply.body, reply.headers
        return self._route(method, path, query, raw_body, headers)

    def _route(self, method: str, path: str, query: list[tuple[str, str]], raw_body: bytes,
               headers: dict[str, str]) -> tuple[int, str, bytes, dict[str, str]]:
        """Authenticate and answer a request of the API proper."""
        try:
            self._authenticate(headers.get("authorization"))
            handler = self._routes.get((method, path))
            if handler is None:
                raise endpoint_not_found(method, path)
            return _json(200, handler(query, _parse_body(raw_body)))
        except ApiError as exc:
            return _json(exc.status, exc.body(), exc.headers)


_UNPARSEABLE = "Invalid JSON given in the body of the request - failed to parse given JSON."
_LONE_SURROGATE = ("Invalid JSON given in the body of the request - a string contains an unpaired surrogate escape "
                   "(\\uD800-\\uDFFF), which is not valid Unicode.")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _load_json(raw: bytes) -> Any:
    """The JSON value of a request body; ValueError (with the answer's message) if it is not one.

    The one place request bodies are decoded, so every endpoint refuses the same things: bytes that
    are not UTF-8/16/32 JSON, nesting too deep for the parser (RecursionError), and strings (keys
    included) holding an unpaired surrogate escape such as "\\ud800", which no UTF encoding, SQLite
    or an HTTP request can carry.
    """
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ValueError(_UNPARSEABLE) from None
    if _has_lone_surrogate(value):
        raise ValueError(_LONE_SURROGATE)
    return value


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a string anywhere in the parsed JSON value holds a surrogate code point (json pairs valid ones)."""
    pending = [value]
    while pending:  # a loop, not recursion: the value may be nested nearly as deep as the parser allows
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body; an empty body is {}."""
    if not raw.strip():
        return {}
    try:
        value = _load_json(raw)
    except ValueError as exc:
        raise malformed(str(exc)) from None
    if not isinstance(value, dict):
        raise malformed("Invalid JSON given in the body of the request - expected a JSON object.")
    return value


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> tuple[int, str, bytes, dict[str, str]]:
    return status, "application/json", json.dumps(body, separators=(",", ":")).encode("utf-8"), headers or {}


class _Handler(LocalHandler):
    """One HTTP/1.1 connection to the sandbox."""

    server_version = "sqlprovider-sandbox"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def __getattr__(self, name: str) -> Any:
        """`do_BREW` and any other method HTTP does not define: routed like the known ones, so a wrong
        verb is the JSON 404 ENDPOINT_NOT_FOUND (after the credential check), not the standard library's
        HTML 501 page."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer the standard library's own errors (an unreadable request line, a header line too long,
        too many headers, an unsupported HTTP version) in Databricks' JSON shape rather than an HTML
        page, and close the connection: what follows on it cannot be trusted."""
        self.log_error("code %d, message %s", code, message)
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # the version was not read: answer with a status line anyway
            self.request_version = self.protocol_version
        error_code = "MALFORMED_REQUEST" if code < 500 else "NOT_IMPLEMENTED"
        status, content_type, body, _ = _json(code, {"error_code": error_code,
                                                     "message": message or "The request could not be read."})
        self._send(status, content_type, body, {"Connection": "close"})

    def _handle(self) -> None:
        app = self.server.app
        method = self.command
        split = urlsplit(self.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        raw_body = read_body(self)
        headers = {name: _masked(name, value) for name, value in self.headers.items()}
        recorded_body: dict | list | None = None
        if raw_body:
            try:
                parsed = _load_json(raw_body)
                recorded_body = parsed if isinstance(parsed, (dict, list)) else None
            except ValueError:
                pass
        app._record(RecordedRequest(method, split.path, tuple(query), recorded_body, headers))

        if raw_body is None:
            self.close_connection = True
            self._send(*_json(400, malformed("The request body could not be read.").body()))
            return
        lowered = {name.lower(): value for name, value in self.headers.items()}
        host = self.headers.get("Host") or app.url.split("//", 1)[1]
        try:
            reply = app._dispatch(method, unquote(split.path), query, raw_body, lowered, f"http://{host}")
        except Exception:
            log.exception("sandbox: unexpected error answering %s %s", method, split.path)
            reply = _json(500, {"error_code": "INTERNAL_ERROR", "message": "Unexpected error in the sandbox."})
        self._send(*reply)

    def _send(self, status: int, content_type: str, body: bytes, extra: dict[str, str], cut: str | None = None) -> None:
        if content_type == "application/json":
            content_type = "application/json; charset=utf-8"
        app = self.server.app
        org = {"x-databricks-org-id": app._store.workspace_id} if app._store is not None else {}
        if cut is None:
            self.send(status, content_type, body, {**extra, **org})
        else:
            self.send_cut(status, content_type, body, {**extra, **org}, reset=cut == "reset")

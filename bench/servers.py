"""A minimal, fast registry-webhooks API server for the benchmarks.

It answers only what the benchmarks need (`list`, `create`, `update`, `delete` under
/api/2.0/mlflow/registry-webhooks/, plus the SDK's /.well-known/databricks-config probe) from memory,
so what a benchmark measures is the client's own cost, not the server's:

- unfiltered list pages are JSON bytes computed once and cached per (page size, offset);
  `GeneratedWebhooks` makes a large read-only data set without holding its dicts in memory;
- `latency` seconds are slept before each API request (in the handler thread, so concurrent
  requests overlap as they would against a real workspace);
- `counts` is the server's own request counter (per endpoint), the ground truth for the
  request-economy benchmark.

Stdlib only, loopback only; `stop()` also drops kept-alive connections.
"""

from __future__ import annotations

import collections
import json
import socket
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

PREFIX = "/api/2.0/mlflow/registry-webhooks/"
DEFAULT_PAGE = 100  # the page size when max_results is not given (as the sandbox)
MAX_PAGE = 1000

EVENTS = (
    "MODEL_VERSION_CREATED", "MODEL_VERSION_TRANSITIONED_STAGE", "TRANSITION_REQUEST_CREATED", "COMMENT_CREATED",
    "REGISTERED_MODEL_CREATED", "MODEL_VERSION_TAG_SET", "MODEL_VERSION_TRANSITIONED_TO_STAGING",
    "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION", "MODEL_VERSION_TRANSITIONED_TO_ARCHIVED",
    "TRANSITION_REQUEST_TO_STAGING_CREATED", "TRANSITION_REQUEST_TO_PRODUCTION_CREATED",
    "TRANSITION_REQUEST_TO_ARCHIVED_CREATED",
)
MODELS = 50  # webhook i belongs to model-(i % MODELS); every 10th is registry-wide


def webhook(i: int) -> dict[str, Any]:
    """The i-th webhook of a generated data set: deterministic and realistic in size (~330 bytes of JSON)."""
    events = [EVENTS[i % len(EVENTS)]]
    if i % 3 == 0:
        events.append(EVENTS[(i + 5) % len(EVENTS)])
    item: dict[str, Any] = {"id": f"{i:032x}"}
    if i % 10:
        item["model_name"] = f"model-{i % MODELS}"
        events = [e for e in events if e != "REGISTERED_MODEL_CREATED"] or ["MODEL_VERSION_CREATED"]
    item["creation_timestamp"] = 1_700_000_000_000 + i
    item["description"] = f"benchmark webhook {i}"
    item["events"] = events
    if i % 7:
        item["http_url_spec"] = {"url": f"https://hooks.example.com/registry/{i}", "enable_ssl_verification": True}
    else:
        item["job_spec"] = {"job_id": str(100_000 + i), "workspace_url": "https://example.cloud.databricks.com"}
    item["last_updated_timestamp"] = 1_700_000_000_000 + i
    item["status"] = "ACTIVE"
    return item


class GeneratedWebhooks(Sequence):
    """`count` webhooks made on demand by `webhook(i)`: a large data set that costs no memory."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [webhook(i) for i in range(*index.indices(self.count))]
        if not -self.count <= index < self.count:
            raise IndexError(index)
        return webhook(index % self.count)


class Registry:
    """The state of one workspace's registry webhooks, and the API over it."""

    def __init__(self, items: Sequence[dict[str, Any]] = (), latency: float = 0.0, token: str = "x",
                 fail_description: str = "bench-fail") -> None:
        self.items: Sequence[dict[str, Any]] = items if isinstance(items, GeneratedWebhooks) else list(items)
        self.latency = latency
        self.token = token
        self.fail_description = fail_description  # a create with this description answers 400
        self.counts: collections.Counter[str] = collections.Counter()
        self._pages: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()
        self._next_id = 10**9

    @property
    def total(self) -> int:
        """API requests answered since the last reset()."""
        return sum(self.counts.values())

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()

    def warm(self, page_size: int = MAX_PAGE) -> None:
        """Compute every unfiltered page of this size now, so serving them later is a lookup."""
        for offset in range(0, max(len(self.items), 1), page_size):
            self._page(page_size, offset)

    # --- endpoints -------------------------------------------------------------------------------
    def list(self, query: list[tuple[str, str]]) -> bytes:
        args = dict(query)
        size = min(int(args.get("max_results") or DEFAULT_PAGE), MAX_PAGE)
        offset = int(args.get("page_token") or 0)
        events = {v for k, v in query if k == "events"}
        model = args.get("model_name")
        if not events and not model:
            return self._page(size, offset)
        with self._lock:
            matching = [w for w in self.items if (not model or w.get("model_name") == model)
                        and (not events or events.intersection(w["events"]))]
        return _page_bytes(matching[offset:offset + size], offset + size, len(matching))

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if body.get("description") == self.fail_description:
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "benchmark: this row is refused"}
        now = int(time.time() * 1000)
        with self._lock:
            self._writable()
            self._next_id += 1
            item = {"id": f"{self._next_id:032x}", **{k: v for k, v in body.items() if k != "id"},
                    "creation_timestamp": now, "last_updated_timestamp": now}
            item.setdefault("status", "ACTIVE")
            if isinstance(item.get("http_url_spec"), dict):
                item["http_url_spec"] = {k: v for k, v in item["http_url_spec"].items()
                                         if k not in ("secret", "authorization")}
            self.items.append(item)
            self._pages.clear()
        return 200, {"webhook": item}

    def update(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self._writable()
            item = next((w for w in self.items if w["id"] == body.get("id")), None)
            if item is None:
                return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such webhook"}
            item.update({k: v for k, v in body.items() if k != "id"})
            item["last_updated_timestamp"] = int(time.time() * 1000)
            self._pages.clear()
            return 200, {"webhook": dict(item)}

    def delete(self, query: list[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
        key = dict(query).get("id")
        with self._lock:
            self._writable()
            before = len(self.items)
            self.items[:] = [w for w in self.items if w["id"] != key]
            if len(self.items) == before:
                return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "no such webhook"}
            self._pages.clear()
        return 200, {}

    # --- helpers ---------------------------------------------------------------------------------
    def _writable(self) -> None:
        if isinstance(self.items, GeneratedWebhooks):
            self.items = [webhook(i) for i in range(len(self.items))]

    def _page(self, size: int, offset: int) -> bytes:
        key = (size, offset)
        page = self._pages.get(key)
        if page is None:
            with self._lock:
                items = self.items[offset:offset + size]
                total = len(self.items)
            page = _page_bytes(items, offset + size, total)
            self._pages[key] = page
        return page


def _page_bytes(items: list[dict[str, Any]], next_offset: int, total: int) -> bytes:
    answer: dict[str, Any] = {"webhooks": items} if items else {}
    if next_offset < total:
        answer["next_page_token"] = str(next_offset)
    return json.dumps(answer, separators=(",", ":")).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real workspace
    disable_nagle_algorithm = True  # headers and body are two writes: without this, delayed ACKs add ~40 ms
    timeout = 30  # an idle kept-alive connection ends after this many seconds
    server: RegistryServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        registry = self.server.registry
        if url.path == "/.well-known/databricks-config":  # the SDK's config discovery probe
            host, port = self.server.server_address[:2]
            return self._reply(200, {"oidc_endpoint": f"http://{host}:{port}/oidc", "workspace_id": "1"})
        if not url.path.startswith(PREFIX):
            return self._reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"no API at {url.path}"})
        endpoint = url.path[len(PREFIX):]
        with registry._lock:
            registry.counts[endpoint] += 1
        if registry.latency > 0:
            time.sleep(registry.latency)
        if self.headers.get("Authorization") != f"Bearer {registry.token}":
            return self._reply(403, {"error_code": "403", "message": "Invalid access token."})
        query = parse_qsl(url.query, keep_blank_values=True)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return self._reply(400, {"error_code": "MALFORMED_REQUEST", "message": "body is not JSON"})
        if (method, endpoint) == ("GET", "list"):
            return self._send(200, registry.list(query))
        if (method, endpoint) == ("POST", "create"):
            return self._reply(*registry.create(body))
        if (method, endpoint) == ("PATCH", "update"):
            return self._reply(*registry.update(body))
        if (method, endpoint) == ("DELETE", "delete"):
            return self._reply(*registry.delete(query))
        return self._reply(404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"no {method} {endpoint}"})

    def _reply(self, status: int, obj: dict[str, Any]) -> None:
        self._send(status, json.dumps(obj, separators=(",", ":")).encode())

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RegistryServer(ThreadingHTTPServer):
    """Serves one Registry on 127.0.0.1 (port 0: a free one) in a daemon thread."""

    daemon_threads = True

    def __init__(self, registry: Registry, port: int = 0) -> None:
        self.registry = registry
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None
        super().__init__(("127.0.0.1", port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def process_request(self, request, client_address) -> None:  # noqa: ANN001 - stdlib signature
        self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # noqa: ANN001 - stdlib signature
        self._connections.discard(request)
        super().shutdown_request(request)

    def start(self) -> RegistryServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"bench-server-{self.url}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and every open connection."""
        if self._thread is None:
            return
        self.shutdown()
        self.server_close()
        for connection in list(self._connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

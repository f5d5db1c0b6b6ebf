"""Shared fixtures: an isolated data directory for every test, started sandboxes, and workspaces
reached through a Databricks config file as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

import sqlprovider
from sqlprovider.sandbox import Sandbox


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point SQLPROVIDER_DATA_DIR at a fresh directory so no test touches the home directory."""
    data_dir = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("SQLPROVIDER_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port nobody listens on: bound to find a free one, then released."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    """A started sandbox on a free loopback port with its own data file; stopped afterwards."""
    with Sandbox(data_path=tmp_path / "sb.db") as sb:
        yield sb


# --- workspaces served by sandboxes, reached through a Databricks config file ----------------------------


class Api:
    """Direct HTTP access to a sandbox, for test set-up and for reading what the engine asked."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.base = sandbox.url + "/api/2.0/mlflow/registry-webhooks/"
        self.headers = {"Authorization": f"Bearer {sandbox.token}"}

    def create(self, events=("MODEL_VERSION_CREATED",), url="https://example.com/hook", **fields) -> dict:
        body = {"events": list(events), "http_url_spec": {"url": url}, **fields}
        answer = requests.post(self.base + "create", json=body, headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["webhook"]

    def list(self, **query) -> list[dict]:
        items, token = [], None
        while True:
            params = {**query, "max_results": 1000, **({"page_token": token} if token else {})}
            answer = requests.get(self.base + "list", params=params, headers=self.headers, timeout=10).json()
            items += answer.get("webhooks", [])
            token = answer.get("next_page_token")
            if not token:
                return items

    def calls(self) -> list[tuple]:
        """(verb, endpoint, query pairs, body) of every registry-webhooks request since the last reset."""
        return [(r.method, r.path.rsplit("/", 1)[-1], r.query, r.body) for r in self.sandbox.requests
                if "/registry-webhooks/" in r.path]

    def reset(self) -> None:
        self.sandbox.clear_requests()


def _profile_file(tmp_path, profiles: dict) -> str:
    path = tmp_path / "databrickscfg"
    path.write_text("".join(f"[{name}]\nhost = {sb.url}\ntoken = {sb.token}\n\n" for name, sb in profiles.items()))
    return str(path)


@pytest.fixture
def ws1(sandbox, tmp_path, monkeypatch):
    """The `sandbox` fixture's server, reachable as deployment_name = 'ws1'."""
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", _profile_file(tmp_path, {"ws1": sandbox}))
    return Api(sandbox)


@pytest.fixture
def two_workspaces(tmp_path, monkeypatch):
    """Two sandboxes, deployment names 'ws1' and 'ws2'."""
    with Sandbox(data_path=tmp_path / "a.db") as a, Sandbox(data_path=tmp_path / "b.db") as b:
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", _profile_file(tmp_path, {"ws1": a, "ws2": b}))
        yield Api(a), Api(b)


class VirtualTime:
    """The client's retry clock and pause, replaced: a pause returns at once and moves the clock on."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.pauses: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.pauses.append(seconds)
            self.offset += max(0.0, seconds)


@pytest.fixture
def virtual_time(monkeypatch) -> VirtualTime:
    """No real waiting in the client's retries and backpressure: `pauses` lists the waits it asked for."""
    from sqlprovider.workspace import client

    clock = VirtualTime()
    monkeypatch.setattr(client, "monotonic", clock.monotonic)
    monkeypatch.setattr(client, "sleep", clock.sleep)
    monkeypatch.delenv("SQLPROVIDER_RETRY_TIMEOUT", raising=False)
    return clock


@pytest.fixture
def conn():
    with sqlprovider.connect() as connection:
        yield connection


@pytest.fixture
def receiver():
    """A webhook receiver on loopback answering 200 "received"; yields (url, list of JSON bodies got)."""
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body = b"received"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", got
    server.shutdown()
    server.server_close()


class JsonServer:
    """A loopback HTTP server recording every request (method, path, headers, body); `answer(method, path)`
    decides the reply: (status, extra headers, JSON body)."""

    def __init__(self, answer) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        recorded = self.requests

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorded.append((self.command, self.path, dict(self.headers), body))
                status, headers, payload = answer(self.command, self.path)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json",
                                    "Content-Length": str(len(data))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def paths(self) -> list[str]:
        """The path (without query) of each request, in order."""
        return [path.split("?")[0] for _, path, _, _ in self.requests]


@pytest.fixture
def prod(tmp_path, monkeypatch):
    """Deployment 'prod' (token 'dapi-prod'): a loopback workspace that is not a sandbox, holding one webhook;
    like Databricks it answers 404 ENDPOINT_NOT_FOUND to any other path."""
    hooks = [{"id": "a" * 32, "events": ["MODEL_VERSION_CREATED"], "status": "ACTIVE",
              "http_url_spec": {"url": "https://example.com/hook"}}]

    def answer(method: str, path: str) -> tuple[int, dict, dict]:
        path = path.split("?")[0]
        if method == "GET" and path == "/api/2.0/mlflow/registry-webhooks/list":
            return 200, {}, {"webhooks": hooks}
        return 404, {}, {"error_code": "ENDPOINT_NOT_FOUND",  # as Databricks answers an unknown path
                         "message": f"No API found for '{method} {path.removeprefix('/api/2.0')}'"}

    workspace = JsonServer(answer)
    path = tmp_path / "databrickscfg-prod"
    path.write_text(f"[prod]\nhost = {workspace.url}\ntoken = dapi-prod\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(path))
    yield workspace
    workspace.close()


@pytest.fixture
def sandbox_deployment():
    """deployment_name = 'sandbox' (the embedded sandbox), started afresh in this test's data directory; yields an
    Api on it, its request log included. Stopped afterwards."""
    from sqlprovider.workspace import deployments

    deployments.stop_embedded_sandbox()
    yield Api(deployments.embedded_sandbox())
    deployments.stop_embedded_sandbox()

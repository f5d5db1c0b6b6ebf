"""Shared fixtures: an isolated data directory for every test, started sandboxes, and workspaces
reached through a Databricks config file as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import json
import socket
import threading
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


class PlainWorkspace:
    """A loopback workspace that is not a sandbox: it lists registry webhooks and, like Databricks, answers
    404 ENDPOINT_NOT_FOUND to anything else. Records the paths it is asked for."""

    def __init__(self, hooks: list[dict]) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.answer()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.answer()

            def answer(self) -> None:
                path = self.path.split("?")[0]
                paths.append(path)
                if self.command == "GET" and path == "/api/2.0/mlflow/registry-webhooks/list":
                    status, body = 200, {"webhooks": hooks}
                else:
                    status, body = 404, {"error_code": "ENDPOINT_NOT_FOUND",
                                         "message": f"No API found for '{self.command} {path.removeprefix('/api/2.0')}'"}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prod(tmp_path, monkeypatch):
    """Deployment 'prod' (token 'dapi-prod'): a non-sandbox loopback workspace holding one webhook."""
    workspace = PlainWorkspace([{"id": "a" * 32, "events": ["MODEL_VERSION_CREATED"], "status": "ACTIVE",
                                 "http_url_spec": {"url": "https://example.com/hook"}}])
    path = tmp_path / "databrickscfg-prod"
    path.write_text(f"[prod]\nhost = {workspace.url}\ntoken = dapi-prod\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(path))
    yield workspace
    workspace.close()

"""Fault injection, latency, and the `sqlprovider sandbox serve` command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from sqlprovider.sandbox import FaultSpec, Sandbox

API = "/api/2.0/mlflow/registry-webhooks/"
REPO = Path(__file__).resolve().parent.parent


def get_list(sb: Sandbox, token: str | None = None) -> requests.Response:
    return requests.get(sb.url + API + "list", headers={"Authorization": f"Bearer {token or sb.token}"}, timeout=10)


def post_create(sb: Sandbox) -> requests.Response:
    return requests.post(sb.url + API + "create", headers={"Authorization": f"Bearer {sb.token}"}, timeout=10,
                         json={"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "https://h.example"}})


@pytest.mark.parametrize("spec, status, content_type, body, retry_after", [
    (FaultSpec("429"), 429, "application/json",
     b'{"error_code": "REQUEST_LIMIT_EXCEEDED", '
     b'"message": "The request rate limit was exceeded (injected by the sandbox)."}',
     "1"),
    (FaultSpec("503", retry_after=7), 503, "application/json",
     b'{"error_code": "TEMPORARILY_UNAVAILABLE", '
     b'"message": "The service is temporarily unavailable (injected by the sandbox)."}',
     "7"),
    (FaultSpec("500"), 500, "application/json",
     b'{"error_code": "INTERNAL_ERROR", "message": "Internal error (injected by the sandbox)."}', None),
    (FaultSpec("html502"), 502, "text/html",
     b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
     b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n", None),
])
def test_each_fault_kind(sandbox, spec, status, content_type, body, retry_after):
    sandbox.inject(spec)
    response = get_list(sandbox)
    assert (response.status_code, response.headers["Content-Type"].split(";")[0], response.content) == (
        status, content_type, body)
    assert response.headers.get("Retry-After") == retry_after
    assert get_list(sandbox).status_code == 200  # count=1: used up


def _raw_create(sb: Sandbox) -> bytes:
    """A create sent on a raw socket; every byte of the answer until the server closes (or resets) it."""
    body = b'{"events": ["COMMENT_CREATED"], "http_url_spec": {"url": "https://h.example"}}'
    host, port = sb.url.split("//")[1].split(":")
    got = b""
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"POST " + API.encode() + b"create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                  + sb.token.encode() + b"\r\nContent-Type: application/json\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            while chunk := s.recv(65536):
                got += chunk
        except ConnectionResetError:
            got += b"<RST>"
    return got


@pytest.mark.parametrize("kind", ["truncated", "reset"])
def test_a_cut_fault_processes_the_request_then_sends_half_the_body(sandbox, kind):
    sandbox.inject(FaultSpec(kind, endpoint="create"))
    raw = _raw_create(sandbox)
    head, _, rest = raw.partition(b"\r\n\r\n")
    length = int(next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
                 .split(b":")[1])
    assert head.startswith(b"HTTP/1.1 200 ")
    if kind == "reset":
        assert rest.endswith(b"<RST>")
        rest = rest[:-5]
    assert len(rest) == length // 2 and rest == b'{"webhook":{"id":"' + rest[18:]
    created = get_list(sandbox).json()["webhooks"]  # the create landed
    assert len(created) == 1 and rest[18:].startswith(created[0]["id"][:len(rest) - 18].encode())


def test_count_and_first_in_first_out(sandbox):
    sandbox.inject(FaultSpec("503", count=2, retry_after=0))
    sandbox.inject(FaultSpec("500"))
    assert [get_list(sandbox).status_code for _ in range(5)] == [503, 503, 500, 200, 200]


def test_endpoint_filter(sandbox):
    sandbox.inject(FaultSpec("429", count=2, endpoint="create"))
    assert get_list(sandbox).status_code == 200
    assert post_create(sandbox).status_code == 429
    assert get_list(sandbox).status_code == 200
    assert post_create(sandbox).status_code == 429
    assert post_create(sandbox).status_code == 200


def test_faulted_requests_are_recorded_and_do_not_reach_the_store(sandbox):
    sandbox.inject(FaultSpec("500", endpoint="create"))
    assert post_create(sandbox).status_code == 500
    assert get_list(sandbox).json() == {}
    assert [(r.method, r.path) for r in sandbox.requests] == [("POST", API + "create"), ("GET", API + "list")]
    assert sandbox.requests[0].body["events"] == ["COMMENT_CREATED"]


def test_faults_apply_only_to_the_webhooks_api(sandbox):
    sandbox.inject(FaultSpec("503"))
    assert requests.get(sandbox.url + "/.well-known/databricks-config", timeout=10).status_code == 200
    assert get_list(sandbox).status_code == 503


def test_clear_faults(sandbox):
    sandbox.inject(FaultSpec("500", count=3))
    sandbox.clear_faults()
    assert get_list(sandbox).status_code == 200


def test_latency_delays_api_requests_only(sandbox):
    sandbox.latency = 0.3
    started = time.monotonic()
    assert get_list(sandbox).status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    requests.get(sandbox.url + "/.well-known/databricks-config", timeout=10)
    assert time.monotonic() - started < 0.25
    sandbox.latency = 0.0
    started = time.monotonic()
    get_list(sandbox)
    assert time.monotonic() - started < 0.25


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "404"}, "unknown fault kind '404': use one of 429, 503, 500, html502, truncated, reset"),
    ({"kind": "429", "count": 0}, "fault count must be a positive integer, not 0"),
    ({"kind": "429", "endpoint": "get"}, "unknown endpoint 'get': use one of list, create, update, delete, test"),
    ({"kind": "429", "retry_after": -1}, "retry_after must be a non-negative integer, not -1"),
])
def test_fault_spec_validation(kwargs, message):
    with pytest.raises(ValueError) as info:
        FaultSpec(**kwargs)
    assert str(info.value) == message


# -- the CLI ---------------------------------------------------------------------------------------

def cli(*args: str, data_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "SQLPROVIDER_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "sqlprovider", "sandbox", "serve", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_cli_serves_until_sigint_and_exits_cleanly(tmp_path):
    data = tmp_path / "cli.db"
    process = cli("--port", "0", "--data", str(data), "--latency", "0.05", "--fault", "429:2:list",
                  data_dir=tmp_path)
    try:
        url = process.stdout.readline().strip()
        token_line = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and token_line.startswith("token: dapi")
        assert process.stdout.readline().strip() == f"data: {data}"
        token = token_line.removeprefix("token: ")
        headers = {"Authorization": f"Bearer {token}"}
        assert [requests.get(url + API + "list", headers=headers, timeout=10).status_code for _ in range(3)] == [
            429, 429, 200]
        created = requests.post(url + API + "create", headers=headers, timeout=10, json={
            "events": ["COMMENT_CREATED"], "http_url_spec": {"url": "https://h.example"}})
        assert created.status_code == 200

        # another process serving the same file sees the CLI server's write
        with Sandbox(data_path=data) as sb:
            assert [h["id"] for h in get_list(sb).json()["webhooks"]] == [created.json()["webhook"]["id"]]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "Traceback" not in err and token not in err and token not in out


def test_cli_sigterm_also_stops_cleanly(tmp_path):
    process = cli("--port", "0", "--token", "given-token", data_dir=tmp_path)
    try:
        url = process.stdout.readline().strip()
        assert process.stdout.readline().strip() == "token: (the one given with --token)"
        answer = requests.get(url + API + "list", headers={"Authorization": "Bearer given-token"}, timeout=10)
        assert answer.json() == {}
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in err
    assert (tmp_path / "sandbox.db").exists()  # the default data file, under SQLPROVIDER_DATA_DIR


def test_cli_refuses_a_non_loopback_host_without_a_token(tmp_path):
    process = cli("--host", "0.0.0.0", "--port", "0", data_dir=tmp_path)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 2 and out == ""
    assert err == ("sqlprovider: error: refusing to listen on non-loopback address 0.0.0.0 without an explicit "
                   "token (give one with --token / token=...)\n")


def test_cli_reports_a_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process = cli("--port", str(port), data_dir=tmp_path)
        out, err = process.communicate(timeout=10)
    assert process.returncode == 2 and out == ""
    assert err == f"sqlprovider: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_cli_needs_both_oauth_credentials(tmp_path):
    process = cli("--port", "0", "--client-id", "only-the-id", data_dir=tmp_path)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 2
    assert err == "sqlprovider: error: OAuth needs both client_id and client_secret\n"


def test_cli_rejects_a_bad_fault_spec(tmp_path):
    process = cli("--port", "0", "--fault", "418", data_dir=tmp_path)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 2
    assert err.splitlines()[-1] == ("sqlprovider sandbox serve: error: argument --fault: unknown fault kind '418': "
                                    "use one of 429, 503, 500, html502, truncated, reset")

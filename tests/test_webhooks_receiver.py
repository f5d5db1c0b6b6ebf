"""The local receiver: the sandbox's deliveries verified and printed, wrong secrets refused with 401,
and `sqlprovider receive` as a process (URL first, a line per delivery, clean Ctrl-C, no secrets)."""

from __future__ import annotations

import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from sqlprovider.webhooks.receiver import Receiver
from sqlprovider.webhooks.httpd import stop_signals
from sqlprovider.sandbox import Sandbox

API = "/api/2.0/mlflow/registry-webhooks/"
SECRET = "whsec-receiver-31337"
AUTHORIZATION = "Bearer receiver-auth-value-55"
REPO = Path(__file__).resolve().parents[1]
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"


def create(sb: Sandbox, url: str, secret: str | None = SECRET, **fields) -> str:
    spec = {"url": url, **({"secret": secret} if secret else {}), "authorization": AUTHORIZATION}
    answer = requests.post(sb.url + API + "create", timeout=10, headers={"Authorization": f"Bearer {sb.token}"},
                           json={"events": ["MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"], "http_url_spec": spec,
                                 **fields})
    assert answer.status_code == 200, answer.text
    return answer.json()["webhook"]["id"]


def run_test(sb: Sandbox, webhook_id: str) -> dict:
    answer = requests.post(sb.url + API + "test", json={"id": webhook_id}, timeout=30,
                           headers={"Authorization": f"Bearer {sb.token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_sandbox_delivery_is_verified_and_printed(sandbox):
    out = io.StringIO()
    with Receiver(secret=SECRET, path="/hooks/registry", out=out) as receiver:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/hooks/registry", receiver.url)
        hook = create(sandbox, receiver.url, model_name="churn")
        assert run_test(sandbox, hook) == {"status_code": 200, "body": "ok"}
    [got] = receiver.deliveries
    assert (got["verified"], got["signed"], got["status_code"]) == (True, True, 200)
    assert got["payload"] == {
        "event": "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION", "webhook_id": hook,
        "event_timestamp": got["payload"]["event_timestamp"], "model_name": "churn", "version": "1",
        "to_stage": "Production", "from_stage": "Staging",
        "text": "Registered model 'churn' version 1 transitioned from Staging to Production."}
    assert (got["event"], got["model_name"], got["version"], got["webhook_id"]) == (
        "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION", "churn", "1", hook)
    assert re.fullmatch(f"{TIME} MODEL_VERSION_TRANSITIONED_TO_PRODUCTION model=churn version=1 "
                        f"webhook={hook} verified\n", out.getvalue())


def test_a_wrong_secret_is_refused_with_401(sandbox):
    out = io.StringIO()
    with Receiver(secret=SECRET, out=out) as receiver:
        wrong = create(sandbox, receiver.url, secret="not-the-secret")
        unsigned = create(sandbox, receiver.url, secret=None)
        assert run_test(sandbox, wrong) == {"status_code": 401, "body": "bad signature"}
        assert run_test(sandbox, unsigned) == {"status_code": 401, "body": "bad signature"}
    assert [(d["verified"], d["status_code"]) for d in receiver.deliveries] == [(False, 401), (False, 401)]
    first, second = out.getvalue().splitlines()
    assert first.endswith(f"webhook={wrong} NOT VERIFIED (bad signature)")
    assert second.endswith(f"webhook={unsigned} NOT VERIFIED (no signature)")
    assert SECRET not in out.getvalue() and AUTHORIZATION not in out.getvalue()


def test_without_a_secret_signatures_are_not_checked(sandbox):
    out = io.StringIO()
    with Receiver(out=out) as receiver:
        assert receiver.url.endswith("/")
        signed = create(sandbox, receiver.url)
        unsigned = create(sandbox, receiver.url, secret=None)
        assert run_test(sandbox, signed) == {"status_code": 200, "body": "ok"}
        assert run_test(sandbox, unsigned) == {"status_code": 200, "body": "ok"}
        sandbox.emit("MODEL_VERSION_TRANSITIONED_TO_PRODUCTION", "a\nmodel", "6")
    assert [d["verified"] for d in receiver.deliveries] == [None, None, None, None]
    lines = out.getvalue().splitlines()
    assert lines[0].endswith(f"webhook={signed} signed (signature not checked: no secret)")
    assert lines[1].endswith(f"webhook={unsigned} unsigned (signature not checked)")
    # a payload value cannot break the one-line format
    assert len(lines) == 4 and "model=a\\nmodel version=6" in lines[2]


def test_other_paths_and_methods_are_not_deliveries():
    with Receiver(path="hooks") as receiver:
        assert receiver.url.endswith("/hooks")
        base = receiver.url.removesuffix("/hooks")
        assert requests.post(base + "/elsewhere", data=b"{}", timeout=10).status_code == 404
        answer = requests.get(receiver.url, timeout=10)
        assert (answer.status_code, answer.headers["Allow"]) == (405, "POST")
        answer = requests.post(receiver.url + "?trace=1", data=b"not json", timeout=10)
        assert (answer.status_code, answer.text) == (200, "ok")
    [got] = receiver.deliveries
    assert (got["payload"], got["event"], got["body"]) == (None, None, b"not json")


def test_receiver_lifecycle():
    receiver = Receiver()
    with pytest.raises(RuntimeError, match="not running"):
        receiver.url
    receiver.start()
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    assert port > 0
    receiver.stop()
    receiver.stop()
    with pytest.raises(requests.ConnectionError):
        requests.post(f"http://127.0.0.1:{port}/", data=b"{}", timeout=2)


# -- `sqlprovider receive` -------------------------------------------------------------------------

def receive(*args: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.Popen([sys.executable, "-m", "sqlprovider", "receive", "--port", "0", *args], cwd=REPO,
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen, sig: signal.Signals) -> tuple[str, str]:
    """Send `sig` and collect the output; a process still running 10 s later is killed and fails the test."""
    process.send_signal(sig)
    try:
        return process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"sqlprovider receive did not stop within 10 s of {sig.name}; stdout={out!r} stderr={err!r}")


def test_cli_prints_the_url_then_a_line_per_delivery_and_stops_on_sigint(sandbox):
    process = receive("--secret", SECRET, "--path", "/hooks")
    try:
        url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/hooks", url)
        good = create(sandbox, url, model_name="churn")
        bad = create(sandbox, url, secret="wrong-secret", model_name="churn")
        assert run_test(sandbox, good) == {"status_code": 200, "body": "ok"}
        assert re.fullmatch(f"{TIME} MODEL_VERSION_TRANSITIONED_TO_PRODUCTION model=churn version=1 "
                            f"webhook={good} verified\n", process.stdout.readline())
        assert run_test(sandbox, bad) == {"status_code": 401, "body": "bad signature"}
        assert process.stdout.readline().endswith(f"webhook={bad} NOT VERIFIED (bad signature)\n")
    finally:
        out, err = stop(process, signal.SIGINT)
    assert process.returncode == 0
    assert out == ""  # nothing after the delivery lines
    assert err == "sqlprovider: receiving webhook deliveries, checking signatures; press Ctrl-C to stop\n"
    for secret in (SECRET, "wrong-secret", AUTHORIZATION, "receiver-auth-value-55"):
        assert secret not in err


def test_cli_secret_from_the_environment_and_sigterm(sandbox):
    process = receive(SQLPROVIDER_WEBHOOK_SECRET=SECRET)
    try:
        url = process.stdout.readline().strip()
        assert run_test(sandbox, create(sandbox, url))["status_code"] == 200
        assert process.stdout.readline().endswith(" verified\n")
    finally:
        out, err = stop(process, signal.SIGTERM)
    assert process.returncode == 0 and "Traceback" not in err and SECRET not in out + err


def test_cli_without_a_secret_says_signatures_are_not_checked():
    process = receive()
    try:
        url = process.stdout.readline().strip()
        assert requests.post(url, json={"event": "MODEL_VERSION_CREATED"}, timeout=10).text == "ok"
        assert process.stdout.readline().endswith(
            " MODEL_VERSION_CREATED model=- version=- webhook=- unsigned (signature not checked)\n")
    finally:
        out, err = stop(process, signal.SIGINT)
    assert process.returncode == 0
    assert err == ("sqlprovider: receiving webhook deliveries, signatures not checked (no --secret); "
                   "press Ctrl-C to stop\n")


def wakeup_fd() -> int:
    fd = signal.set_wakeup_fd(-1)
    signal.set_wakeup_fd(fd)
    return fd


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_before_the_wait_is_not_lost_and_the_handlers_are_restored(sig):
    before, fd = signal.getsignal(sig), wakeup_fd()
    with stop_signals() as wait_for_signal:
        assert wait_for_signal(timeout=0.01) is False  # nothing yet
        signal.raise_signal(sig)  # handled now, in the main thread, before anyone waits
        assert wait_for_signal(timeout=10) is True
    assert (signal.getsignal(sig), wakeup_fd()) == (before, fd)


def test_a_signal_delivered_to_another_thread_wakes_the_waiting_main_thread():
    delivered = threading.Event()

    def deliver() -> None:  # the C-level handler runs in this thread, not the main one
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        delivered.set()

    with stop_signals() as wait_for_signal:
        thread = threading.Thread(target=deliver)
        thread.start()
        assert delivered.wait(10)
        assert wait_for_signal(timeout=10) is True
        thread.join(10)


def test_cli_reports_a_port_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "sqlprovider", "receive", "--port", str(port)], cwd=REPO,
                              env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                              timeout=30)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"sqlprovider: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_an_early_answer_leaves_a_kept_alive_connection_ready_for_the_next_request():
    import http.client

    with Receiver(path="/hooks") as receiver:
        port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            answers, sockets = [], []
            for method, path, body in [("POST", "/elsewhere", b'{"event": "x"}'), ("PUT", "/hooks", b"{}"),
                                       ("POST", "/elsewhere", b"{}"), ("POST", "/hooks", b'{"event": "E"}')]:
                connection.request(method, path, body=body)
                sockets.append(connection.sock)
                answer = connection.getresponse()
                answers.append((answer.status, answer.read(), answer.getheader("Connection")))
        finally:
            connection.close()
        assert len(set(map(id, sockets))) == 1  # one connection all along
        assert answers == [(404, b"not found", None), (405, b"POST webhook deliveries here", None),
                           (404, b"not found", None), (200, b"ok", None)]
        # a body over the cap is not read: the answer closes the connection
        too_big = requests.post(receiver.url.removesuffix("/hooks") + "/elsewhere", data=b"x" * (1024 * 1024 + 1),
                                timeout=10)
        assert (too_big.status_code, too_big.headers.get("Connection")) == (404, "close")
    assert [d["event"] for d in receiver.deliveries] == ["E"]

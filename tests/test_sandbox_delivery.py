"""`test` really delivers: signed POSTs to a receiver on loopback, failures, TLS, simulated job runs."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from sqlprovider import webhooks
from sqlprovider.sandbox import delivery
from sqlprovider.sandbox.delivery import build_payload
from sqlprovider.sandbox.store import Store

API = "/api/2.0/mlflow/registry-webhooks/"
SECRET = "whsec-test-0123456789"
RECEIVER_AUTH = "Bearer receiver-token-xyz"


@dataclass
class Receiver:
    """A webhook receiver on loopback that verifies signatures like a real one would."""

    url: str
    got: list[dict] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """Quiet when the sandbox hung up (a delivery timeout test); anything else is still printed."""
        if not issubclass(sys.exc_info()[0] or type(None), ConnectionError):
            super().handle_error(request, client_address)


def _serve(receiver_factory, tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    receiver: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            assert receiver is not None
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signature = self.headers.get("X-Databricks-Signature")
            expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            verified = signature is not None and hmac.compare_digest(signature, expected)
            receiver.got.append({"headers": dict(self.headers), "body": body, "verified": verified})
            time.sleep(receiver.delay)
            answer = (b"verified" if verified else b"unsigned") + b" " + json.loads(body)["event"].encode()
            self.send_response(receiver.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls else "http"
    receiver = receiver_factory(f"{scheme}://127.0.0.1:{server.server_port}/hooks/registry")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    yield from _serve(Receiver)


def call(sb, method: str, endpoint: str, body: dict) -> requests.Response:
    return requests.request(method, sb.url + API + endpoint, json=body,
                            headers={"Authorization": f"Bearer {sb.token}"}, timeout=30)


def create(sb, **fields) -> dict:
    response = call(sb, "POST", "create", {"events": ["MODEL_VERSION_CREATED"], **fields})
    assert response.status_code == 200, response.text
    return response.json()["webhook"]


def run_test(sb, webhook_id: str, event: str | None = None) -> dict:
    body = {"id": webhook_id} if event is None else {"id": webhook_id, "event": event}
    response = call(sb, "POST", "test", body)
    assert response.status_code == 200, response.text
    return response.json()


def test_delivery_is_signed_authorized_and_answered_with_the_receivers_reply(sandbox, receiver):
    hook = create(sandbox, model_name="churn", events=["MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"],
                  http_url_spec={"url": receiver.url, "secret": SECRET, "authorization": RECEIVER_AUTH})
    before = int(time.time() * 1000)
    assert run_test(sandbox, hook["id"]) == {"status_code": 200,
                                         "body": "verified MODEL_VERSION_TRANSITIONED_TO_PRODUCTION"}
    [got] = receiver.got
    assert got["verified"] is True
    assert got["headers"]["Content-Type"] == "application/json"
    assert got["headers"]["Authorization"] == RECEIVER_AUTH
    payload = json.loads(got["body"])
    assert before <= payload["event_timestamp"] <= int(time.time() * 1000)
    assert payload == {
        "event": "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION", "webhook_id": hook["id"],
        "event_timestamp": payload["event_timestamp"], "model_name": "churn", "version": "1",
        "to_stage": "Production", "from_stage": "Staging",
        "text": "Registered model 'churn' version 1 transitioned from Staging to Production."}


def test_without_secret_or_authorization_those_headers_are_absent(sandbox, receiver):
    hook = create(sandbox, http_url_spec={"url": receiver.url})
    assert run_test(sandbox, hook["id"]) == {"status_code": 200, "body": "unsigned MODEL_VERSION_CREATED"}
    headers = receiver.got[0]["headers"]
    assert "X-Databricks-Signature" not in headers and "Authorization" not in headers


def test_a_wrong_secret_fails_the_receivers_check(sandbox, receiver):
    hook = create(sandbox, http_url_spec={"url": receiver.url, "secret": "not-the-receivers-secret"})
    assert run_test(sandbox, hook["id"])["body"] == "unsigned MODEL_VERSION_CREATED"
    assert receiver.got[0]["verified"] is False


def test_the_receivers_status_code_is_reported(sandbox, receiver):
    receiver.status = 418
    hook = create(sandbox, http_url_spec={"url": receiver.url, "secret": SECRET})
    assert run_test(sandbox, hook["id"]) == {"status_code": 418, "body": "verified MODEL_VERSION_CREATED"}


def test_the_event_is_chosen_and_defaults_to_the_webhooks_first(sandbox, receiver):
    hook = create(sandbox, events=["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"], status="TEST_MODE",
                  http_url_spec={"url": receiver.url})
    run_test(sandbox, hook["id"])
    run_test(sandbox, hook["id"], "MODEL_VERSION_TAG_SET")
    assert [json.loads(g["body"])["event"] for g in receiver.got] == ["COMMENT_CREATED", "MODEL_VERSION_TAG_SET"]


def test_registry_wide_webhooks_get_a_placeholder_model(sandbox, receiver):
    hook = create(sandbox, events=["REGISTERED_MODEL_CREATED"], http_url_spec={"url": receiver.url})
    run_test(sandbox, hook["id"])
    payload = json.loads(receiver.got[0]["body"])
    assert payload == {"event": "REGISTERED_MODEL_CREATED", "webhook_id": hook["id"],
                       "event_timestamp": payload["event_timestamp"], "model_name": "sandbox-model",
                       "text": "A new registered model 'sandbox-model' was created."}


def test_http_deliveries_are_recorded_without_credentials(sandbox, receiver):
    hook = create(sandbox, http_url_spec={"url": receiver.url, "secret": SECRET, "authorization": RECEIVER_AUTH})
    run_test(sandbox, hook["id"])
    [record] = sandbox.deliveries
    assert record["kind"] == "http" and record["url"] == receiver.url and record["status_code"] == 200
    assert record["headers"]["Authorization"] == "***"
    assert record["body"] == json.loads(receiver.got[0]["body"])
    assert RECEIVER_AUTH not in json.dumps(record) and SECRET not in json.dumps(record)


def test_an_unreachable_receiver_is_reported_not_raised(sandbox, closed_port):
    port = closed_port
    url = f"http://user:pa55word@127.0.0.1:{port}/hook?token=query-secret#frag"
    hook = create(sandbox, http_url_spec={"url": url, "secret": SECRET, "authorization": RECEIVER_AUTH})
    answer = run_test(sandbox, hook["id"])
    assert answer == {"status_code": 502,
                      "body": f"delivery failed: connection refused by http://127.0.0.1:{port}/hook"}


UNSENDABLE_AUTH = ("http_url_spec.authorization cannot be sent as an HTTP header (it has characters outside "
                   "Latin-1)")


def test_an_authorization_that_cannot_be_a_header_is_a_failed_delivery(sandbox, receiver):
    hook = create(sandbox, http_url_spec={"url": receiver.url + "?key=q", "secret": SECRET,
                                          "authorization": "Token 中文-receiver-cred"})
    answer = run_test(sandbox, hook["id"])
    assert answer == {"status_code": 502,
                      "body": f"delivery failed: {UNSENDABLE_AUTH}; nothing was sent to {receiver.url}"}
    assert receiver.got == []
    [record] = sandbox.deliveries
    assert (record["status_code"], record["headers"]["Authorization"]) == (502, "***")
    assert "receiver-cred" not in json.dumps(record, ensure_ascii=False)
    log = requests.get(sandbox.url + "/api/2.0/sandbox/deliveries/list",
                       headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=10).json()["deliveries"]
    assert [(row["status_code"], row["error"]) for row in log] == [(502, answer["body"])]


def test_stored_values_that_cannot_be_encoded_are_failed_deliveries(sandbox, receiver):
    """A data file written before lone surrogates were refused may hold them in a secret or a url."""
    store = Store(sandbox.data_path)
    try:
        hooks = [store.create(events=["MODEL_VERSION_CREATED"], model_name=None, description=None, status="ACTIVE",
                              http_url_spec=spec, job_spec=None)
                 for spec in ({"url": receiver.url, "secret": "s\ud800"}, {"url": receiver.url + "/\udc80"})]
    finally:
        store.close()
    assert run_test(sandbox, hooks[0].id) == {
        "status_code": 502, "body": "delivery failed: http_url_spec.secret is not valid Unicode text (it holds an "
                                    f"unpaired surrogate); nothing was sent to {receiver.url}"}
    assert run_test(sandbox, hooks[1].id) == {
        "status_code": 502, "body": "delivery failed: http_url_spec.url is not valid Unicode text (it holds an "
                                    f"unpaired surrogate); nothing was sent to {receiver.url}/\ufffd"}
    assert receiver.got == []


def test_any_encoding_error_while_building_the_request_is_a_failed_delivery(sandbox, receiver, monkeypatch):
    def unencodable(body: bytes, secret: str) -> str:
        raise UnicodeEncodeError("utf-8", secret, 0, 1, "surrogates not allowed")

    monkeypatch.setattr(webhooks, "sign", unencodable)
    hook = create(sandbox, http_url_spec={"url": receiver.url, "secret": "top-secret-value"})
    answer = run_test(sandbox, hook["id"])
    assert answer == {"status_code": 502, "body": f"delivery failed: the request to {receiver.url} could not be "
                                                  "built (UnicodeEncodeError)"}
    assert receiver.got == []


def test_a_slow_receiver_times_out(sandbox, receiver, monkeypatch):
    monkeypatch.setattr(delivery, "DELIVERY_TIMEOUT_SECONDS", 0.2)
    receiver.delay = 1.0
    hook = create(sandbox, http_url_spec={"url": receiver.url})
    assert run_test(sandbox, hook["id"]) == {"status_code": 504,
                                         "body": f"delivery failed: no answer within 0.2 s from {receiver.url}"}


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[Receiver]:
    """A receiver on https://127.0.0.1 with a self-signed certificate (made by the openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a self-signed certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    yield from _serve(Receiver, tls=context)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # expected: verification is off
def test_ssl_verification_is_honoured(sandbox, tls_receiver):
    checked = create(sandbox, http_url_spec={"url": tls_receiver.url, "secret": SECRET})
    assert run_test(sandbox, checked["id"]) == {
        "status_code": 502,
        "body": f"delivery failed: TLS handshake or certificate verification failed for {tls_receiver.url}"}
    unchecked = create(sandbox, http_url_spec={"url": tls_receiver.url, "secret": SECRET,
                                               "enable_ssl_verification": False})
    assert run_test(sandbox, unchecked["id"]) == {"status_code": 200, "body": "verified MODEL_VERSION_CREATED"}
    assert len(tls_receiver.got) == 1


def test_job_webhooks_record_a_simulated_run_now(sandbox):
    hook = create(sandbox, model_name="churn", events=["COMMENT_CREATED"],
                  job_spec={"job_id": 123, "access_token": "job-access-token",
                            "workspace_url": "https://other.cloud.databricks.com/"})
    assert run_test(sandbox, hook["id"]) == {"status_code": 200, "body": '{"run_id": 1, "number_in_job": 1}'}
    assert run_test(sandbox, hook["id"]) == {"status_code": 200, "body": '{"run_id": 2, "number_in_job": 2}'}
    other = create(sandbox, job_spec={"job_id": "77", "access_token": "t"})
    assert run_test(sandbox, other["id"]) == {"status_code": 200, "body": '{"run_id": 3, "number_in_job": 1}'}

    first, _, third = sandbox.deliveries
    assert first["kind"] == "job" and first["method"] == "POST"
    assert first["url"] == "https://other.cloud.databricks.com/api/2.1/jobs/run-now"
    assert third["url"] == f"{sandbox.url}/api/2.1/jobs/run-now"
    assert first["body"]["job_id"] == "123" and third["body"]["job_id"] == "77"  # job ids are strings
    assert list(first["body"]) == ["job_id", "notebook_params"]
    message = json.loads(first["body"]["notebook_params"]["event_message"])
    assert message == {"event": "COMMENT_CREATED", "webhook_id": hook["id"],
                       "event_timestamp": message["event_timestamp"], "model_name": "churn", "version": "1",
                       "comment": "This is a test comment from the sqlprovider sandbox.",
                       "text": "A user commented on version 1 of registered model 'churn': "
                               "This is a test comment from the sqlprovider sandbox."}
    assert "job-access-token" not in json.dumps(sandbox.deliveries)


@pytest.mark.parametrize("args, expected", [
    (("MODEL_VERSION_CREATED", "w1", "m"),
     {"version": "1", "text": "A new version 1 of registered model 'm' was created."}),
    (("MODEL_VERSION_TRANSITIONED_STAGE", "w1", "m", "8", "None", "Production"),
     {"version": "8", "to_stage": "Production", "from_stage": "None",
      "text": "Registered model 'm' version 8 transitioned from None to Production."}),
    (("MODEL_VERSION_TRANSITIONED_TO_ARCHIVED", "w1", "m", "3", "Production"),
     {"version": "3", "to_stage": "Archived", "from_stage": "Production",
      "text": "Registered model 'm' version 3 transitioned from Production to Archived."}),
    (("TRANSITION_REQUEST_TO_STAGING_CREATED", "w1", "m", "2", "None"),
     {"version": "2", "to_stage": "Staging", "from_stage": "None",
      "text": "A user requested that version 2 of registered model 'm' be transitioned from None to Staging."}),
    (("MODEL_VERSION_TAG_SET", "w1", "m", "4"),
     {"version": "4", "text": "A tag was set on version 4 of registered model 'm'."}),
    (("REGISTERED_MODEL_CREATED", "w1", "m"), {"text": "A new registered model 'm' was created."}),
])
def test_build_payload(args, expected):
    assert build_payload(*args, event_timestamp=1589859029343) == {
        "event": args[0], "webhook_id": "w1", "event_timestamp": 1589859029343, "model_name": "m", **expected}

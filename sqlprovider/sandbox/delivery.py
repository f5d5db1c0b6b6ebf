"""Webhook delivery: the event payload, the signed POST to an HTTP receiver, the simulated job run.

`build_payload` makes the JSON body Databricks sends for an event; the sandbox uses it for `test`
and for simulated events (`emit`). `Deliverer.fire` sends one event to one webhook and answers a
`Delivery`: the status code and body the way `test` reports them, plus duration and error:

- http_url_spec: a real `POST` to the url with `Content-Type: application/json`, the webhook's
  `Authorization` when set and `X-Databricks-Signature` (hex HMAC-SHA256 of the exact body bytes
  keyed with the secret) when a secret is set; TLS is verified unless `enable_ssl_verification` is
  false; 10 s timeout; redirects are not followed. The answer is the receiver's status and body text.
- A receiver that cannot be reached is not a sandbox error: the answer is status 502 (no
  connection, TLS failure) or 504 (timeout) with a body `delivery failed: <reason> <url>`, where the
  url has its user info, query and fragment removed, so no credential appears in it.
- Neither is a request that cannot be built from the stored spec: an `authorization` with characters
  outside Latin-1 (an HTTP header cannot carry them), a url or secret that is not valid Unicode, or
  any other encoding error on the way out. Nothing is sent; the answer is 502 with a body naming the
  field (never its value), e.g. `delivery failed: http_url_spec.authorization cannot be sent as an
  HTTP header (...); nothing was sent to <url>`.
- job_spec: the `POST <workspace_url or the sandbox url>/api/2.1/jobs/run-now` with
  `{"job_id": ..., "notebook_params": {"event_message": "<payload JSON>"}}` is recorded, not sent, and
  answered `200 {"run_id": n, "number_in_job": m}`.

Every delivery is recorded as a dict (Authorization values masked) through the `record` callback,
and logged (no headers, no payload, the url without credentials) through the `log` callback.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from sqlprovider import webhooks
from sqlprovider.sandbox.events import implied_stage, is_transition
from sqlprovider.sandbox.store import StoredWebhook, now_ms

DELIVERY_TIMEOUT_SECONDS = 10.0
#: The model name in test payloads of registry-wide webhooks, which have none of their own.
PLACEHOLDER_MODEL = "sandbox-model"
USER_AGENT = "sqlprovider-sandbox-webhooks/1.0"

_SURROGATES = re.compile("[\ud800-\udfff]")

#: Sample transitions for test payloads: (from_stage, to_stage) by the stage an event implies.
_SAMPLE_FROM = {None: "None", "Staging": "None", "Production": "Staging", "Archived": "Production"}


def _text(event: str, model_name: str, version: str, from_stage: str | None, to_stage: str | None,
          comment: str | None) -> str:
    """The human-readable sentence of the payload's `text` field."""
    version_of = f"version {version} of registered model '{model_name}'"
    moves = f"from {from_stage or 'None'} to {to_stage or 'another stage'}"
    if event == "REGISTERED_MODEL_CREATED":
        return f"A new registered model '{model_name}' was created."
    if event == "MODEL_VERSION_CREATED":
        return f"A new {version_of} was created."
    if event == "MODEL_VERSION_TAG_SET":
        return f"A tag was set on {version_of}."
    if event == "COMMENT_CREATED":
        return f"A user commented on {version_of}" + (f": {comment}" if comment else ".")
    if event.startswith("TRANSITION_REQUEST"):
        return f"A user requested that {version_of} be transitioned {moves}."
    if event.startswith("MODEL_VERSION_TRANSITIONED"):
        return f"Registered model '{model_name}' version {version} transitioned {moves}."
    return f"Event {event} on {version_of}."


def build_payload(event: str, webhook_id: str, model_name: str, version: str = "1",
                  from_stage: str | None = None, to_stage: str | None = None, comment: str | None = None,
                  *, event_timestamp: int | None = None) -> dict[str, Any]:
    """The JSON body Databricks POSTs for `event`: event, webhook_id, event_timestamp (ms),
    model_name, version (absent for REGISTERED_MODEL_CREATED), to_stage/from_stage for transition
    events (to_stage defaults to the stage the event names), comment, and a `text` sentence."""
    if to_stage is None:
        to_stage = implied_stage(event)
    payload: dict[str, Any] = {
        "event": event,
        "webhook_id": webhook_id,
        "event_timestamp": now_ms() if event_timestamp is None else event_timestamp,
        "model_name": model_name,
    }
    if event != "REGISTERED_MODEL_CREATED":
        payload["version"] = version
    if is_transition(event):
        if to_stage is not None:
            payload["to_stage"] = to_stage
        if from_stage is not None:
            payload["from_stage"] = from_stage
    if comment is not None:
        payload["comment"] = comment
    payload["text"] = _text(event, model_name, version, from_stage, to_stage, comment)
    return payload


def sample_payload(event: str, webhook: StoredWebhook) -> dict[str, Any]:
    """A plausible payload for `test`: version 1 of the webhook's model (or a placeholder model)."""
    model_name = webhook.model_name or PLACEHOLDER_MODEL
    if is_transition(event):
        to_stage = implied_stage(event) or "Staging"
        return build_payload(event, webhook.id, model_name, "1", _SAMPLE_FROM[to_stage], to_stage)
    if event == "COMMENT_CREATED":
        return build_payload(event, webhook.id, model_name, "1",
                             comment="This is a test comment from the sqlprovider sandbox.")
    return build_payload(event, webhook.id, model_name, "1")


def encode(payload: dict[str, Any]) -> bytes:
    """The exact body bytes sent (and signed)."""
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def _encodes(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _storable(text: str) -> str:
    """`text` with any unpaired surrogate replaced by U+FFFD, so SQLite and UTF-8 take it."""
    return _SURROGATES.sub("\ufffd", text)


def _unsendable(spec: dict[str, Any]) -> str | None:
    """Why an http_url_spec cannot make an HTTP request, naming the field but never its value; None if it can."""
    authorization = spec.get("authorization")
    if authorization and not _encodes(authorization, "latin-1"):
        return "http_url_spec.authorization cannot be sent as an HTTP header (it has characters outside Latin-1)"
    for name in ("url", "secret"):  # written before the sandbox refused lone surrogates in request bodies
        value = spec.get(name)
        if value and not _encodes(value, "utf-8"):
            return f"http_url_spec.{name} is not valid Unicode text (it holds an unpaired surrogate)"
    return None


def safe_url(url: str) -> str:
    """The url without user info, query or fragment (and unpaired surrogates as U+FFFD): fit for
    messages, records and the delivery log."""
    url = _storable(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = host if parts.port is None else f"{host}:{parts.port}"
    except ValueError:
        return "<invalid url>"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Delivery:
    """The outcome of one delivery. `error` is set when no answer came (the status is then 502/504)."""

    webhook_id: str
    event: str
    status_code: int
    body: str
    duration_ms: int
    delivered_at: int
    url: str | None = None  # http webhooks: the url without user info, query or fragment
    job_id: str | None = None  # job webhooks
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        """The delivery as `emit` answers it: webhook_id, event, url or job_id, status_code,
        duration_ms and error (omitted when none)."""
        out: dict[str, Any] = {"webhook_id": self.webhook_id, "event": self.event}
        out.update({"url": self.url} if self.url is not None else {"job_id": self.job_id})
        out.update(status_code=self.status_code, duration_ms=self.duration_ms)
        if self.error is not None:
            out["error"] = self.error
        return out

    def log_row(self, source: str) -> dict[str, Any]:
        """The delivery log row (every column but the id); `source` is 'test' or 'emit'."""
        return {"webhook_id": self.webhook_id, "event": self.event, "source": source, "url": self.url,
                "job_id": self.job_id, "status_code": self.status_code, "duration_ms": self.duration_ms,
                "error": self.error, "delivered_at": self.delivered_at}


class Deliverer:
    """Sends events to webhooks; one per Sandbox (it owns the simulated job run counters)."""

    def __init__(self, base_url: Callable[[], str], record: Callable[[dict[str, Any]], None],
                 log: Callable[[Delivery, str], None] | None = None) -> None:
        self._base_url = base_url
        self._record = record
        self._log = log
        self._lock = threading.Lock()
        self._run_ids = itertools.count(1)
        self._runs_per_job: dict[str, int] = {}
        self._session = requests.Session()
        # No proxies, .netrc or CA bundle from the environment: a .netrc entry would otherwise add the
        # user's credentials to requests bound for the receiver.
        self._session.trust_env = False

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    def fire(self, webhook: StoredWebhook, payload: dict[str, Any], source: str = "test") -> Delivery:
        """Deliver `payload` to the webhook and log it under `source` ('test' or 'emit'); runs in the
        request thread of `test` or `emit`."""
        delivered_at, started = now_ms(), time.perf_counter()
        if webhook.job_spec is not None:
            status, text, error = self._run_job(webhook, payload)
            target = {"job_id": _storable(str(webhook.job_spec["job_id"]))}
        else:
            assert webhook.http_url_spec is not None
            status, text, error = self._post(webhook, payload)
            target = {"url": safe_url(webhook.http_url_spec["url"])}
        duration_ms = round((time.perf_counter() - started) * 1000)
        delivery = Delivery(webhook.id, payload["event"], status, text, duration_ms, delivered_at, error=error,
                            **target)
        if self._log is not None:
            self._log(delivery, source)
        return delivery

    def _post(self, webhook: StoredWebhook, payload: dict[str, Any]) -> tuple[int, str, str | None]:
        spec = webhook.http_url_spec or {}
        url = spec["url"]
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if spec.get("authorization"):
            headers["Authorization"] = spec["authorization"]
        why = _unsendable(spec)
        if why is None:
            status, text, error = self._send(url, encode(payload), headers, spec)
        else:
            status, error = 502, f"delivery failed: {why}; nothing was sent to {safe_url(url)}"
            text = error
        shown = dict(headers)
        if "Authorization" in shown:
            shown["Authorization"] = "***"
        self._record({"kind": "http", "method": "POST", "url": url, "headers": shown, "body": payload,
                      "webhook_id": webhook.id, "event": payload["event"],
                      "status_code": status, "response_body": text})
        return status, text, error

    def _send(self, url: str, body: bytes, headers: dict[str, str],
              spec: dict[str, Any]) -> tuple[int, str, str | None]:
        """Sign (adding the signature to `headers`) and POST; (status, body text, None) when the receiver
        answered, else (502 or 504, the error, the error). No exception of the request escapes."""
        try:
            if spec.get("secret"):
                headers[webhooks.SIGNATURE_HEADER] = webhooks.sign(body, spec["secret"])
            response = self._session.post(url, data=body, headers=headers, timeout=DELIVERY_TIMEOUT_SECONDS,
                                          verify=bool(spec.get("enable_ssl_verification", True)),
                                          allow_redirects=False)
            return response.status_code, response.text, None
        except requests.exceptions.SSLError:
            status, error = 502, f"delivery failed: TLS handshake or certificate verification failed for {safe_url(url)}"
        except requests.exceptions.Timeout:
            status, error = 504, (f"delivery failed: no answer within {DELIVERY_TIMEOUT_SECONDS:g} s "
                                  f"from {safe_url(url)}")
        except requests.exceptions.ConnectionError as exc:
            reason = "connection refused by" if "refused" in str(exc).lower() else "could not connect to"
            status, error = 502, f"delivery failed: {reason} {safe_url(url)}"
        except requests.exceptions.RequestException as exc:
            status, error = 502, f"delivery failed: {type(exc).__name__} for {safe_url(url)}"
        except ValueError as exc:  # a UnicodeError, or any other value the request could not be built from
            status, error = 502, (f"delivery failed: the request to {safe_url(url)} could not be built "
                                  f"({type(exc).__name__})")
        return status, error, error

    def _run_job(self, webhook: StoredWebhook, payload: dict[str, Any]) -> tuple[int, str, None]:
        spec = webhook.job_spec or {}
        base = (spec.get("workspace_url") or self._base_url()).rstrip("/")
        with self._lock:
            run_id = next(self._run_ids)
            key = str(spec["job_id"])
            number = self._runs_per_job[key] = self._runs_per_job.get(key, 0) + 1
        body = {"job_id": spec["job_id"], "notebook_params": {"event_message": encode(payload).decode("utf-8")}}
        answer = json.dumps({"run_id": run_id, "number_in_job": number})
        self._record({"kind": "job", "method": "POST", "url": f"{base}/api/2.1/jobs/run-now",
                      "headers": {"Authorization": "Bearer ***", "Content-Type": "application/json"},
                      "body": body, "webhook_id": webhook.id, "event": payload["event"],
                      "status_code": 200, "response_body": answer})
        return 200, answer, None

"""Sandbox-only endpoints under `/api/2.0/sandbox/`: simulated registry events and the delivery log.

Authenticated like the registry-webhooks API (same bearer tokens); latency and injected faults do
not apply. Each handler runs in the request's thread after auth succeeded. Bad input is a 400
`INVALID_PARAMETER_VALUE` (a field of the wrong JSON type, or a body that is not JSON, is
`MALFORMED_REQUEST`, as on the registry-webhooks API).

`POST /api/2.0/sandbox/emit`, body `{"event", "model_name", "version", "from_stage", "to_stage",
"comment"}` (event and model_name required; version defaults to "1"; stages in any case), delivers
the event to every ACTIVE webhook listening for it on that model or registry-wide; a transition
fires the generic and the stage-specific event (see `events`). Answer, one object per delivery in
delivery order (generic event first, then webhooks in creation order), `deliveries` always present::

    {"deliveries": [{"webhook_id": "...", "event": "...", "url": "http://127.0.0.1:8080/hook",
                     "status_code": 200, "duration_ms": 3},
                    {"webhook_id": "...", "event": "...", "job_id": "42", "status_code": 200,
                     "duration_ms": 0},
                    {"webhook_id": "...", "event": "...", "url": "...", "status_code": 502,
                     "duration_ms": 1, "error": "delivery failed: connection refused by ..."}]}

`GET /api/2.0/sandbox/deliveries/list?webhook_id=&max_results=&page_token=` pages through the log
of every delivery (from `test` and from `emit`), oldest first; max_results defaults to 100, at most
1000; empty fields are omitted as in the webhooks list (no `deliveries` key when there are none, no
`next_page_token` on the last page)::

    {"deliveries": [{"id": 1, "webhook_id": "...", "event": "MODEL_VERSION_CREATED", "source": "test",
                     "url": "http://127.0.0.1:8080/hook", "status_code": 200, "duration_ms": 3,
                     "delivered_at": 1700000000000}, ...],
     "next_page_token": "..."}

Log fields: `id` (increasing integer), `webhook_id`, `event`, `source` ('test' or 'emit'), `url`
(http webhooks; without user info, query or fragment) or `job_id` (job webhooks, a string),
`status_code`, `duration_ms`, `error` (only when no answer came), `delivered_at` (Unix ms).
"""

from __future__ import annotations

from typing import Any

from sqlprovider.sandbox import validation
from sqlprovider.sandbox.api import Body, Query, page_answer
from sqlprovider.sandbox.delivery import Deliverer, Delivery, build_payload
from sqlprovider.sandbox.events import fired_events
from sqlprovider.sandbox.store import Store

PREFIX = "/api/2.0/sandbox/"


class SandboxApi:
    """The emit and deliveries/list endpoints over the sandbox's store and deliverer."""

    def __init__(self, store: Store, deliverer: Deliverer) -> None:
        self.store = store
        self.deliverer = deliverer
        self.routes = {
            ("POST", "emit"): self.emit_endpoint,
            ("GET", "deliveries/list"): self.list_deliveries,
        }

    def emit(self, request: validation.EmitRequest) -> list[Delivery]:
        """Deliver a simulated event to every matching ACTIVE webhook, one after the other."""
        out: list[Delivery] = []
        for event in fired_events(request.event, request.to_stage):
            for hook in self.store.active_listeners(event, request.model_name):
                payload = build_payload(event, hook.id, request.model_name, request.version, request.from_stage,
                                        request.to_stage, request.comment)
                out.append(self.deliverer.fire(hook, payload, source="emit"))
        return out

    def emit_endpoint(self, query: Query, body: Body) -> dict[str, Any]:
        """POST emit: validate, deliver, answer one summary per delivery."""
        return {"deliveries": [delivery.summary() for delivery in self.emit(validation.parse_emit(body))]}

    def list_deliveries(self, query: Query, body: Body) -> dict[str, Any]:
        """GET deliveries/list: one page of the delivery log, optionally for one webhook."""
        request = validation.parse_deliveries_list(query, body)
        page, last = self.store.list_deliveries(webhook_id=request.webhook_id, after=request.after,
                                                limit=request.max_results)
        rows = [{key: value for key, value in row.items() if value is not None} for row in page]
        return page_answer("deliveries", rows, last)

"""The registry-webhooks endpoints: each handler runs in the request's thread after auth succeeded,
takes the parsed query and JSON body, and returns the JSON answer or raises ApiError. They are served
under the GA prefix and the preview one alike (PREFIXES).

Paging: `list` answers DEFAULT_PAGE_SIZE (100) webhooks when max_results is absent and at most
MAX_PAGE_SIZE (1000); page tokens are keyset positions, so inserts and deletes between pages neither
skip nor repeat the webhooks that stay.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlprovider.sandbox import validation
from sqlprovider.sandbox.delivery import Deliverer, sample_payload
from sqlprovider.sandbox.errors import invalid, not_found
from sqlprovider.sandbox.store import Store, encode_page_token

Query = Sequence[tuple[str, str]]
Body = Mapping[str, Any]

PREFIX = "/api/2.0/mlflow/registry-webhooks/"
#: The preview prefix, which Databricks still serves and its own `databricks-registry-webhooks` client calls.
PREVIEW_PREFIX = "/api/2.0/preview/mlflow/registry-webhooks/"
#: Both prefixes serve the same endpoints with the same behaviour.
PREFIXES: tuple[str, ...] = (PREFIX, PREVIEW_PREFIX)


def page_answer(key: str, items: list[dict[str, Any]], last: int | None) -> dict[str, Any]:
    """A list answer with empty fields omitted: no `key` without items, no next_page_token on the
    last page (else the token to continue after position `last`)."""
    out: dict[str, Any] = {}
    if items:
        out[key] = items
    if last is not None:
        out["next_page_token"] = encode_page_token(last)
    return out


class WebhooksApi:
    """The five endpoints over one store and one deliverer."""

    def __init__(self, store: Store, deliverer: Deliverer) -> None:
        self.store = store
        self.deliverer = deliverer
        self.routes = {
            ("GET", "list"): self.list,
            ("POST", "create"): self.create,
            ("PATCH", "update"): self.update,
            ("DELETE", "delete"): self.delete,
            ("POST", "test"): self.test,
        }

    def list(self, query: Query, body: Body) -> dict[str, Any]:
        """GET list: one page of webhooks matching ANY of `events` and `model_name`."""
        request = validation.parse_list(query, body)
        page, last = self.store.list(events=request.events, model_name=request.model_name,
                                     after=request.after, limit=request.max_results)
        return page_answer("webhooks", [hook.public() for hook in page], last)

    def create(self, query: Query, body: Body) -> dict[str, Any]:
        """POST create: validate and store a webhook."""
        new = validation.parse_create(body)
        hook = self.store.create(events=new.events, model_name=new.model_name, description=new.description,
                                 status=new.status, http_url_spec=new.http_url_spec, job_spec=new.job_spec)
        return {"webhook": hook.public()}

    def update(self, query: Query, body: Body) -> dict[str, Any]:
        """PATCH update: replace the given fields whole."""
        request = validation.parse_update(body)
        current = self.store.get(request.id)
        if current is None:
            raise not_found(request.id)
        if "events" in request.changes:
            validation.check_events_for_model(request.changes["events"], current.model_name)
        hook = self.store.update(request.id, request.changes)
        if hook is None:  # deleted by another writer meanwhile
            raise not_found(request.id)
        return {"webhook": hook.public()}

    def delete(self, query: Query, body: Body) -> dict[str, Any]:
        """DELETE delete: the id from the query string or the body."""
        webhook_id = validation.parse_delete(query, body)
        if not self.store.delete(webhook_id):
            raise not_found(webhook_id)
        return {}

    def test(self, query: Query, body: Body) -> dict[str, Any]:
        """POST test: deliver a sample event for real and report the receiver's answer.

        Without `event`, Databricks picks one of the webhook's events at random; the sandbox takes
        the first, so tests are reproducible.
        """
        webhook_id, event = validation.parse_test(body)
        hook = self.store.get(webhook_id)
        if hook is None:
            raise not_found(webhook_id)
        if event is None:
            event = hook.events[0]
        elif event not in hook.events:
            raise invalid(f"Event {event} is not one of the webhook's events: {', '.join(hook.events)}.")
        delivery = self.deliverer.fire(hook, sample_payload(event, hook), source="test")
        return {"status_code": delivery.status_code, "body": delivery.body}

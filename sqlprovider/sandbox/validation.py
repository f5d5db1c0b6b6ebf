"""Request validation with Databricks' error codes; pure functions, no I/O.

A field with the wrong JSON type (events not a list, status not a string) is MALFORMED_REQUEST, as
Databricks' JSON-to-proto parser reports it; a well-typed value the API refuses (unknown event, bad
status, missing field, plain-http URL) is INVALID_PARAMETER_VALUE. JSON `null` means "not given"
(proto3), and so does an empty string for optional strings (`model_name`, `secret`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlprovider.sandbox.events import STAGES, canonical_stage, implied_stage, is_transition
from sqlprovider.sandbox.errors import ApiError, invalid, malformed
from sqlprovider.sandbox.store import decode_page_token
from sqlprovider.webhooks import EVENTS, REGISTRY_WIDE_ONLY_EVENTS, STATUSES
from sqlprovider.webhooks.httpd import is_loopback_host

#: Page size of `list` when the request gives no max_results (Databricks does not document one).
DEFAULT_PAGE_SIZE = 100
#: Larger max_results values are capped to this, the page size Databricks' own client asks for.
MAX_PAGE_SIZE = 1000

_VALID_EVENTS = ", ".join(EVENTS)


@dataclass(frozen=True)
class ListRequest:
    """What one `list` call asks for."""

    events: tuple[str, ...]
    model_name: str | None
    max_results: int
    after: int


@dataclass(frozen=True)
class DeliveriesRequest:
    """What one `deliveries/list` call asks for."""

    webhook_id: str | None
    max_results: int
    after: int


@dataclass(frozen=True)
class EmitRequest:
    """A validated simulated event: to_stage is filled in from a stage-specific event."""

    event: str
    model_name: str
    version: str
    from_stage: str | None
    to_stage: str | None
    comment: str | None


@dataclass(frozen=True)
class NewWebhook:
    """A validated `create` request, write-only fields included."""

    events: tuple[str, ...]
    model_name: str | None
    description: str | None
    status: str
    http_url_spec: dict[str, Any] | None
    job_spec: dict[str, Any] | None


@dataclass(frozen=True)
class WebhookChanges:
    """A validated `update` request: `changes` holds only the fields given, spec switches included."""

    id: str
    changes: dict[str, Any]


def require_object(body: Any) -> Mapping[str, Any]:
    """The request body as a JSON object."""
    if not isinstance(body, Mapping):
        raise malformed("Invalid JSON given in the body of the request - expected a JSON object.")
    return body


def parse_list(query: Sequence[tuple[str, str]], body: Mapping[str, Any]) -> ListRequest:
    """`GET list`: filters from the query string, or (for keys the query lacks) from a JSON body."""
    given = {key for key, _ in query}
    if "events" in given:
        events: tuple[str, ...] = tuple(v for k, v in query if k == "events")
    else:
        events = tuple(_string_list(body, "events") or ())
    for event in events:
        _check_event(event)

    model_name = _query_value(query, "model_name") if "model_name" in given else _string(body, "model_name")
    max_results, after = _paging(query, body)
    return ListRequest(tuple(dict.fromkeys(events)), model_name or None, max_results, after)


def parse_deliveries_list(query: Sequence[tuple[str, str]], body: Mapping[str, Any]) -> DeliveriesRequest:
    """`GET /api/2.0/sandbox/deliveries/list`: webhook_id, max_results, page_token (query or body)."""
    given = {key for key, _ in query}
    webhook_id = _query_value(query, "webhook_id") if "webhook_id" in given else _string(body, "webhook_id")
    max_results, after = _paging(query, body)
    return DeliveriesRequest(webhook_id or None, max_results, after)


def parse_emit(body: Mapping[str, Any]) -> EmitRequest:
    """`POST /api/2.0/sandbox/emit`: event and model_name (required), version (default "1"; not used by
    REGISTERED_MODEL_CREATED), from_stage/to_stage (transition events only; stage names in any case;
    to_stage is required unless the event names it), comment."""
    event = _string(body, "event")
    if not event:
        raise _missing("event")
    _check_event(event)
    model_name = _string(body, "model_name")
    if not model_name:
        raise _missing("model_name")
    version = _version(body.get("version"))
    from_stage, to_stage = _stage(body, "from_stage"), _stage(body, "to_stage")
    if not is_transition(event):
        if from_stage is not None or to_stage is not None:
            raise invalid(f"from_stage and to_stage apply only to transition events, not to {event}.")
    else:
        implied = implied_stage(event)
        if implied is not None and to_stage not in (None, implied):
            raise invalid(f"Event {event} moves to {implied}; to_stage {to_stage} contradicts it.")
        to_stage = to_stage or implied
        if to_stage is None:
            raise invalid(f"Event {event} needs to_stage (one of {', '.join(STAGES)}).")
    return EmitRequest(event, model_name, version, from_stage, to_stage, _string(body, "comment") or None)


def parse_create(body: Mapping[str, Any]) -> NewWebhook:
    """`POST create`: events (required), model_name, description, status and exactly one spec."""
    events = _events(body, required=True)
    model_name = _string(body, "model_name") or None
    if model_name is not None:
        _check_model_events(events)
    description = _string(body, "description") or None
    status = _status(body) or "ACTIVE"
    http_spec, job_spec = _object(body, "http_url_spec"), _object(body, "job_spec")
    if http_spec is not None and job_spec is not None:
        raise invalid("Exactly one of http_url_spec and job_spec must be given, not both.")
    if http_spec is None and job_spec is None:
        raise invalid("Exactly one of http_url_spec and job_spec must be given.")
    return NewWebhook(events, model_name, description, status,
                      _http_url_spec(http_spec) if http_spec is not None else None,
                      _job_spec(job_spec) if job_spec is not None else None)


def parse_update(body: Mapping[str, Any]) -> WebhookChanges:
    """`PATCH update`: id (required) and the fields to replace whole; model_name is refused."""
    webhook_id = _required_id(body)
    if body.get("model_name") is not None:
        raise invalid("model_name cannot be updated: it is not an update field. "
                      "Delete the webhook and create a new one for another model.")
    changes: dict[str, Any] = {}
    if body.get("events") is not None:
        changes["events"] = _events(body, required=True)
    if "description" in body and body["description"] is not None:
        changes["description"] = _string(body, "description") or None
    status = _status(body)
    if status is not None:
        changes["status"] = status
    http_spec, job_spec = _object(body, "http_url_spec"), _object(body, "job_spec")
    if http_spec is not None and job_spec is not None:
        raise invalid("Only one of http_url_spec and job_spec may be given, not both.")
    if http_spec is not None:
        changes.update(http_url_spec=_http_url_spec(http_spec), job_spec=None)
    if job_spec is not None:
        changes.update(job_spec=_job_spec(job_spec), http_url_spec=None)
    return WebhookChanges(webhook_id, changes)


def check_events_for_model(events: Sequence[str], model_name: str | None) -> None:
    """Refuse registry-wide-only events on a model's webhook (update checks against the stored model)."""
    if model_name is not None:
        _check_model_events(events)


def parse_delete(query: Sequence[tuple[str, str]], body: Mapping[str, Any]) -> str:
    """`DELETE delete`: the id from the query string (the SDK) or from a JSON body (the docs' curl)."""
    webhook_id = _query_value(query, "id")
    if webhook_id:
        return webhook_id
    return _required_id(body)


def parse_test(body: Mapping[str, Any]) -> tuple[str, str | None]:
    """`POST test`: id (required) and an optional event name."""
    webhook_id = _required_id(body)
    event = _string(body, "event") or None
    if event is not None:
        _check_event(event)
    return webhook_id, event


# -- field helpers ---------------------------------------------------------------------------------

def _query_value(query: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of a query parameter."""
    return next((v for k, v in query if k == name), None)


def _missing(name: str) -> ApiError:
    return invalid(f"Missing value for required parameter '{name}'.")


def _wrong_type(name: str, expected: str) -> ApiError:
    return malformed(f"Invalid JSON given in the body of the request - expected {expected} for field '{name}'.")


def _string(body: Mapping[str, Any], name: str, *, label: str | None = None) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _wrong_type(label or name, "a string")
    return value


def _object(body: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise _wrong_type(name, "an object")
    return value


def _string_list(body: Mapping[str, Any], name: str) -> list[str] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _wrong_type(name, "a list of strings")
    return value


def _required_id(body: Mapping[str, Any]) -> str:
    webhook_id = _string(body, "id")
    if not webhook_id:
        raise _missing("id")
    return webhook_id


def _paging(query: Sequence[tuple[str, str]], body: Mapping[str, Any]) -> tuple[int, int]:
    """(max_results, position to continue after) from the query string, or else from a JSON body."""
    given = {key for key, _ in query}
    raw_max: Any = _query_value(query, "max_results") if "max_results" in given else body.get("max_results")
    max_results = DEFAULT_PAGE_SIZE if raw_max is None else min(_positive_int(raw_max, "max_results"), MAX_PAGE_SIZE)
    token = _query_value(query, "page_token") if "page_token" in given else _string(body, "page_token")
    if not token:
        return max_results, 0
    try:
        return max_results, decode_page_token(token)
    except ValueError:
        raise invalid("Invalid page_token: it was not returned by a previous list call.") from None


def _version(value: Any) -> str:
    """A model version: a positive integer, given as a number or a string; "1" when absent."""
    if value is None or value == "":
        return "1"
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not text.isdigit() or int(text) <= 0:
        raise invalid("Invalid value for 'version': it must be a positive integer such as \"1\".")
    return str(int(text))


def _stage(body: Mapping[str, Any], name: str) -> str | None:
    """A stage name in any case, as the registry spells it."""
    text = _string(body, name)
    if not text:
        return None
    stage = canonical_stage(text)
    if stage is None:
        shown = text if len(text) <= 100 else text[:100] + "..."
        raise invalid(f"Invalid value for '{name}': '{shown}'. Valid stages are: {', '.join(STAGES)}.")
    return stage


def _positive_int(value: Any, name: str) -> int:
    """max_results from a query string ("10") or a JSON body (10 or "10")."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        number = int(value.strip())
    if number is None or number <= 0:
        raise invalid(f"Invalid value for parameter '{name}': it must be a positive integer "
                      f"(at most {MAX_PAGE_SIZE} are returned per page).")
    return number


def _check_event(event: str) -> None:
    if event not in EVENTS:
        shown = event if len(event) <= 100 else event[:100] + "..."
        raise invalid(f"Invalid event '{shown}'. Valid events are: {_VALID_EVENTS}.")


def _events(body: Mapping[str, Any], *, required: bool) -> tuple[str, ...]:
    events = _string_list(body, "events")
    if events is None:
        if required:
            raise _missing("events")
        return ()
    if not events:
        raise invalid("The parameter 'events' must contain at least one event. "
                      f"Valid events are: {_VALID_EVENTS}.")
    for event in events:
        _check_event(event)
    return tuple(dict.fromkeys(events))


def _check_model_events(events: Sequence[str]) -> None:
    for event in events:
        if event in REGISTRY_WIDE_ONLY_EVENTS:
            raise invalid(f"Event {event} can only be specified for a registry-wide webhook, "
                          "i.e. one created without model_name.")


def _status(body: Mapping[str, Any]) -> str | None:
    status = _string(body, "status")
    if status is None:
        return None
    if status not in STATUSES:
        shown = status if len(status) <= 100 else status[:100] + "..."
        raise invalid(f"Invalid status '{shown}'. Valid statuses are: {', '.join(STATUSES)}.")
    return status


def _http_url_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """http_url_spec: url (required; https, or http to a loopback host), secret, authorization, TLS flag."""
    url = _string(spec, "url", label="http_url_spec.url")
    if not url:
        raise _missing("http_url_spec.url")
    _check_url(url, "http_url_spec.url")
    out: dict[str, Any] = {"url": url}
    verify = spec.get("enable_ssl_verification")
    if verify is None:
        verify = True
    elif not isinstance(verify, bool):
        raise _wrong_type("http_url_spec.enable_ssl_verification", "a boolean")
    out["enable_ssl_verification"] = verify
    for name in ("secret", "authorization"):
        value = _string(spec, name, label=f"http_url_spec.{name}")
        if value:
            out[name] = value
    return out


def _job_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """job_spec: job_id and access_token (required), workspace_url (optional).

    job_id is a string (the SDK's type), kept and returned as one; a JSON integer is accepted too, as
    Databricks' lenient JSON parser does, and stored as its decimal string: 42 becomes "42".
    """
    job_id = spec.get("job_id")
    if job_id is None or job_id == "":
        raise _missing("job_spec.job_id")
    if isinstance(job_id, bool) or not isinstance(job_id, (str, int)):
        raise _wrong_type("job_spec.job_id", "a string")
    access_token = _string(spec, "access_token", label="job_spec.access_token")
    if not access_token:
        raise _missing("job_spec.access_token")
    out: dict[str, Any] = {"job_id": str(job_id)}
    workspace_url = _string(spec, "workspace_url", label="job_spec.workspace_url")
    if workspace_url:
        _check_url(workspace_url, "job_spec.workspace_url")
        out["workspace_url"] = workspace_url
    out["access_token"] = access_token
    return out


def _check_url(url: str, name: str) -> None:
    """Real workspaces require https://; the sandbox also takes http:// to a loopback host.

    The URL itself is never echoed in the message: it may carry credentials.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise invalid(f"Invalid value for '{name}': not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not host:
        raise invalid(f"Invalid value for '{name}': it must be an https:// URL with a host.")
    if parts.scheme == "http" and not is_loopback_host(host):
        raise invalid(f"Invalid value for '{name}': it must use https://. The sandbox accepts http:// "
                      "only for loopback hosts (127.0.0.0/8, localhost, ::1).")

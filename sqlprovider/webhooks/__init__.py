"""Facts about Databricks registry webhooks shared by the client and the sandbox.

Event names, statuses, the write-only fields and the delivery signature (`sign`, `verify_signature`)
live here once, so the resource definition, the sandbox server and receiver tools agree by
construction.
"""

from __future__ import annotations

import hashlib
import hmac

EVENTS: tuple[str, ...] = (
    "MODEL_VERSION_CREATED",
    "MODEL_VERSION_TRANSITIONED_STAGE",
    "TRANSITION_REQUEST_CREATED",
    "COMMENT_CREATED",
    "REGISTERED_MODEL_CREATED",
    "MODEL_VERSION_TAG_SET",
    "MODEL_VERSION_TRANSITIONED_TO_STAGING",
    "MODEL_VERSION_TRANSITIONED_TO_PRODUCTION",
    "MODEL_VERSION_TRANSITIONED_TO_ARCHIVED",
    "TRANSITION_REQUEST_TO_STAGING_CREATED",
    "TRANSITION_REQUEST_TO_PRODUCTION_CREATED",
    "TRANSITION_REQUEST_TO_ARCHIVED_CREATED",
)

#: Only registry-wide webhooks (no model_name) may listen for this event.
REGISTRY_WIDE_ONLY_EVENTS: frozenset[str] = frozenset({"REGISTERED_MODEL_CREATED"})

STATUSES: tuple[str, ...] = ("ACTIVE", "DISABLED", "TEST_MODE")

#: Fields accepted on create/update but never returned by the API.
WRITE_ONLY_FIELDS: dict[str, frozenset[str]] = {
    "http_url_spec": frozenset({"secret", "authorization"}),
    "job_spec": frozenset({"access_token"}),
}

SIGNATURE_HEADER = "X-Databricks-Signature"


def sign(body: bytes, secret: str) -> str:
    """Return the hex HMAC-SHA256 of the exact body bytes keyed with the webhook secret (a str, used as
    its UTF-8 bytes, as Databricks does); TypeError for a secret of another type."""
    _check_secret_type(secret)
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, secret: str, signature_header: str | None) -> bool:
    """Return True when `signature_header` is the hex HMAC-SHA256 of `body` keyed with `secret`.

    Pass the RAW request body bytes, exactly as received, before any JSON parsing: re-serialised JSON
    rarely has the same bytes. The comparison is constant-time (`hmac.compare_digest`).

    Types are checked strictly, because a wrong one is a bug in the receiver, not a bad request:
    `body` must be bytes-like (bytes, bytearray, memoryview) and `secret` a str, the text given as
    `http_url_spec.secret` (it is keyed as its UTF-8 bytes). Anything else raises TypeError: a decoded
    or parsed body, and a bytes secret too (decode it first: `secret.decode()`), which would otherwise
    never verify. A secret that is None or empty (not configured) gives False.

    The header is what the request brought, so it never raises: whitespace around it and upper-case
    hex are accepted; a missing, empty, malformed or non-str header gives False.

    Flask-style handler::

        from flask import Flask, abort, request
        from sqlprovider.webhooks import SIGNATURE_HEADER, verify_signature

        app = Flask(__name__)

        @app.post("/hooks/registry")
        def registry_hook():
            body = request.get_data()  # raw bytes, read before request.get_json()
            if not verify_signature(body, SECRET, request.headers.get(SIGNATURE_HEADER)):
                abort(401)
            event = request.get_json()
            ...
            return "ok"

    FastAPI-style handler::

        from fastapi import FastAPI, HTTPException, Request
        from sqlprovider.webhooks import SIGNATURE_HEADER, verify_signature

        app = FastAPI()

        @app.post("/hooks/registry")
        async def registry_hook(request: Request):
            body = await request.body()  # raw bytes, not a parsed model
            if not verify_signature(body, SECRET, request.headers.get(SIGNATURE_HEADER)):
                raise HTTPException(status_code=401)
            event = json.loads(body)
            ...
            return "ok"
    """
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError("verify_signature needs the raw request body as bytes, before JSON parsing")
    if secret is None:
        return False
    _check_secret_type(secret)
    if not secret or not isinstance(signature_header, str):
        return False
    given = signature_header.strip().lower()
    if len(given) != hashlib.sha256().digest_size * 2 or not all(c in "0123456789abcdef" for c in given):
        return False
    return hmac.compare_digest(given.encode("ascii"), sign(bytes(body), secret).encode("ascii"))


def _check_secret_type(secret: object) -> None:
    if not isinstance(secret, str):
        raise TypeError("the signature needs the webhook secret as a str (the text given as http_url_spec.secret; "
                        f"decode a bytes secret first), not {type(secret).__name__}")

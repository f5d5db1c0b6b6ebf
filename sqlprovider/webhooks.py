"""Facts about Databricks registry webhooks shared by the client and the sandbox.

Event names, statuses, the write-only fields and the delivery signature live here once, so the
resource definition, the sandbox server and receiver tools agree by construction.
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
    """Return the hex HMAC-SHA256 of the exact body bytes keyed with the webhook secret."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()

"""databricks_workspace.ml.model_registry_webhooks: the Model Registry webhooks API as data.

Columns follow the StackQL provider's order; `events`, `http_url_spec` and `job_spec` are JSON
text in SQL. The engine knows nothing of webhooks: everything specific is in this definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlprovider.resources.base import (
    PAGING_PARAMS, Column, Endpoint, ExecMethod, MethodParam, Pushdown, Resource, deployment_param, paged_list,
)
from sqlprovider.webhooks import EVENTS, REGISTRY_WIDE_ONLY_EVENTS, STATUSES, WRITE_ONLY_FIELDS


def _registry_wide_events_only_without_model(body: Mapping[str, Any]) -> str | None:
    """REGISTERED_MODEL_CREATED is only valid on a registry-wide webhook (no model_name)."""
    wrong = sorted(REGISTRY_WIDE_ONLY_EVENTS.intersection(body.get("events", ())))
    if wrong and body.get("model_name"):
        return (f"events: {', '.join(wrong)} is only valid for a registry-wide webhook; "
                f"leave model_name empty or remove {', '.join(wrong)}")
    return None


WEBHOOKS = Resource(
    name="model_registry_webhooks",
    qualified_name="databricks_workspace.ml.model_registry_webhooks",
    base_path="/api/2.0/mlflow/registry-webhooks",
    description="Workspace Model Registry webhooks: list, create, update, delete, test.",
    columns=(
        Column("id", description="Webhook ID (32 hex characters), assigned by the workspace"),
        Column("model_name", on_create=True,
               description="Model whose events trigger the webhook; empty for a registry-wide webhook"),
        Column("creation_timestamp", "INTEGER", description="Creation time, Unix milliseconds"),
        Column("description", on_create=True, on_update=True, description="Free text"),
        Column("events", kind="array", on_create=True, on_update=True, required_on_create=True,
               choices=EVENTS, description="JSON array of the events that trigger the webhook"),
        Column("http_url_spec", kind="object", on_create=True, on_update=True, required_fields=("url",),
               write_only_fields=WRITE_ONLY_FIELDS["http_url_spec"],
               fields=("url", "enable_ssl_verification", "secret", "authorization"),
               description="JSON object: url, enable_ssl_verification; write-only secret, authorization"),
        Column("job_spec", kind="object", on_create=True, on_update=True,
               required_fields=("job_id", "access_token"), write_only_fields=WRITE_ONLY_FIELDS["job_spec"],
               fields=("job_id", "workspace_url", "access_token"),
               description="JSON object: job_id, workspace_url; write-only access_token"),
        Column("last_updated_timestamp", "INTEGER", description="Last update time, Unix milliseconds"),
        Column("status", on_create=True, on_update=True, choices=STATUSES,
               description="ACTIVE (default), DISABLED or TEST_MODE"),
    ),
    params=(deployment_param(), *PAGING_PARAMS),
    key="id",
    deployment_param="deployment_name",
    immutable=("model_name",),
    list=paged_list("list", "webhooks", Pushdown("events", "events", "any_of"),
                    Pushdown("model_name", "model_name", "each")),
    create=Endpoint("POST", "create", response_key="webhook"),
    update=Endpoint("PATCH", "update", response_key="webhook"),
    delete=Endpoint("DELETE", "delete", key_location="query"),
    exec_methods=(
        ExecMethod("delete", Endpoint("DELETE", "delete", key_location="query"),
                   params=(MethodParam("id", required=True, location="query", description="Webhook ID"),),
                   description="Delete a webhook"),
        ExecMethod("test", Endpoint("POST", "test", response_key="webhook"),
                   params=(MethodParam("id", required=True, description="Webhook ID"),
                           MethodParam("event", choices=EVENTS,
                                       description="Event to simulate; default: one of the webhook's events")),
                   result_columns=("status_code", "body"),
                   description="Send a test event to the webhook and show the receiver's answer"),
    ),
    exactly_one_on_create=("http_url_spec", "job_spec"),
    at_most_one_on_update=("http_url_spec", "job_spec"),
    create_rules=(_registry_wide_events_only_without_model,),
)

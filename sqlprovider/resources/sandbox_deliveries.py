"""sqlprovider.sandbox.deliveries: the sandbox's delivery log, and event simulation, as data.

A sandbox-only resource (no Databricks workspace has it): every delivery the sandbox made, from
`test` or from `emit`, is a row; `EXEC ... .emit` simulates a registry event. It is the second
resource definition the engine serves, with no new machinery.
"""

from __future__ import annotations

from sqlprovider.resources.base import (
    PAGING_PARAMS, Column, Endpoint, ExecMethod, MethodParam, Pushdown, Resource, deployment_param, paged_list,
)
from sqlprovider.webhooks import EVENTS

DELIVERY_COLUMNS = ("webhook_id", "event", "url", "job_id", "status_code", "duration_ms", "error")

DELIVERIES = Resource(
    name="sandbox_deliveries",
    qualified_name="sqlprovider.sandbox.deliveries",
    base_path="/api/2.0/sandbox",
    description="The sandbox's delivery log (test and emitted events); EXEC .emit simulates an event.",
    sandbox_only=True,
    columns=(
        Column("id", "INTEGER", description="Delivery number, increasing"),
        Column("webhook_id", description="The webhook delivered to"),
        Column("event", description="The event delivered"),
        Column("source", description="'test' (the test endpoint) or 'emit' (a simulated event)"),
        Column("url", description="Receiver URL of an HTTP webhook (credentials and query removed)"),
        Column("job_id", description="Job of a job webhook (its run-now is simulated)"),
        Column("status_code", "INTEGER", description="The receiver's HTTP status (502/504 when unreachable)"),
        Column("duration_ms", "INTEGER", description="How long the delivery took"),
        Column("error", description="Why the delivery failed, if it did"),
        Column("delivered_at", "INTEGER", description="Unix milliseconds"),
    ),
    params=(deployment_param("The sandbox: 'sandbox' or a profile pointing at one"), *PAGING_PARAMS),
    key="id",
    deployment_param="deployment_name",
    list=paged_list("deliveries/list", "deliveries", Pushdown("webhook_id", "webhook_id", "each")),
    create=None,
    update=None,
    delete=None,
    exec_methods=(
        ExecMethod("emit", Endpoint("POST", "emit"),
                   params=(MethodParam("event", required=True, choices=EVENTS, description="The registry event"),
                           MethodParam("model_name", required=True, description="The model it happened to"),
                           MethodParam("version", description="Model version (default 1)"),
                           MethodParam("from_stage", description="Stage before a transition"),
                           MethodParam("to_stage", description="Stage after a transition"),
                           MethodParam("comment", description="Comment text")),
                   result_columns=DELIVERY_COLUMNS, result_items_key="deliveries",
                   description="Simulate a registry event: deliver it to every matching ACTIVE webhook"),
    ),
)

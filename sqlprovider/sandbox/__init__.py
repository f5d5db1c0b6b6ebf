"""The sandbox workspace: a local server speaking Databricks' registry-webhooks REST API.

State lives in a SQLite file; `test` really delivers signed events to HTTP receivers; OAuth M2M and
personal-access-token auth work as on Databricks, so the official SDK drives it unchanged. Tests add
latency and inject faults (429, 503, 500, a proxy's HTML 502). `list` pages hold 100 webhooks unless
max_results asks for another size (at most 1000). Sandbox-only extensions simulate registry events
(`Sandbox.emit`, `POST /api/2.0/sandbox/emit`) and keep a delivery log
(`GET /api/2.0/sandbox/deliveries/list`); see `sqlprovider.sandbox.extensions`.

    with Sandbox(data_path="sb.db") as sb:
        requests.get(f"{sb.url}/api/2.0/mlflow/registry-webhooks/list",
                     headers={"Authorization": f"Bearer {sb.token}"})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlprovider.sandbox.faults import FaultSpec
    from sqlprovider.sandbox.server import RecordedRequest, Sandbox

__all__ = ["FaultSpec", "RecordedRequest", "Sandbox"]


def __getattr__(name: str) -> Any:
    """Load the server (and requests) on first use, so the CLI and the receiver start quickly."""
    if name == "FaultSpec":
        from sqlprovider.sandbox.faults import FaultSpec

        return FaultSpec
    if name in ("RecordedRequest", "Sandbox"):
        from sqlprovider.sandbox import server

        return getattr(server, name)
    raise AttributeError(f"module 'sqlprovider.sandbox' has no attribute {name!r}")

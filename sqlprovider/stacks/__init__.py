"""stackql-deploy stacks for sqlprovider's resources: `sqlprovider stack build|test|teardown|plan`.

A stack directory holds `stackql_manifest.yml` (manifest.py) and `resources/*.iql` query files
(anchors.py); templates are Jinja2 with stackql-deploy's filters, values reaching SQL only as quoted
literals (templates.py); runner.py runs the flows through `sqlprovider.connect()`, and plan.py shows them.

    from sqlprovider.stacks import Stack
    report = Stack("examples/stacks/registry-webhooks", "dev").build()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlprovider.stacks.runner import Report, Stack

__all__ = ["Stack", "Report"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sqlprovider.stacks import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'sqlprovider.stacks' has no attribute {name!r}")

"""sqlprovider: manage Databricks Model Registry webhooks with SQL."""

from __future__ import annotations

__version__ = "0.1.0"

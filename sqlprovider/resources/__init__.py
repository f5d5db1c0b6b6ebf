"""Declarative resource definitions and the registry the engine looks them up in."""

from __future__ import annotations

from sqlprovider.resources.base import Resource
from sqlprovider.resources.model_registry_webhooks import WEBHOOKS
from sqlprovider.resources.sandbox_deliveries import DELIVERIES

RESOURCES: tuple[Resource, ...] = (WEBHOOKS, DELIVERIES)

#: Every name a resource answers to (short and StackQL), lower-cased.
BY_NAME: dict[str, Resource] = {
    name: r for r in RESOURCES for name in (r.name, r.qualified_name)
}


def lookup(name: str) -> Resource | None:
    return BY_NAME.get(name.lower())

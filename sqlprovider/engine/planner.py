"""Pure query planning: SQLite's constraints -> which list requests to make.

Two steps, both free of apsw and HTTP so they are unit-tested directly:

1. `plan_scan` runs when SQLite prepares a statement (from `BestIndexObject`): given the
   constraints SQLite offers, decide which to consume, in which argument order, and whether
   LIMIT/OFFSET can be handled here. The plan is JSON-serialised into SQLite's idxStr.
2. `build_scan` runs when the scan starts (from `Filter`): given the plan and the runtime
   values, produce the concrete `Scan`: the listings (one per deployment x `each` value), the
   request parameters, the local checks, and how many rows are wanted.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlprovider.errors import StatementError, ValidationError
from sqlprovider.resources.base import Pushdown, Resource, alias_conflict

LIMIT = "@limit"
OFFSET = "@offset"
MISSING_COST = 1e12  # a plan without a required parameter: chosen only if nothing else exists


@dataclass(frozen=True)
class Offer:
    """One entry of SQLite's constraint array, in planner terms."""

    column: str | None  # None for LIMIT / OFFSET
    op: str  # "eq", "limit", "offset", or another operator name ("like", "gt", ...)
    usable: bool = True
    can_take_in: bool = False  # SQLite can hand the whole IN list to one Filter call


@dataclass(frozen=True)
class Use:
    """What the plan does with one Offer."""

    argv: int  # 1-based position in Filter's arguments
    omit: bool  # SQLite need not re-check it
    whole_in: bool  # the argument is the whole IN list (a set)


@dataclass(frozen=True)
class ScanPlan:
    args: tuple[str, ...]  # column (or LIMIT/OFFSET) of each Filter argument
    whole_in: tuple[bool, ...]  # whether that argument arrives as a set
    uses: tuple[Use | None, ...]  # per offer
    missing: tuple[str, ...]  # required parameters no constraint supplies
    cost: float
    rows: int

    def to_idxstr(self) -> str:
        return json.dumps({"args": self.args, "whole_in": self.whole_in, "missing": self.missing})

    @classmethod
    def from_idxstr(cls, text: str) -> ScanPlan:
        data = json.loads(text)
        return cls(tuple(data["args"]), tuple(data["whole_in"]), (), tuple(data["missing"]), 0.0, 0)


@dataclass(frozen=True)
class Listing:
    """One paged list request sequence against one deployment."""

    deployment: str
    params: dict[str, Any] = field(default_factory=dict)  # list values repeat the query key


@dataclass(frozen=True)
class Scan:
    listings: tuple[Listing, ...]
    any_of: tuple[tuple[str, frozenset[str]], ...] = ()  # (array column, values): keep rows containing any
    key: str | None = None  # the key pinned by equality, if any
    limit: int | None = None  # rows wanted after offset (None: all)
    offset: int = 0

    @property
    def wanted(self) -> int | None:
        return None if self.limit is None else self.limit + self.offset


def plan_scan(resource: Resource, offers: Sequence[Offer], has_order_by: bool) -> ScanPlan:
    """Choose what to consume. Called at prepare time; must depend only on its arguments."""
    pushed = {p.column: p for p in resource.list.pushdowns}
    takes = {resource.deployment_param, *pushed}
    args: list[str] = []
    whole: list[bool] = []
    uses: list[Use | None] = [None] * len(offers)

    def take(i: int, column: str, omit: bool, whole_in: bool) -> None:
        args.append(column)
        whole.append(whole_in)
        uses[i] = Use(len(args), omit, whole_in)

    for i, offer in enumerate(offers):
        if not offer.usable or offer.op != "eq" or offer.column is None:
            continue
        name = resource.canonical(offer.column)  # an alias is taken as its parameter, under its own name
        if name in takes:
            mode = pushed[name].mode if name in pushed else "each"
            take(i, offer.column, omit=True, whole_in=offer.can_take_in and mode != "pass")
        elif offer.column == resource.key:
            # Not consumable (no get-by-id endpoint), but its value enables the keyed path.
            take(i, offer.column, omit=False, whole_in=False)

    others_consumed = all(
        uses[i] is not None and uses[i].omit for i, o in enumerate(offers) if o.op not in ("limit", "offset"))
    if not has_order_by and others_consumed:
        # Safe only when SQLite has nothing left to filter or sort: otherwise it would limit first.
        for i, offer in enumerate(offers):
            if offer.usable and offer.op in ("limit", "offset"):
                take(i, LIMIT if offer.op == "limit" else OFFSET, omit=True, whole_in=False)

    constrained = [resource.canonical(a) for a in args]
    missing = tuple(p.name for p in resource.params if p.required and p.name not in constrained)
    cost, rows = _estimate(constrained, pushed, missing)
    return ScanPlan(tuple(args), tuple(whole), tuple(uses), missing, cost, rows)


def _estimate(args: Iterable[str], pushed: dict[str, Pushdown], missing: Sequence[str]) -> tuple[float, int]:
    if missing:
        return MISSING_COST, 1_000_000
    rows = 1000
    for column in set(args):
        if column in pushed and pushed[column].mode != "pass":
            rows //= 10
    return float(10 * rows + 100), max(rows, 1)


def build_scan(resource: Resource, plan: ScanPlan, values: Sequence[Any], default_deployment: str | None = None) -> Scan:
    """Turn the plan and Filter's runtime values into the listings to run.

    `default_deployment` (the connection's `deployment` option) stands in when no constraint names one.
    """
    missing = [m for m in plan.missing if not (m == resource.deployment_param and default_deployment)]
    if missing:
        name = missing[0]
        raise StatementError(
            f"{resource.name} needs {name}: add WHERE {name} = '<workspace>' "
            f"(or {name} = 'sandbox' for the local sandbox workspace)")
    pushed = {p.column: p for p in resource.list.pushdowns}
    sets: dict[str, set[Any] | None] = {}  # `each`/deployment columns: allowed values (intersected)
    any_of: list[tuple[str, frozenset[str]]] = []
    params: dict[str, Any] = {}
    limit: int | None = None
    offset = 0
    key: str | None = None

    for spelling, is_whole, value in zip(plan.args, plan.whole_in, values):
        given = set(value) if is_whole else {value}
        column = resource.canonical(spelling)
        if column == LIMIT:
            limit = None if value is None or int(value) < 0 else int(value)  # SQLite: negative = no limit
        elif column == OFFSET:
            offset = max(int(value or 0), 0)
        elif column == resource.key:
            key = None if value is None else str(value)
        elif column == resource.deployment_param:
            _intersect(sets, spelling, {_deployment(spelling, v, default_deployment) for v in given if v is not None})
        elif pushed[column].mode == "each":
            present = {str(v) for v in given if v is not None and str(v).strip() != ""}
            if present or not any(v == "" for v in given):
                _intersect(sets, spelling, present)
        elif pushed[column].mode == "any_of":
            events: set[str] = set()
            for v in given:
                converted = resource.convert(resource.column(column), v) if v is not None else None
                events.update(converted or ())
            if events or not any(str(v).strip() == "" for v in given if v is not None):
                any_of.append((column, frozenset(events)))
        else:  # pass-through request parameter; '' means not given
            if value is not None and str(value).strip() != "":
                params[pushed[column].param] = _pass_value(resource, column, value)

    _fold_aliases(resource, sets)
    if resource.deployment_param not in sets and default_deployment:
        sets[resource.deployment_param] = {default_deployment}
    if any(v is not None and not v for v in sets.values()) or any(not vals for _, vals in any_of):
        return Scan((), tuple(any_of), key, limit, offset)  # a contradiction: nothing can match
    if any_of:
        column, vals = min(any_of, key=lambda cv: len(cv[1]))
        params[pushed[column].param] = sorted(vals)
    canonical_args = dict.fromkeys(resource.canonical(a) for a in plan.args)
    each_columns = [c for c in canonical_args if c in sets and c != resource.deployment_param]
    deployments = sorted(sets[resource.deployment_param] or ())
    combos = itertools.product(deployments, *(sorted(sets[c] or ()) for c in each_columns))
    listings = tuple(
        Listing(combo[0], {**params, **{pushed[c].param: v for c, v in zip(each_columns, combo[1:])}})
        for combo in combos)
    return Scan(listings, tuple(any_of), key, limit, offset)


def _intersect(sets: dict[str, set[Any] | None], column: str, values: set[Any]) -> None:
    sets[column] = values if sets.get(column) is None else sets[column] & values


def _fold_aliases(resource: Resource, sets: dict[str, set[Any] | None]) -> None:
    """Move each alias's values to its parameter; both given with different values is an error."""
    for alias, param in resource.aliases.items():
        if alias not in sets:
            continue
        values = sets.pop(alias)
        if param in sets and sets[param] != values:
            raise alias_conflict(param, alias, sets[param], values)
        sets[param] = values


def _deployment(column: str, value: Any, default: str | None) -> str:
    """The name as given (surrounding spaces are not trimmed, so deployments.check_name refuses them);
    '' is "not given", which the connection's default workspace answers if it has one."""
    text = str(value)
    if not text.strip() and default:
        return default
    if not text.strip():
        raise StatementError(f"{column} is empty: give a workspace name, e.g. {column} = 'sandbox'")
    return text


def _pass_value(resource: Resource, column: str, value: Any) -> Any:
    param = next(p for p in resource.params if p.name == column)
    if param.sql_type != "INTEGER":
        return str(value)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(f"{column} must be a whole number, got {value!r}") from None
    if number <= 0:
        raise ValidationError(f"{column} must be at least 1, got {number}")
    return number


def page_size(resource: Resource, scan: Scan, listing: Listing) -> int:
    """Rows to ask for per page: the user's max_results, else no more than the LIMIT needs."""
    endpoint = resource.list
    if endpoint.page_size_param in listing.params:
        return int(listing.params[endpoint.page_size_param])
    if scan.wanted is not None:
        return max(1, min(scan.wanted, endpoint.max_page_size))
    return endpoint.max_page_size


def describe(plan: ScanPlan) -> dict[str, Any]:
    """A plain dict of the plan, for EXPLAIN-style output and tests."""
    return asdict(plan)

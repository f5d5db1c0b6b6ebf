"""Planning is pure: SQLite's offers -> consumed constraints; runtime values -> listings."""

from __future__ import annotations

import pytest

from sqlprovider.errors import StatementError, ValidationError
from sqlprovider.engine.planner import LIMIT, OFFSET, Listing, Offer, ScanPlan, build_scan, page_size, plan_scan
from sqlprovider.resources import WEBHOOKS

DEP = Offer("deployment_name", "eq")


def plan(*offers: Offer, order_by: bool = False) -> ScanPlan:
    return plan_scan(WEBHOOKS, offers, has_order_by=order_by)


@pytest.mark.parametrize("offers, order_by, args, omitted", [
    # deployment and every pushed-down parameter are consumed
    ((DEP,), False, ("deployment_name",), (True,)),
    ((DEP, Offer("events", "eq")), False, ("deployment_name", "events"), (True, True)),
    ((DEP, Offer("model_name", "eq"), Offer("max_results", "eq"), Offer("page_token", "eq")), False,
     ("deployment_name", "model_name", "max_results", "page_token"), (True, True, True, True)),
    # the key is passed (for the keyed write path) but SQLite still checks it
    ((DEP, Offer("id", "eq")), False, ("deployment_name", "id"), (True, False)),
    # other columns and operators are left to SQLite
    ((DEP, Offer("status", "eq")), False, ("deployment_name",), (True, None)),
    ((DEP, Offer("model_name", "like")), False, ("deployment_name",), (True, None)),
    # LIMIT/OFFSET consumed when nothing is left for SQLite to filter or sort
    ((DEP, Offer(None, "limit")), False, ("deployment_name", LIMIT), (True, True)),
    ((DEP, Offer(None, "offset"), Offer(None, "limit")), False, ("deployment_name", OFFSET, LIMIT), (True, True, True)),
    ((DEP, Offer("events", "eq"), Offer(None, "limit")), False, ("deployment_name", "events", LIMIT), (True, True, True)),
    # ... but not with ORDER BY (SQLite would limit before sorting) ...
    ((DEP, Offer(None, "limit")), True, ("deployment_name",), (True, None)),
    # ... nor when SQLite still filters some rows out
    ((DEP, Offer("status", "eq"), Offer(None, "limit")), False, ("deployment_name",), (True, None, None)),
    ((DEP, Offer("id", "eq"), Offer(None, "limit")), False, ("deployment_name", "id"), (True, False, None)),
    # unusable offers are not taken
    ((Offer("deployment_name", "eq", usable=False),), False, (), (None,)),
])
def test_plan_consumes(offers, order_by, args, omitted):
    p = plan(*offers, order_by=order_by)
    assert p.args == args
    assert tuple(u.omit if u else None for u in p.uses) == omitted


def test_in_lists_taken_whole_for_pushdowns_only():
    p = plan(Offer("deployment_name", "eq", can_take_in=True), Offer("events", "eq", can_take_in=True),
             Offer("max_results", "eq", can_take_in=True))
    assert p.whole_in == (True, True, False)


def test_missing_deployment_is_costly_and_errors_at_scan():
    p = plan(Offer("model_name", "eq"))
    assert p.missing == ("deployment_name",) and p.cost >= 1e12
    with pytest.raises(StatementError, match=r"needs deployment_name: add WHERE deployment_name = '<workspace>'"):
        build_scan(WEBHOOKS, ScanPlan.from_idxstr(p.to_idxstr()), ("m",))


def test_pushdown_lowers_cost():
    assert plan(DEP, Offer("model_name", "eq")).cost < plan(DEP).cost < plan().cost


def scan(offers, values, order_by=False):
    p = ScanPlan.from_idxstr(plan(*offers, order_by=order_by).to_idxstr())
    return build_scan(WEBHOOKS, p, values)


@pytest.mark.parametrize("offers, values, listings", [
    ((DEP,), ("ws1",), [Listing("ws1", {})]),
    # events: one listing, the values repeated (the API ORs them), sorted for stable requests
    ((DEP, Offer("events", "eq", can_take_in=True)), ("ws1", {"COMMENT_CREATED", "MODEL_VERSION_CREATED"}),
     [Listing("ws1", {"events": ["COMMENT_CREATED", "MODEL_VERSION_CREATED"]})]),
    ((DEP, Offer("events", "eq")), ("ws1", '["MODEL_VERSION_CREATED", "COMMENT_CREATED"]'),
     [Listing("ws1", {"events": ["COMMENT_CREATED", "MODEL_VERSION_CREATED"]})]),
    # model_name and deployment IN: one listing per combination
    ((Offer("deployment_name", "eq", can_take_in=True), Offer("model_name", "eq", can_take_in=True)),
     ({"b", "a"}, {"m2", "m1"}),
     [Listing("a", {"model_name": "m1"}), Listing("a", {"model_name": "m2"}),
      Listing("b", {"model_name": "m1"}), Listing("b", {"model_name": "m2"})]),
    # pass-through parameters
    ((DEP, Offer("max_results", "eq"), Offer("page_token", "eq")), ("ws1", "5", "tok"),
     [Listing("ws1", {"max_results": 5, "page_token": "tok"})]),
    # '' means "not given" (the seed's template leaves unfilled optional parameters empty)
    ((DEP, Offer("events", "eq"), Offer("max_results", "eq"), Offer("model_name", "eq"), Offer("page_token", "eq")),
     ("ws1", "", "", "", ""), [Listing("ws1", {})]),
    # contradictions and NULL: no request at all
    ((DEP, Offer("model_name", "eq")), ("ws1", None), []),
    ((Offer("deployment_name", "eq"), Offer("deployment_name", "eq")), ("a", "b"), []),
])
def test_build_scan_listings(offers, values, listings):
    assert list(scan(offers, values).listings) == listings


def test_limit_offset_and_page_size():
    s = scan((DEP, Offer(None, "offset"), Offer(None, "limit")), ("ws1", 3, 10))
    assert (s.limit, s.offset, s.wanted) == (10, 3, 13)
    assert page_size(WEBHOOKS, s, s.listings[0]) == 13
    big = scan((DEP, Offer(None, "limit")), ("ws1", 5000))
    assert page_size(WEBHOOKS, big, big.listings[0]) == 1000
    explicit = scan((DEP, Offer("max_results", "eq"), Offer(None, "limit")), ("ws1", 7, 2))
    assert page_size(WEBHOOKS, explicit, explicit.listings[0]) == 7
    assert scan((DEP, Offer(None, "limit")), ("ws1", -1)).limit is None


def test_several_events_constraints_are_all_checked_locally():
    s = scan((DEP, Offer("events", "eq"), Offer("events", "eq")), ("ws1", "COMMENT_CREATED", "MODEL_VERSION_CREATED"))
    assert set(s.any_of) == {("events", frozenset({"COMMENT_CREATED"})), ("events", frozenset({"MODEL_VERSION_CREATED"}))}
    assert len(s.listings) == 1 and len(s.listings[0].params["events"]) == 1


@pytest.mark.parametrize("offers, values, message", [
    ((DEP, Offer("events", "eq")), ("ws1", "NOT_AN_EVENT"), r"events: unknown value 'NOT_AN_EVENT'; valid values are MODEL_VERSION_CREATED, "),
    ((DEP, Offer("max_results", "eq")), ("ws1", "ten"), r"max_results must be a whole number, got 'ten'"),
    ((DEP, Offer("max_results", "eq")), ("ws1", 0), r"max_results must be at least 1, got 0"),
    ((DEP,), ("  ",), r"deployment_name is empty"),
])
def test_bad_values_are_refused_before_any_request(offers, values, message):
    with pytest.raises((ValidationError, StatementError), match=message):
        scan(offers, values)

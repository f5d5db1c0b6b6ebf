"""Stage facts of registry events, pure: which stage an event names and which events one change fires.

A stage transition fires the generic event and the stage-specific one together:
`MODEL_VERSION_TRANSITIONED_STAGE` to Production also fires `MODEL_VERSION_TRANSITIONED_TO_PRODUCTION`
(and the other way round), `TRANSITION_REQUEST_CREATED` pairs with `TRANSITION_REQUEST_TO_<STAGE>_CREATED`.
A transition to the `None` stage has no specific event.
"""

from __future__ import annotations

#: Model version stages, as the registry spells them.
STAGES: tuple[str, ...] = ("None", "Staging", "Production", "Archived")

#: Generic transition event -> its stage-specific events, by stage.
_SPECIFIC: dict[str, dict[str, str]] = {
    "MODEL_VERSION_TRANSITIONED_STAGE": {s: f"MODEL_VERSION_TRANSITIONED_TO_{s.upper()}" for s in STAGES[1:]},
    "TRANSITION_REQUEST_CREATED": {s: f"TRANSITION_REQUEST_TO_{s.upper()}_CREATED" for s in STAGES[1:]},
}
#: Stage-specific event -> (generic event, stage).
_GENERIC: dict[str, tuple[str, str]] = {
    specific: (generic, stage) for generic, by_stage in _SPECIFIC.items() for stage, specific in by_stage.items()}


def canonical_stage(text: str) -> str | None:
    """`production` -> `Production`; None when `text` is not a stage."""
    return next((stage for stage in STAGES if stage.lower() == text.strip().lower()), None)


def is_transition(event: str) -> bool:
    """True for the transition events (generic and stage-specific, done and requested)."""
    return event in _SPECIFIC or event in _GENERIC


def implied_stage(event: str) -> str | None:
    """`MODEL_VERSION_TRANSITIONED_TO_STAGING` -> `Staging`; None for events naming no stage."""
    return _GENERIC[event][1] if event in _GENERIC else None


def fired_events(event: str, to_stage: str | None) -> tuple[str, ...]:
    """The events one change fires, generic first: the pair for a transition to a named stage, else `event`."""
    if event in _GENERIC:
        return _GENERIC[event][0], event
    specific = _SPECIFIC.get(event, {}).get(to_stage or "")
    return (event, specific) if specific else (event,)

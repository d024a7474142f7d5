"""The case lifecycle: which state may follow which, and the timeline entry every move leaves."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from core.models import Case, CaseEvent


class CaseState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"


S = CaseState
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.VERIFIED, S.REJECTED, S.DUPLICATE, S.CLOSED}),
    S.VERIFIED: frozenset({S.DISPATCHED, S.CLOSED}),
    S.DISPATCHED: frozenset({S.ACCEPTED, S.VERIFIED, S.CLOSED}),
    S.ACCEPTED: frozenset({S.ON_SCENE, S.RESOLVED, S.VERIFIED, S.CLOSED}),
    S.ON_SCENE: frozenset({S.RESOLVED, S.CLOSED}),
    S.RESOLVED: frozenset({S.CLOSED}),
    S.REJECTED: frozenset({S.CLOSED}),
    S.DUPLICATE: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}
OPEN_STATES = frozenset(s for s in CaseState if s not in {S.REJECTED, S.DUPLICATE, S.CLOSED, S.DRAFT})


class InvalidTransition(Exception):
    """A move the lifecycle does not allow, e.g. accepting a closed case."""


def can_move(current: CaseState | str, target: CaseState | str) -> bool:
    return CaseState(target) in TRANSITIONS[CaseState(current)]


def move(case: Case, target: CaseState, *, actor: str, at: datetime, note: str = "") -> CaseEvent:
    """Change the state and return the timeline entry to store with it."""
    if not can_move(case.state, target):
        raise InvalidTransition(f"{case.state} -> {target}")
    event = CaseEvent(case_id=case.id, at=at, actor=actor, from_state=case.state, to_state=target, note=note)
    case.state = target
    case.updated_at = at
    return event

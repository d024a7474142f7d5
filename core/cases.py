"""The case lifecycle: which state may follow which (`core.casework` makes the moves and writes the timeline)."""
from __future__ import annotations

from enum import StrEnum


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


def can_move(current: CaseState | str, target: CaseState | str) -> bool:
    return CaseState(target) in TRANSITIONS[CaseState(current)]

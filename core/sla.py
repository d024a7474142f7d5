"""The handling clock: a case's deadline, whether it was met, and when each reminder and alert falls due.

The target is a crew's acceptance within `sla_minutes` of submission (5 for fires and ambulances).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import timers
from core.cases import CaseState
from core.config import Deployment

S = CaseState
WAITING = frozenset({S.SUBMITTED, S.VERIFIED, S.DISPATCHED})  # nobody has accepted yet


@dataclass(frozen=True)
class Due:
    """One timer of the clock: `kind` fires at `at`; `version` keeps several of one kind apart."""

    kind: str
    at: datetime
    version: int = 0
    payload: dict[str, Any] = field(default_factory=dict)


async def arm(session: AsyncSession, case_id: int, due: Due) -> None:
    """Arm a clock step for the case once; its timer fires into the `case:<id>` conversation."""
    await timers.ensure(session, kind=due.kind, key=f"case:{case_id}", version=due.version, due_at=due.at,
                        payload=due.payload)


def deadline(config: Deployment, incident_type: str, submitted_at: datetime) -> datetime | None:
    it = config.incident_type(incident_type)
    return submitted_at + timedelta(minutes=it.sla_minutes) if it and it.sla_minutes else None


def plan(config: Deployment, submitted_at: datetime, due_at: datetime) -> list[Due]:
    """At submission: remind the operators, refresh the card, then alert leaders past the deadline."""
    clock = config.clock
    steps = [Due("sla.verify", submitted_at + timedelta(minutes=clock.verify_reminder_minutes)),
             Due("sla.tick", submitted_at + timedelta(minutes=clock.refresh_minutes), 1)]
    steps += [Due("sla.escalate", due_at + timedelta(minutes=step.after_minutes), i, {"role": step.role})
              for i, step in enumerate(clock.escalate)]
    return [d for d in steps if d.kind != "sla.verify" or d.at < due_at]


def reping(config: Deployment, dispatched_at: datetime, task_id: int) -> Due:
    """Ping the agency's group again if nobody has accepted this task by then."""
    return Due("sla.reping", dispatched_at + timedelta(minutes=config.clock.reping_minutes), task_id,
               {"task_id": task_id})


def next_tick(config: Deployment, now: datetime, index: int) -> Due:
    """The card refresh after this one; `index` counts refresh periods since submission."""
    return Due("sla.tick", now + timedelta(minutes=config.clock.refresh_minutes), index)


def waiting(state: str) -> bool:
    return CaseState(state) in WAITING


def outcome(*, state: str, due_at: datetime | None, accepted_at: datetime | None, closed_at: datetime | None,
            now: datetime) -> str | None:
    """"met", "missed", "pending", or None when the clock does not apply (no deadline, rejected, handled
    without a crew before the deadline)."""
    if due_at is None or state in (S.REJECTED, S.DUPLICATE, S.DRAFT):
        return None
    if accepted_at is not None:
        return "met" if accepted_at <= due_at else "missed"
    if closed_at is not None and closed_at <= due_at:
        return None
    return "missed" if now >= due_at else "pending"


def minutes_left(now: datetime, due_at: datetime) -> int:
    """Whole minutes left, rounded up (1 until the last second); negative once late."""
    seconds = (due_at - now).total_seconds()
    return math.ceil(seconds / 60) if seconds > 0 else -math.floor(-seconds / 60)

"""The call-taking standards as figures: how fast an operator touches a report and a crew gets the task.

Emergency-call answering standards ask 90 % of calls answered within 15–20 s (NENA call answering standard,
EN 112 practice); NFPA 1225 asks dispatch (verification → crew alerted) within 60 s for 90 % of calls. A chat
report is not a ringing phone, so our own target for urgent chat reports is 90 % touched by an operator within
60 s (and the dashboard sounds an alarm for one nobody has touched after `ALARM_SECONDS`), and 90 % of verified
cases get a crew task within 60 s. Drills (`Case.drill`) never count.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Case, Task

ALARM_SECONDS = 20  # an urgent report nobody has touched after 20 s sounds the dashboard's alarm
ANSWER_SECONDS = 60  # report → an operator's first action
DISPATCH_SECONDS = 60  # verification → the first crew task (NFPA 1225)
GOAL = 0.9
CHAT_INTAKES = ("telegram", "whatsapp", "web")


@dataclass(frozen=True)
class Standard:
    name: str  # "answer" (report → first operator action) | "dispatch" (verification → first crew task)
    target_seconds: int
    goal: float
    measured: int  # cases counted
    within: int  # of which within the target

    @property
    def share(self) -> float | None:
        return self.within / self.measured if self.measured else None

    @property
    def met(self) -> bool | None:
        share = self.share
        return None if share is None else share >= self.goal


def _measure(pairs: Sequence[tuple[datetime, datetime | None]], target: int, now: datetime) -> tuple[int, int]:
    """(measured, within) over (from, to) pairs: an open one counts as missed once the target has passed."""
    limit = timedelta(seconds=target)
    measured = within = 0
    for start, end in pairs:
        if end is not None:
            measured += 1
            within += end - start <= limit
        elif now - start > limit:
            measured += 1
    return measured, within


def answer(cases: Sequence[Case], now: datetime) -> Standard:
    """Urgent chat reports (not drills): submitted → an operator's first action within 60 s. A report that joined
    an open case by itself (a cluster: `operator` "system") was answered by that case's handling, not counted twice."""
    pairs = [(c.submitted_at, c.first_action_at) for c in cases
             if c.urgent and not c.drill and c.intake in CHAT_INTAKES and c.submitted_at is not None
             and c.operator != "system"]
    measured, within = _measure(pairs, ANSWER_SECONDS, now)
    return Standard("answer", ANSWER_SECONDS, GOAL, measured, within)


def dispatch(cases: Sequence[Case], first_task_at: Mapping[int, datetime], now: datetime) -> Standard:
    """Verified cases (not drills): verified → the first crew task within 60 s."""
    pairs = [(c.verified_at, first_task_at.get(c.id)) for c in cases
             if not c.drill and c.verified_at is not None]
    measured, within = _measure(pairs, DISPATCH_SECONDS, now)
    return Standard("dispatch", DISPATCH_SECONDS, GOAL, measured, within)


def call_taking(cases: Sequence[Case], first_task_at: Mapping[int, datetime],
                now: datetime) -> tuple[Standard, Standard]:
    """Both standards over cases already chosen for the window (`load` chooses: answer by submission,
    dispatch by verification); `first_task_at` maps a case id to its first task's creation."""
    return answer(cases, now), dispatch(cases, first_task_at, now)


async def load(session: AsyncSession, start: datetime, end: datetime,
               now: datetime) -> tuple[Standard, Standard]:
    """Read the cases submitted or verified in [start, end) with their first task times, then measure."""
    submitted = Case.submitted_at.is_not(None) & (Case.submitted_at >= start) & (Case.submitted_at < end)
    verified = Case.verified_at.is_not(None) & (Case.verified_at >= start) & (Case.verified_at < end)
    cases = list((await session.execute(
        select(Case).where(Case.drill.is_(False), or_(submitted, verified)))).scalars())
    ids = [c.id for c in cases if c.verified_at is not None and start <= c.verified_at < end]
    first: dict[int, datetime] = {}
    if ids:
        rows = await session.execute(
            select(Task.case_id, func.min(Task.created_at)).where(Task.case_id.in_(ids)).group_by(Task.case_id))
        first = {row[0]: row[1] for row in rows}
    answered = [c for c in cases if c.submitted_at is not None and start <= c.submitted_at < end]
    dispatched = [c for c in cases if c.verified_at is not None and start <= c.verified_at < end]
    return answer(answered, now), dispatch(dispatched, first, now)

"""The order of the dashboard's open cases: what needs an operator's action first, so an overdue urgent case
never sinks under newer reports.

1. overdue urgent cases (nobody has accepted them and the handling deadline has passed), most overdue first;
2. urgent cases still waiting, least time left first;
3. the other cases still waiting for an operator's verification, oldest first;
4. everything else (in an agency's hands), oldest first.

Within the last two the oldest comes first because it is a queue: the report that has waited longest is served
first, while a new one announces itself (sound, tab title, desktop notice) and needs no top spot to be seen.
Within each group a real case comes before a drill (LATIHAN), so an exercise never hides an emergency.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Protocol, TypeVar

from core.cases import CaseState
from core.sla import waiting
from core.standards import ALARM_SECONDS

LATEST = datetime.max.replace(tzinfo=UTC)


class OpenCase(Protocol):
    """What the order reads of a case (core.models.Case has it all)."""

    @property
    def id(self) -> int: ...
    @property
    def state(self) -> str: ...
    @property
    def urgent(self) -> bool: ...
    @property
    def drill(self) -> bool: ...
    @property
    def submitted_at(self) -> datetime | None: ...
    @property
    def sla_due_at(self) -> datetime | None: ...
    @property
    def first_action_at(self) -> datetime | None: ...


C = TypeVar("C", bound=OpenCase)


class Tier(IntEnum):
    OVERDUE_URGENT = 0
    URGENT = 1
    AWAITING_OPERATOR = 2
    REST = 3


def overdue(case: OpenCase, now: datetime) -> bool:
    """Still waiting for a crew and past its deadline."""
    return case.sla_due_at is not None and waiting(case.state) and case.sla_due_at <= now


def tier(case: OpenCase, now: datetime) -> Tier:
    if case.urgent and waiting(case.state):
        return Tier.OVERDUE_URGENT if overdue(case, now) else Tier.URGENT
    return Tier.AWAITING_OPERATOR if case.state == CaseState.SUBMITTED else Tier.REST


def order(cases: Iterable[C], now: datetime) -> list[C]:
    """The open cases in the order an operator should look at them (see the module's docstring)."""
    def key(case: C) -> tuple[int, bool, datetime, datetime, int]:
        group = tier(case, now)
        due = (case.sla_due_at or LATEST) if group <= Tier.URGENT else LATEST
        return group, case.drill, due, case.submitted_at or LATEST, case.id
    return sorted(cases, key=key)


def needs_action(case: OpenCase, now: datetime) -> bool:
    """Counted in the tab title: a report no operator has verified yet, or an overdue case still waiting."""
    return case.state == CaseState.SUBMITTED or overdue(case, now)


def alarm(case: OpenCase, now: datetime) -> bool:
    """An urgent report nobody has touched `ALARM_SECONDS` after it arrived: the dashboard sounds its alarm."""
    return (case.urgent and case.first_action_at is None and case.state == CaseState.SUBMITTED
            and case.submitted_at is not None and now - case.submitted_at >= timedelta(seconds=ALARM_SECONDS))

"""The handling clock's arithmetic (core/sla.py): deadlines, the steps planned, whether a deadline was met."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from core import sla
from core.config import Clock, Escalation
from core.models import Timer

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_deadline_is_the_types_minutes_after_submission_or_none(config):
    assert sla.deadline(config, "fire", T0) == T0 + minutes(5)
    assert sla.deadline(config, "crime", T0) == T0 + minutes(15)
    assert sla.deadline(config, "water_outage", T0) is None  # no sla_minutes: no clock
    assert sla.deadline(config, "no_such_type", T0) is None


def test_plan_reminds_refreshes_then_alerts_each_role_after_the_deadline(config):
    due = T0 + minutes(5)
    assert sla.plan(config, T0, due) == [
        sla.Due("sla.verify", T0 + minutes(1)),
        sla.Due("sla.tick", T0 + minutes(1), 1),
        sla.Due("sla.escalate", due, 0, {"role": "kabid"}),
        sla.Due("sla.escalate", due + minutes(5), 1, {"role": "kepala_dinas"}),
    ]


def test_plan_has_no_reminder_that_would_fall_after_the_deadline(config):
    slow = config.model_copy(update={"clock": Clock(verify_reminder_minutes=10, escalate=[])})
    assert [d.kind for d in sla.plan(slow, T0, T0 + minutes(5))] == ["sla.tick"]
    assert [d.kind for d in sla.plan(slow, T0, T0 + minutes(30))] == ["sla.verify", "sla.tick"]
    one = config.model_copy(update={"clock": Clock(escalate=[Escalation(role="bupati", after_minutes=2)])})
    assert sla.plan(one, T0, T0 + minutes(5))[-1] == sla.Due("sla.escalate", T0 + minutes(7), 0, {"role": "bupati"})


def test_reping_and_next_tick(config):
    assert sla.reping(config, T0, 42) == sla.Due("sla.reping", T0 + minutes(2), 42, {"task_id": 42})
    assert sla.next_tick(config, T0, 3) == sla.Due("sla.tick", T0 + minutes(1), 3)


@pytest.mark.parametrize("state, waits", [("submitted", True), ("verified", True), ("dispatched", True),
                                          ("accepted", False), ("closed", False), ("rejected", False)])
def test_waiting_means_nobody_accepted_yet(state, waits):
    assert sla.waiting(state) is waits


@pytest.mark.parametrize("state, accepted, closed, now, expected", [
    ("accepted", 4, None, 10, "met"),
    ("accepted", 5, None, 10, "met"),  # on the minute still counts
    ("closed", 6, 20, 30, "missed"),
    ("closed", None, 3, 30, None),  # handled without a crew before the deadline
    ("closed", None, 7, 30, "missed"),
    ("dispatched", None, None, 4, "pending"),
    ("dispatched", None, None, 5, "missed"),
    ("rejected", None, None, 30, None),
    ("duplicate", None, None, 30, None),
    ("draft", None, None, 30, None),
])
def test_outcome(state, accepted, closed, now, expected):
    at = lambda n: None if n is None else T0 + minutes(n)  # noqa: E731
    assert sla.outcome(state=state, due_at=T0 + minutes(5), accepted_at=at(accepted), closed_at=at(closed),
                       now=at(now)) == expected


def test_outcome_without_a_deadline_is_none():
    assert sla.outcome(state="dispatched", due_at=None, accepted_at=None, closed_at=None, now=T0) is None


@pytest.mark.parametrize("seconds, left", [(300, 5), (241, 5), (240, 4), (1, 1), (0, 0), (-59, 0), (-60, -1),
                                           (-119, -1), (-120, -2)])
def test_minutes_left_rounds_up_then_counts_whole_minutes_late(seconds, left):
    assert sla.minutes_left(T0, T0 + timedelta(seconds=seconds)) == left


async def test_arm_sets_a_step_once_on_the_cases_conversation(sessions):
    async with sessions() as session, session.begin():
        await sla.arm(session, 7, sla.Due("sla.escalate", T0, 1, {"role": "kabid"}))
        await sla.arm(session, 7, sla.Due("sla.escalate", T0 + minutes(9), 1, {"role": "kabid"}))  # armed: kept
        await sla.arm(session, 7, sla.Due("sla.escalate", T0, 2, {"role": "bupati"}))
    async with sessions() as session:
        rows = (await session.execute(select(Timer).order_by(Timer.version))).scalars().all()
    assert [(r.kind, r.key, r.version, r.due_at, r.payload) for r in rows] == [
        ("sla.escalate", "case:7", 1, T0, {"role": "kabid"}), ("sla.escalate", "case:7", 2, T0, {"role": "bupati"})]

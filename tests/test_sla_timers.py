"""The clock's timer handlers (bots/services/sla_timers.py) on real databases: each step once, only while due."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bots.services import sla_timers
from bots.services.events import timer_event
from core import casework, outbox, retention, sla
from core.clock import FakeClock
from core.messages import Address, Outbound, Priority
from core.models import CaseEvent, Reporter, Timer
from core.repository import create_case

OPERATOR = "telegram:1001"
CREW = "telegram:3001"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def fire_case(s, config, clock: FakeClock, ticket: str = "SMP-00-00-01"):
    """A fire report just submitted, its deadline 5 minutes away (as bots/services/submission.py sets it)."""
    reporter = Reporter(channel="telegram", external_id=f"50{ticket[-2:]}", name="Budi", language="id")
    s.add(reporter)
    await s.flush()
    now = clock.now()
    case = await create_case(s, reporter=reporter, chat=f"telegram:{reporter.external_id}", ticket=ticket,
                             incident_type="fire", urgent=True, language="id", latitude=-7.0, longitude=113.8,
                             address_text=None, description=None, photo_media_id=None, started_at=now, now=now)
    case.sla_due_at = sla.deadline(config, "fire", now)
    return case


async def fire(s, config, case, kind: str, clock: FakeClock, **payload) -> list[Outbound]:
    """The timer as the worker delivers it: an inbox event on the case's conversation."""
    event = timer_event({"kind": kind, "key": f"case:{case.id}", "payload": payload})
    assert sla_timers.is_clock_event(event)
    return await sla_timers.handle(s, config, event, clock.now())


def operators(config) -> Address:
    return Address("telegram", str(config.operators.telegram_chat_id))


async def notes(s, case) -> list[str]:
    return list((await s.execute(select(CaseEvent.note).where(CaseEvent.case_id == case.id, CaseEvent.note != "")
                                 .order_by(CaseEvent.id))).scalars())


async def test_the_operators_are_reminded_once_of_a_report_still_waiting(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        clock.advance(minutes=1)
        [reminder] = await fire(s, config, case, "sla.verify", clock)
        assert reminder.to == operators(config) and reminder.priority == Priority.URGENT
        assert case.ticket in reminder.text and reminder.case_id == case.id
        assert await fire(s, config, case, "sla.verify", clock) == []  # armed twice: said once
        assert await notes(s, case) == ["sla:verify_reminder"]


async def test_no_reminder_for_a_report_verified_meanwhile(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        await casework.verify(s, case, OPERATOR, ["damkar"], clock.now())
        clock.advance(minutes=1)
        assert await fire(s, config, case, "sla.verify", clock) == []
        assert "sla:verify_reminder" not in await notes(s, case)


async def test_no_reminder_while_the_card_itself_waits_to_be_sent(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        await outbox.enqueue(s, Outbound(to=operators(config), text="card", ref=f"card:{case.id}"), clock.now(),
                             group=True)
        clock.advance(minutes=1)
        assert await fire(s, config, case, "sla.verify", clock) == []
        assert await notes(s, case) == []  # not spent: a later reminder may still come


async def test_a_dispatched_task_nobody_accepts_is_repinged_once(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        [task] = await casework.verify(s, case, OPERATOR, ["damkar"], clock.now())
        await s.flush()
        clock.advance(minutes=2)
        [ping] = await fire(s, config, case, "sla.reping", clock, task_id=task.id)
        assert ping.to == Address("telegram", str(config.agency("damkar").telegram_chat_id))
        assert case.ticket in ping.text
        assert await fire(s, config, case, "sla.reping", clock, task_id=task.id) == []


async def test_no_reping_once_the_crew_accepted(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        [task] = await casework.verify(s, case, OPERATOR, ["damkar"], clock.now())
        casework.accept(s, case, task, CREW, "Regu A", 10, clock.now())
        await s.flush()
        clock.advance(minutes=2)
        assert await fire(s, config, case, "sla.reping", clock, task_id=task.id) == []


async def test_leaders_of_the_role_are_alerted_once_past_the_deadline(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        clock.advance(minutes=5)
        alerts = await fire(s, config, case, "sla.escalate", clock, role="kabid")
        assert len(alerts) == len(config.leaders("kabid")) >= 1
        assert all(a.template == "status_update" and case.ticket in a.text for a in alerts)
        assert await fire(s, config, case, "sla.escalate", clock, role="kabid") == []
        assert await fire(s, config, case, "sla.escalate", clock, role="kepala_dinas") != []  # another step


async def test_no_alert_for_an_accepted_case_nor_for_one_without_a_deadline(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        [task] = await casework.verify(s, case, OPERATOR, ["damkar"], clock.now())
        casework.accept(s, case, task, CREW, "Regu A", 10, clock.now())
        clock.advance(minutes=5)
        assert await fire(s, config, case, "sla.escalate", clock, role="kabid") == []
        other = await fire_case(s, config, clock, "SMP-00-00-02")
        other.sla_due_at = None
        assert await fire(s, config, other, "sla.escalate", clock, role="kabid") == []


async def test_a_tick_refreshes_the_cards_in_the_background_and_plans_the_next(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        await casework.verify(s, case, OPERATOR, ["damkar"], clock.now())
        await s.flush()
        clock.advance(minutes=1, seconds=5)
        out = await fire(s, config, case, "sla.tick", clock)
        assert out and all(m.priority == Priority.BACKGROUND for m in out)
        assert out[0].to == operators(config) and out[0].edit_of == f"card:{case.id}"
        assert len(out) == 2  # and the damkar crew's task card, still waiting for an acceptance
        next_tick = (await s.execute(select(Timer).where(Timer.kind == "sla.tick"))).scalar_one()
        assert (next_tick.key, next_tick.version) == (f"case:{case.id}", 2)
        assert abs((next_tick.due_at - clock.now()).total_seconds() - 60) < 2


async def test_no_tick_once_accepted(sessions, config, clock):
    async with sessions() as s, s.begin():
        case = await fire_case(s, config, clock)
        [task] = await casework.verify(s, case, OPERATOR, ["damkar"], clock.now())
        casework.accept(s, case, task, CREW, "Regu A", 10, clock.now())
        clock.advance(minutes=1)
        assert await fire(s, config, case, "sla.tick", clock) == []
        assert await s.scalar(select(func.count()).select_from(Timer)) == 0


async def test_the_calendar_is_planned_once_per_day_whoever_plans_it(sessions, config, clock):
    async with sessions() as s, s.begin():
        for _ in range(3):  # every process plans it at start
            await sla_timers.plan_calendar(s, config, clock.now())
        rows = (await s.execute(select(Timer).order_by(Timer.kind))).scalars().all()
        assert sorted(r.kind for r in rows) == ["digest", retention.STAGING_TIMER, "retention"]
        digest = next(r for r in rows if r.kind == "digest")
        assert digest.key == sla_timers.DIGEST_KEY and digest.due_at > clock.now()
        assert digest.due_at - clock.now() <= timedelta(days=1)


async def test_the_digest_goes_to_every_leader_and_plans_tomorrows(sessions, config, clock):
    async with sessions() as s, s.begin():
        await sla_timers.plan_calendar(s, config, clock.now())
        first = (await s.execute(select(Timer).where(Timer.kind == "digest"))).scalar_one()
        now = clock.advance(seconds=(first.due_at - clock.now()).total_seconds() + 1)
        event = timer_event({"kind": "digest", "key": sla_timers.DIGEST_KEY, "payload": {}})
        sent = await sla_timers.handle(s, config, event, now)
        expected = len(config.leadership) + len(config.digest.telegram_chat_ids)
        assert len(sent) == len({str(m.to) for m in sent}) == expected
        assert all(m.template == "status_update" for m in sent)
        await sla_timers.handle(s, config, event, now)  # delivered twice: still one row for tomorrow
        days = sorted(r.version for r in (await s.execute(select(Timer).where(Timer.kind == "digest"))).scalars())
        assert len(days) == 2 and days[1] > days[0]


async def test_the_retention_pass_plans_the_next_night(sessions, config, clock):
    async with sessions() as s, s.begin():
        await sla_timers.arm_retention(s, config, clock.now())
        first = (await s.execute(select(Timer).where(Timer.kind == "retention"))).scalar_one()
        now = clock.advance(seconds=(first.due_at - clock.now()).total_seconds() + 1)
        event = timer_event({"kind": "retention", "key": sla_timers.RETENTION_KEY, "payload": {}})
        assert await sla_timers.handle(s, config, event, now) == []
        nights = (await s.execute(select(Timer).where(Timer.kind == "retention").order_by(Timer.due_at))).scalars()
        first_due, next_due = [r.due_at for r in nights]
        assert next_due - first_due == timedelta(days=1)

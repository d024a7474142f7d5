"""The 5-minute clock with a controllable clock: reminder, re-ping, leaders' alerts, exactly once each,
also across a worker restart; a case accepted in time produces none of them."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import FakeClock
from core.models import Case, CaseEvent
from tests.conftest import fresh_database_url
from tests.e2e_support import CITIZEN, OPERATORS, card_text, press, report_fire, texts
from tests.harness import eventually, gateway
from tests.images import phone_jpeg
from tests.test_e2e_casework import DAMKAR, OPERATOR, REGU_A, card_of, case_id_of, task_card, task_id_of

KEPALA_DINAS, KABID = 2001, 2002
REMINDER, REPING, ALERT = "belum diverifikasi", "PANGGILAN ULANG", "BATAS WAKTU TERLEWATI"


def move_to(clock: FakeClock, at: datetime) -> None:
    clock.advance(seconds=(at - clock.now()).total_seconds())


def count(fake, chat: int, fragment: str) -> int:
    return sum(fragment in (m.get("text") or m.get("caption") or "") for m in fake.sent(chat))


async def case_row(gw, ticket: str) -> Case:
    async with gw.deps.sessions() as s:
        return (await s.execute(select(Case).where(Case.ticket == ticket))).scalar_one()


async def clock_notes(gw, case_id: int) -> list[str]:
    async with gw.deps.sessions() as s:
        notes = (await s.execute(select(CaseEvent.note).where(CaseEvent.case_id == case_id))).scalars()
        return sorted(n for n in notes if n.startswith("sla:"))


@pytest.mark.parametrize("shape", ["embedded", "production"])
async def test_an_urgent_case_nobody_accepts_escalates_once_each_step_across_a_restart(
        shape, fake, tmp_path, redis_url, config):
    clock = FakeClock()
    url = await fresh_database_url("sqlite" if shape == "embedded" else "postgres", tmp_path)
    extra = {} if shape == "embedded" else {"redis_url": redis_url, "run_worker": False, "workers": 1}
    async with gateway(fake, url, clock=clock, **extra) as gw:
        ticket = await report_fire(fake, phone_jpeg())
        case = await case_row(gw, ticket)
        t0 = case.submitted_at
        assert case.sla_due_at == t0 + timedelta(minutes=5)
        card = await card_of(fake, ticket, "case:verify")
        assert "Sisa 5 menit sampai batas" in card["caption"]
        move_to(clock, t0 + timedelta(seconds=50))
        await asyncio.sleep(1.5)  # the timer loop polls every second: give it a chance to fire early
        assert count(fake, OPERATORS, REMINDER) == 0
        move_to(clock, t0 + timedelta(seconds=61))
        await eventually(lambda: count(fake, OPERATORS, REMINDER) == 1, timeout=40)
        await eventually(lambda: "Sisa 4 menit" in card_text(fake, OPERATORS, ticket), timeout=40)

        card = await card_of(fake, ticket, "case:verify")
        await press(fake, OPERATOR, card, f"op:verify:{case_id_of(card)}")
        await task_card(fake, DAMKAR, ticket, "task:accept")
        dispatched = (await case_row(gw, ticket)).dispatched_at

    async with gateway(fake, url, clock=clock, **extra) as gw:  # the worker restarts: timers are rows
        move_to(clock, dispatched + timedelta(minutes=2, seconds=1))
        await eventually(lambda: count(fake, DAMKAR, REPING) == 1, timeout=40)
        assert count(fake, KABID, ALERT) == 0
        move_to(clock, t0 + timedelta(minutes=5, seconds=1))
        await eventually(lambda: count(fake, KABID, ALERT) == 1, timeout=40)
        alert = next(m["text"] for m in fake.sent(KABID) if ALERT in (m.get("text") or ""))
        assert ticket in alert and "Pemadam Kebakaran" in alert  # names the case and who is holding it
        assert count(fake, KEPALA_DINAS, ALERT) == 0
        await eventually(lambda: "LEWAT BATAS" in card_text(fake, OPERATORS, ticket),
                         timeout=40)

    async with gateway(fake, url, clock=clock, **extra) as gw:
        move_to(clock, t0 + timedelta(minutes=10, seconds=1))
        await eventually(lambda: count(fake, KEPALA_DINAS, ALERT) == 1, timeout=40)
        move_to(clock, t0 + timedelta(minutes=30))
        await asyncio.sleep(3)
        assert (count(fake, OPERATORS, REMINDER), count(fake, DAMKAR, REPING), count(fake, KABID, ALERT),
                count(fake, KEPALA_DINAS, ALERT)) == (1, 1, 1, 1)
        task = task_id_of(await task_card(fake, DAMKAR, ticket, "task:accept"))
        assert await clock_notes(gw, case.id) == ["sla:escalate:kabid", "sla:escalate:kepala_dinas",
                                                  f"sla:reping:{task}", "sla:verify_reminder"]
    assert fake.limit_violations == []


async def test_a_case_accepted_in_time_produces_no_reminder_and_no_alert(fake, tmp_path, config):
    clock = FakeClock()
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), clock=clock) as gw:
        ticket = await report_fire(fake, phone_jpeg())
        t0 = (await case_row(gw, ticket)).submitted_at
        card = await card_of(fake, ticket, "case:verify")
        await press(fake, OPERATOR, card, f"op:verify:{case_id_of(card)}")
        task_card_ = await task_card(fake, DAMKAR, ticket, "task:accept")
        await press(fake, REGU_A, task_card_, f"tk:eta:{task_id_of(task_card_)}:10")
        await eventually(lambda: "perkiraan tiba 10 menit" in texts(fake, CITIZEN), timeout=40)
        for minutes in (1, 3, 5, 11, 30):
            move_to(clock, t0 + timedelta(minutes=minutes, seconds=1))
            await asyncio.sleep(1.5)
        case = await case_row(gw, ticket)
        assert case.accepted_at is not None and case.accepted_at <= case.sla_due_at
        assert await clock_notes(gw, case.id) == []
        assert (count(fake, OPERATORS, REMINDER), count(fake, DAMKAR, REPING), count(fake, KABID, ALERT),
                count(fake, KEPALA_DINAS, ALERT)) == (0, 0, 0, 0)
        await eventually(lambda: "✅ (target 5 menit)" in card_text(fake, OPERATORS, ticket),
                         timeout=40)

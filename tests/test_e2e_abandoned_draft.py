"""An urgent report left unfinished reaches the operators once; "Jadikan kasus" makes it a case, and only one."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from core.clock import FakeClock
from core.i18n import t
from core.models import Case
from tests.conftest import fresh_database_url
from tests.e2e_support import (
    CITIZEN,
    OPERATORS,
    SUMENEP,
    answer_for,
    asked,
    buttons,
    press,
    start_fire_report,
    wait_new,
)
from tests.harness import eventually, gateway

OPERATOR, CREW = 1001, 3001


def draft_cards(fake) -> list[dict]:
    return [m for m in fake.sent(OPERATORS) if t("id", "draft.card_head") in (m.get("text") or "")]


async def cases(gw) -> list[Case]:
    async with gw.deps.sessions() as s:
        return list((await s.execute(select(Case))).scalars())


@pytest.mark.parametrize("shape", ["embedded", "production"])
async def test_an_abandoned_fire_report_reaches_the_operators_once_and_becomes_a_case(
        shape, fake, tmp_path, redis_url, config):
    clock = FakeClock()
    url = await fresh_database_url("sqlite" if shape == "embedded" else "postgres", tmp_path)
    extra = {} if shape == "embedded" else {"redis_url": redis_url, "run_worker": False, "workers": 1}
    async with gateway(fake, url, clock=clock, **extra) as gw:
        since = await start_fire_report(fake)
        await fake.send_location(CITIZEN, *SUMENEP)  # the pin first (urgent); the photo is still asked for
        await wait_new(fake, CITIZEN, asked("talk.pin_received"), since)
        clock.advance(minutes=config.clock.abandoned_draft_minutes - 0.5)
        await asyncio.sleep(1.5)  # the timer loop polls every second: give it a chance to fire early
        assert draft_cards(fake) == []
        clock.advance(minutes=0.5, seconds=5)
        [card] = await eventually(lambda: draft_cards(fake), timeout=40)
        text = card["text"]
        assert t("id", "draft.contact_telegram", id=str(CITIZEN)) in text and "Budi" in text
        assert "🔥 Kebakaran" in text and f"query={SUMENEP[0]:.5f},{SUMENEP[1]:.5f}" in text
        [data] = buttons(card)
        assert data.startswith("draft:make:")
        assert "Budi" not in "".join(m.get("text") or "" for m in fake.sent(CITIZEN)[since:])  # nothing to the citizen

        clock.advance(minutes=config.conversation.reminder_minutes)  # the citizen's reminder fires, no second card
        await wait_new(fake, CITIZEN, t("id", "report.reminder"), since)
        await asyncio.sleep(1.5)
        assert len(draft_cards(fake)) == 1

        refused = await press(fake, CREW, card, data)
        assert await answer_for(fake, refused) == t("id", "desk.not_operator")
        made = await press(fake, OPERATOR, card, data)
        answer = await answer_for(fake, made)
        [case] = await cases(gw)
        assert answer == t("id", "draft.made_answer", ticket=case.ticket)
        assert (case.incident_type, case.urgent, case.state) == ("fire", True, "submitted")
        assert (case.latitude, case.longitude) == SUMENEP
        told = await wait_new(fake, CITIZEN, case.ticket, since)
        assert t("id", "draft.citizen_made", ticket=case.ticket, number="112") in told["text"]
        await eventually(lambda: any(case.ticket in (m.get("text") or m.get("caption") or "")
                                     and any(b.startswith("case:verify") for b in buttons(m))
                                     for m in fake.sent(OPERATORS)), timeout=40)
        await eventually(lambda: t("id", "draft.made", ticket=case.ticket, name="Operator Satu")
                         in (draft_cards(fake)[0].get("text") or ""))
        assert buttons(draft_cards(fake)[0]) == []  # the card was edited in place, its button gone

        again = await press(fake, OPERATOR, card, data)
        assert await answer_for(fake, again) == t("id", "draft.gone")
        before = len(fake.sent(CITIZEN))
        await fake.send_text(CITIZEN, "Gudang kayu terbakar")  # what would have been the description
        await wait_new(fake, CITIZEN, "Kebakaran?", before)  # a new report begins with these words; no second case
        assert len(await cases(gw)) == 1 and len(draft_cards(fake)) == 1


async def test_a_report_the_citizen_finishes_first_is_not_made_twice(fake, tmp_path, config):
    clock = FakeClock()
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), clock=clock) as gw:
        since = await start_fire_report(fake)
        clock.advance(minutes=config.clock.abandoned_draft_minutes, seconds=5)
        [card] = await eventually(lambda: draft_cards(fake), timeout=40)
        assert t("id", "draft.location_none") in card["text"]
        await fake.send_location(CITIZEN, *SUMENEP)
        await wait_new(fake, CITIZEN, asked("report.ask_photo_optional"), since)
        await fake.press_button(CITIZEN, fake.sent(CITIZEN)[-1], "skip")
        await wait_new(fake, CITIZEN, asked("talk.ask_phone"), since)
        await fake.send_text(CITIZEN, "lewati")
        confirm = await eventually(lambda: next((m for m in reversed(fake.sent(CITIZEN))
                                                 if "confirm:send" in buttons(m)), None))
        await fake.press_button(CITIZEN, confirm, "confirm:send")
        await wait_new(fake, CITIZEN, asked("report.submitted_urgent"), since)
        made = await press(fake, OPERATOR, card, buttons(card)[0])
        assert await answer_for(fake, made) == t("id", "draft.gone")
        assert len(await cases(gw)) == 1

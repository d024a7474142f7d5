"""Reports of one incident join one case by themselves: one card counts them, every reporter hears every step.

Unit tests of the rule and the join on SQLite and PostgreSQL (simultaneous joins on PostgreSQL), the card, the
case page listing the joined reports and their photos, and end to end on both shapes: three citizens report one
fire, one card shows 3 reports, one verification and one closing answer all three; another cluster is rejected
and both its reporters hear it, each in their own language.
"""
from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bots.services import cluster, dashboard_actions
from core import accounts, casework
from core.db import utcnow
from core.i18n import t
from core.messages import Address
from core.models import Case, CaseEvent, Media, Reporter
from core.repository import create_case
from core.same_incident import cluster_for
from tests.conftest import fresh_database_url
from tests.e2e_support import (
    CITIZEN,
    OPERATORS,
    SUMENEP,
    TICKET,
    buttons,
    card_text,
    last_with_button,
    press,
    report_fire,
    wait_text,
)
from tests.harness import eventually
from tests.images import phone_jpeg
from tests.test_e2e_casework import OPERATOR, card_of, case_id_of, load
from tests.test_web_pages import PASSWORD, sign_in, web
from workflows.cards import CaseView, Joined, report_text

METRE = 1 / 111_320  # degrees of latitude per metre
LEADERS = (2001, 2002, 2003)


def fragment(lang: str, key: str, **params: object) -> str:
    """The text of `key` up to its first placeholder left open, to wait for (the rest may vary)."""
    return t(lang, key, **params, number="112").split("\n")[0]


async def reporter(s, n: int, lang: str = "id", name: str = "Warga", phone: str | None = None) -> Reporter:
    who = Reporter(channel="telegram", external_id=str(8100 + n), name=name, language=lang, phone=phone)
    s.add(who)
    await s.flush()
    return who


async def fire(s, n: int, metres_north: float = 0.0, minutes_ago: float = 0, who: Reporter | None = None,
               photo: int | None = None, kind: str = "fire") -> Case:
    who = who or await reporter(s, n)
    at = utcnow() - timedelta(minutes=minutes_ago)
    return await create_case(s, reporter=who, chat=f"telegram:{who.external_id}", ticket=f"SMP-33-33-{n:02d}",
                             incident_type=kind, urgent=True, language=who.language,
                             latitude=SUMENEP[0] + metres_north * METRE, longitude=SUMENEP[1], address_text=None,
                             description=f"asap {n}", photo_media_id=photo, started_at=at, now=at)


async def test_a_report_joins_the_nearest_case_still_being_handled_by_someone_else(sessions, config):
    async with sessions() as s, s.begin():
        target = await fire(s, 1, metres_north=120, minutes_ago=10)
        resolved = await fire(s, 2, metres_north=10, minutes_ago=9)
        resolved.state = "resolved"                                       # the crew is done: maybe a new fire
        drill = await fire(s, 3, metres_north=5, minutes_ago=8)
        drill.drill = True                                                # a rehearsal never mixes with the real
        closed = await fire(s, 4, metres_north=2, minutes_ago=7)
        casework.close(s, closed, "telegram:1001", utcnow())
        worried = await reporter(s, 5)
        own = await fire(s, 5, metres_north=1, minutes_ago=6, who=worried)  # theirs: the operators judge
        again = await fire(s, 6, who=worried)
        assert (await cluster_for(s, again, config)).id == target.id
        new = await fire(s, 7, metres_north=1)
        assert (await cluster_for(s, new, config)).id == own.id         # someone else's: nearest wins
        far = await fire(s, 8, metres_north=2000)
        assert await cluster_for(s, far, config) is None
        smoke = await fire(s, 9, kind="flood")
        assert await cluster_for(s, smoke, config) is None


async def test_joining_counts_the_report_edits_the_one_card_and_tells_the_reporter(sessions, config):
    async with sessions() as s, s.begin():
        first = await fire(s, 1, minutes_ago=5)
        second = await fire(s, 2, metres_north=20, who=await reporter(s, 2, "en", "Siti", "+6281200000002"))
        out = await cluster.join(s, config, second, utcnow())
        assert (second.state, second.duplicate_of_id, first.report_count) == ("duplicate", first.id, 2)
        card, told = out
        assert card.edit_of == f"card:{first.id}" and card.to == Address("telegram", str(OPERATORS))
        assert "📣 2 laporan" in card.text and f"↳ {second.ticket}" in card.text and "+6281200000002" in card.text
        assert "❝Siti❞" in card.text
        assert told.to == Address("telegram", "8102")
        assert told.text == t("en", "cluster.joined_waiting", ticket=second.ticket, other=first.ticket, count=2,
                              number="112")
        assert not [m for m in out if m.to.id in map(str, LEADERS)]  # leaders heard of the incident once

        third = await fire(s, 3, metres_north=-20)
        out = await cluster.join(s, config, third, utcnow())
        assert first.report_count == 3 and "PRIORITAS DINAIKKAN: 3 laporan" in out[0].text
        assert third.ticket in out[0].text and second.ticket in out[0].text
        events = list((await s.execute(select(CaseEvent).where(CaseEvent.case_id == first.id))).scalars())
        assert [e.note for e in events if e.actor == "system"] == [f"merged:{second.ticket}", f"merged:{third.ticket}"]

        manual = config.model_copy(update={"duplicates": config.duplicates.model_copy(update={"auto_join": False})})
        apart = await fire(s, 4, metres_north=5)
        assert await cluster.join(s, manual, apart, utcnow()) is None and apart.state == "submitted"
        casework.close(s, apart, "telegram:1001", utcnow())

        casework.record(s, first, "telegram:1001", utcnow(), to="verified")
        fourth = await fire(s, 5, metres_north=3)
        told = (await cluster.join(s, config, fourth, utcnow()))[-1]
        assert told.text.startswith(fragment("id", "cluster.joined_handled", ticket=fourth.ticket,
                                             other=first.ticket, count=4))


@pytest.mark.parametrize("backend", ["postgres"])
async def test_simultaneous_joins_each_count(sessions, config):
    """Two reports joining one case at once: the second waits for the first's lock, and both are counted."""
    async with sessions() as s, s.begin():
        first_id = (await fire(s, 1, minutes_ago=5)).id
        ids = [(await fire(s, n, metres_north=10 * n)).id for n in (2, 3)]
    gate = asyncio.Event()

    async def join(case_id: int, hold: bool) -> None:
        async with sessions() as s, s.begin():
            await cluster.join(s, config, await s.get(Case, case_id), utcnow())
            if hold:
                gate.set()
                await asyncio.sleep(0.5)  # the other join reads the case meanwhile, and must wait
    first_join = asyncio.create_task(join(ids[0], True))
    await gate.wait()
    await join(ids[1], False)
    await first_join
    async with sessions() as s:
        assert (await s.get(Case, first_id)).report_count == 3


def test_the_card_shows_the_count_and_the_latest_who_joined(config):
    view = CaseView(id=1, ticket="SMP-10-10-10", state="submitted", incident_type="fire", urgent=True,
                    submitted_at=utcnow(), updated_at=utcnow(), reporter_name="Budi", channel="telegram",
                    contact="+6281200000001", report_count=2,
                    joined=(Joined("SMP-20-20-20", utcnow(), "Ani\nStatus: selesai", "Chat Telegram"),))
    text = report_text(view, config)
    assert "📣 2 laporan" in text and "↳ SMP-20-20-20 · " in text
    assert "❝Ani Status: selesai❞" in text  # a name stays someone's words, on one line
    more = report_text(replace(view, report_count=9), config)
    assert t("id", "cluster.card_more", count=7) in more


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_case_page_lists_the_joined_reports_and_their_photos_for_staff_only(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        photo = phone_jpeg()
        async with deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
            media = Media(sha256="b" * 64, mime="image/jpeg", size=len(photo), width=10, height=10, original=photo,
                          clean=photo)
            s.add(media)
            await s.flush()
            first = await fire(s, 1, minutes_ago=3)
            joined = await fire(s, 2, metres_north=30, photo=media.id,
                                who=await reporter(s, 2, name="Ani", phone="+6281200000002"))
            await cluster.join(s, config, joined, utcnow())
            tickets, media_id = (first.ticket, joined.ticket), media.id
        assert (await client.get(f"/dashboard/media/{media_id}")).status_code != 200  # not signed in
        await sign_in(client, "op1")
        page = await client.get(f"/dashboard/cases/{tickets[0]}")
        assert page.status_code == 200
        assert t("id", "cluster.page_title", count=1) in page.text
        assert f'href="/dashboard/cases/{tickets[1]}"' in page.text and "Ani" in page.text
        assert f'src="/dashboard/media/{media_id}"' in page.text
        shown = await client.get(f"/dashboard/media/{media_id}")
        assert shown.status_code == 200 and shown.content == photo
        assert t("id", "cluster.page_title", count=1) not in (await client.get(f"/dashboard/cases/{tickets[1]}")).text


# --- end to end: citizens in their chats, operators in their group -------------------------------------------


async def report_at(fake, user: int, lat: float, lon: float, lang: str = "id") -> str:
    """Another citizen reports a fire by buttons (no photo, no description) at a pin; returns the ticket."""
    fake.user(user, f"Warga {user}", language_code=lang)
    since = len(fake.sent(user))

    def last(fragment: str) -> bool:
        return fragment in (fake.sent(user)[-1].get("text") or "") if fake.sent(user) else False
    await fake.send_text(user, "/start")
    await fake.press_button(user, await eventually(lambda: last_with_button(fake, user, "type:fire")), "type:fire")
    await eventually(lambda: last(t(lang, "report.ask_location")[:12]), timeout=40)  # urgent: where first
    await fake.send_location(user, lat, lon)
    await eventually(lambda: "skip" in buttons(fake.sent(user)[-1]), timeout=40)
    await fake.press_button(user, fake.sent(user)[-1], "skip")  # no photo
    await eventually(lambda: last(t(lang, "talk.ask_phone")[:12]), timeout=40)
    await fake.send_text(user, "skip" if lang == "en" else "lewati")  # no call-back number
    await eventually(lambda: "confirm:send" in buttons(fake.sent(user)[-1]), timeout=40)
    await fake.press_button(user, fake.sent(user)[-1], "confirm:send")
    done = await eventually(lambda: next((m["text"] for m in fake.sent(user)[since:]
                                          if TICKET.search(m.get("text") or "")), None), timeout=40)
    return TICKET.search(done).group(0)


def report_cards(fake) -> set[str]:
    """The tickets of every report card the operators' group ever got (by the card's first line)."""
    heads = ((m.get("text") or m.get("caption") or "").split("\n")[0] for m in fake.sent(OPERATORS))
    return {found.group(0) for head in heads if "LAPORAN" in head and (found := TICKET.search(head))}


async def test_three_citizens_report_one_fire_one_card_one_verification_answers_all(fake, gw):
    first = await report_fire(fake, phone_jpeg())  # Budi, with a photo, at the pin
    first_id = case_id_of(await card_of(fake, first, "case:verify"))
    second = await report_at(fake, 5002, SUMENEP[0] - 15 * METRE, SUMENEP[1])  # 15 m away, moments later
    await wait_text(fake, 5002, fragment("id", "cluster.joined_waiting", ticket=second, other=first, count=2))
    third = await report_at(fake, 5003, SUMENEP[0] + 25 * METRE, SUMENEP[1], "en")
    await wait_text(fake, 5003, fragment("en", "cluster.joined_waiting", ticket=third, other=first, count=3))
    await eventually(lambda: "PRIORITAS DINAIKKAN: 3 laporan" in card_text(fake, OPERATORS, first), timeout=40)
    assert second in card_text(fake, OPERATORS, first) and third in card_text(fake, OPERATORS, first)
    assert report_cards(fake) == {first}  # one card for the three reports

    card = await card_of(fake, first, "case:verify")
    await press(fake, OPERATOR, card, f"op:verify:{first_id}")
    for user, lang, ticket in ((CITIZEN, "id", first), (5002, "id", second), (5003, "en", third)):
        await wait_text(fake, user, t(lang, "notice.verified", ticket=ticket, agencies="|").split("|")[0])

    late = await report_at(fake, 5006, SUMENEP[0], SUMENEP[1] + 10 * METRE)  # while the crew is on its way
    await wait_text(fake, 5006, fragment("id", "cluster.joined_handled", ticket=late, other=first, count=4))

    # another fire 2 km away: its own card; a second report joins it; the operator rejects it once
    other = await report_at(fake, 5004, SUMENEP[0] + 2000 * METRE, SUMENEP[1])
    other_card = await card_of(fake, other, "case:verify")
    other_id = case_id_of(other_card)
    echo = await report_at(fake, 5005, SUMENEP[0] + 2010 * METRE, SUMENEP[1], "en")
    await wait_text(fake, 5005, fragment("en", "cluster.joined_waiting", ticket=echo, other=other, count=2))
    await press(fake, OPERATOR, other_card, f"op:reject:{other_id}")
    menu = await card_of(fake, other, f"case:reject_why:{other_id}:hoax")
    await press(fake, OPERATOR, menu, f"op:rr:{other_id}:hoax")
    await wait_text(fake, 5004, t("id", "notice.rejected_hoax", ticket=other, number="112"))
    await wait_text(fake, 5005, t("en", "notice.rejected_hoax", ticket=echo, number="112"))
    assert report_cards(fake) == {first, other}

    result = await dashboard_actions.submit(gw.deps, "op1", "Operator Satu", f"case:close:{first_id}")
    assert not result.refused
    for user, lang, ticket in ((CITIZEN, "id", first), (5002, "id", second), (5003, "en", third),
                               (5006, "id", late)):
        await wait_text(fake, user, t(lang, "notice.closed", ticket=ticket))

    cases = {c.ticket: c for c in await load(gw, Case)}
    assert cases[first].report_count == 4 and cases[other].report_count == 2
    assert {cases[x].duplicate_of_id for x in (second, third, late)} == {first_id}
    assert cases[echo].duplicate_of_id == other_id
    assert fake.limit_violations == []

"""A surge (core/surge.py, bots/services/surge.py): detected from reports and waiting cards, drills left out;
urgent cards reach on-duty operators in private while the group is saturated; leaders get one summary
instead of a notice per report; citizens are told many reports are coming in."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bots.services import outgoing, sla_timers, submission
from bots.services import surge as surge_service
from bots.services.events import timer_event
from core import casework, outbox, roster, surge
from core.clock import FakeClock
from core.i18n import t
from core.messages import Address, Outbound
from core.models import Case, OutboxItem, Reporter, Timer
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.e2e_support import (
    TICKET,
    answer_for,
    asked,
    buttons,
    find,
    last_with_button,
    press,
    texts,
)
from tests.harness import eventually, gateway

KEPALA, KABID, BUPATI = "telegram:2001", "telegram:2002", "telegram:2003"
SURGE_WORD = t("id", "surge.citizen", ticket="X", number="112").split(".")[0]  # "⏳ Saat ini banyak laporan…"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def with_surge(config, **values):
    """The example deployment with these `surge` settings and a single operators' group."""
    return config.model_copy(update={"surge": config.surge.model_copy(update=values),
                                     "operators": config.operators.model_copy(update={"desks": []})})


async def report(s, clock: FakeClock, n: int, kind: str = "fire", *, urgent: bool = True, drill: bool = False,
                 minutes_ago: float = 0) -> Case:
    reporter = Reporter(channel="telegram", external_id=str(5100 + n), name=f"Warga {n}", language="id")
    s.add(reporter)
    await s.flush()
    at = clock.now() - timedelta(minutes=minutes_ago)
    case = await create_case(s, reporter=reporter, chat=f"telegram:{5100 + n}", ticket=f"SMP-00-00-{n:02d}",
                             incident_type=kind, urgent=urgent, language="id", latitude=-7.0 - n / 100,
                             longitude=113.8, address_text=None, description=None, photo_media_id=None,
                             started_at=at, now=at)
    case.drill = drill
    await s.flush()
    return case


async def queue_cards(s, config, count: int, chat: str | None = None, clock: FakeClock | None = None) -> None:
    """New cards waiting for an operators' group's limit."""
    to = Address("telegram", chat or str(config.operators.telegram_chat_id))
    for n in range(count):
        await outbox.enqueue(s, Outbound(to=to, text=f"card {n}", ref=f"card:{9000 + n}"),
                             (clock or FakeClock()).now(), group=True)


# ---- detection, on SQLite and PostgreSQL ----

async def test_a_surge_is_so_many_reports_within_the_window_and_drills_do_not_count(sessions, config, clock):
    cfg = with_surge(config, reports=3, window_minutes=10)
    async with sessions() as s, s.begin():
        await report(s, clock, 1)
        await report(s, clock, 2, "flood", urgent=False)
        await report(s, clock, 3, drill=True)
        await report(s, clock, 4, minutes_ago=11)  # before the window
        assert not await surge.surging(s, cfg, clock.now())
        await report(s, clock, 5)
        assert await surge.surging(s, cfg, clock.now())
        clock.advance(minutes=10, seconds=1)
        assert not await surge.surging(s, cfg, clock.now())


async def test_a_group_with_enough_cards_waiting_is_saturated_and_makes_a_surge(sessions, config, clock):
    cfg = with_surge(config, batch_after=2, reports=50)
    async with sessions() as s, s.begin():
        await queue_cards(s, cfg, 1)
        assert not await surge.saturated(s, cfg, None) and not await surge.surging(s, cfg, clock.now())
        await queue_cards(s, cfg, 1, clock=clock)
        await outbox.enqueue(s, Outbound(to=Address("telegram", "-100200"), text="other desk", ref="card:1"),
                             clock.now(), group=True)
        main = str(cfg.operators.telegram_chat_id)
        assert await surge.saturated(s, cfg, None) and await surge.saturated(s, cfg, main)
        assert not await surge.saturated(s, cfg, "-100200")  # another desk has its own queue
        assert await surge.surging(s, cfg, clock.now())


async def test_a_group_whose_cards_were_just_folded_into_a_list_is_still_saturated(sessions, config, clock):
    cfg = with_surge(config, batch_after=2, reports=50)
    async with sessions() as s, s.begin():
        await queue_cards(s, cfg, 1, clock=clock)
        folded = (await s.execute(select(OutboxItem))).scalar_one()
        folded.status = "batched"  # went out as a line of a list (bots/pipeline/sender.py)
        assert not await surge.saturated(s, cfg, None)  # nothing waits
        assert await surge.saturated(s, cfg, None, clock.now())  # but the group is showing lists
        assert await surge.surging(s, cfg, clock.now())
        clock.advance(minutes=1, seconds=1)
        assert not await surge.saturated(s, cfg, None, clock.now()) and not await surge.surging(s, cfg, clock.now())


async def test_the_summary_counts_the_periods_reports_and_the_oldest_still_waiting(sessions, config, clock):
    async with sessions() as s, s.begin():
        oldest = await report(s, clock, 1, minutes_ago=30)  # before the period, still unverified
        await report(s, clock, 2)
        verified = await report(s, clock, 3)
        await casework.verify(s, verified, "telegram:1001", ["damkar"], clock.now())
        await report(s, clock, 4, "flood", urgent=False)
        await report(s, clock, 5, drill=True)
        fig = await surge.summary(s, clock.now() - timedelta(minutes=5))
        assert fig.by_type == {"fire": 2, "flood": 1} and fig.total == 3 and fig.urgent == 2
        assert fig.unverified == 3  # 1, 2 and 4: every real report still waiting, the drill left out
        assert fig.oldest is not None and fig.oldest.ticket == oldest.ticket


# ---- leaders and citizens ----

async def test_in_a_surge_leaders_hear_no_notice_per_report_and_the_citizen_is_told(sessions, config, clock):
    cfg = with_surge(config, reports=2, leader_summary_minutes=5)
    async with sessions() as s, s.begin():
        calm = await report(s, clock, 1)
        out = await submission.on_submitted(s, cfg, calm, clock.now())
        assert {str(m.to) for m in out} >= {KEPALA, KABID, BUPATI}  # a fire: each of them hears of it
        assert not any(SURGE_WORD in m.text for m in out)
        assert (await s.execute(select(Timer).where(Timer.kind == surge_service.SUMMARY_TIMER))).first() is None

        for n in (2, 3):
            case = await report(s, clock, n)
            out = await submission.on_submitted(s, cfg, case, clock.now())
            assert not {str(m.to) for m in out} & {KEPALA, KABID, BUPATI}
            word = out[0]  # first, so it joins the ticket message
            assert str(word.to) == case.chat and SURGE_WORD in word.text and case.ticket in word.text
            assert "112" in word.text
        [timer] = (await s.execute(select(Timer).where(Timer.kind == surge_service.SUMMARY_TIMER))).scalars()
        assert timer.key == surge_service.SUMMARY_KEY and timer.due_at > clock.now()  # one row, armed twice

        drill = await report(s, clock, 4, drill=True)
        assert not any(SURGE_WORD in m.text for m in await submission.on_submitted(s, cfg, drill, clock.now()))


async def fire_summary(s, cfg, clock: FakeClock) -> list[Outbound]:
    event = timer_event({"kind": surge_service.SUMMARY_TIMER, "key": surge_service.SUMMARY_KEY, "payload": {}})
    assert sla_timers.is_clock_event(event)
    return await sla_timers.handle(s, cfg, event, clock.now())


async def pending_summaries(s) -> list[Timer]:
    return list((await s.execute(select(Timer).where(Timer.kind == surge_service.SUMMARY_TIMER,
                                                     Timer.status == "pending"))).scalars())


async def test_the_summary_goes_to_leaders_who_would_have_heard_and_is_rearmed_while_the_surge_lasts(
        sessions, config, clock):
    cfg = with_surge(config, reports=2, window_minutes=10, leader_summary_minutes=5)
    async with sessions() as s, s.begin():
        for n in (1, 2, 3):
            await report(s, clock, n, "flood", urgent=False)
        out = await fire_summary(s, cfg, clock)
        assert [str(m.to) for m in out] == [KABID]  # floods: only the leader who hears every new report
        text = out[0].text
        assert "3 laporan" in text and "Banjir: 3" in text and "SMP-00-00-01" in text
        assert out[0].template == "status_update"
        assert t("id", "surge.summary_no_operator") in text  # nobody checked in: said here, not once per report
        [armed] = await pending_summaries(s)
        assert armed.due_at > clock.now()

        await report(s, clock, 4)  # a fire: the Bupati (major) and the Kepala Dinas (urgent) would have heard
        await roster.check_in(s, "telegram:1001", roster.OPERATOR, clock.now(), 12)
        out = await fire_summary(s, cfg, clock)
        assert {str(m.to) for m in out} == {KEPALA, KABID, BUPATI}
        assert t("id", "surge.summary_no_operator") not in out[0].text

        clock.advance(minutes=3)
        calm_cfg = with_surge(config, reports=50, window_minutes=10, leader_summary_minutes=5)
        last = await fire_summary(s, calm_cfg, clock)  # calm again: a last summary of the tail, not re-armed
        assert last and t("id", "surge.summary_calm") in last[0].text
        assert len(await pending_summaries(s)) == 1  # only the one armed while it lasted
        clock.advance(minutes=6)
        assert await fire_summary(s, calm_cfg, clock) == []  # nothing in the period: nothing said


# ---- first eyes ----

async def test_an_urgent_report_reaches_on_duty_operators_privately_while_the_group_is_saturated(
        sessions, config, clock):
    cfg = with_surge(config, batch_after=2, reports=50)
    async with sessions() as s, s.begin():
        fire = await report(s, clock, 1)
        flood = await report(s, clock, 2, "flood", urgent=False)
        assert not [m for m in await submission.on_submitted(s, cfg, fire, clock.now()) if "@" in m.ref]
        await queue_cards(s, cfg, 2, clock=clock)
        copies = [m for m in await submission.on_submitted(s, cfg, fire, clock.now()) if "@" in m.ref]
        # nobody checked in: every operator on Telegram rather than nobody
        assert {str(m.to) for m in copies} == {"telegram:1001", "telegram:1002", "telegram:1003"}
        await roster.check_in(s, "telegram:1002", roster.OPERATOR, clock.now(), 12)
        [copy] = [m for m in await submission.on_submitted(s, cfg, fire, clock.now()) if "@" in m.ref]
        assert copy.to == Address("telegram", "1002") and copy.ref == f"card:{fire.id}@telegram:1002"
        assert copy.choices and fire.ticket in copy.text
        assert not [m for m in await submission.on_submitted(s, cfg, flood, clock.now()) if "@" in m.ref]
        off = with_surge(config, batch_after=2, reports=50, private_copies=False)
        assert not [m for m in await submission.on_submitted(s, off, fire, clock.now()) if "@" in m.ref]


# ---- end to end, over the fake Telegram ----

async def reports_at_once(gw, cfg, kinds: list[str]) -> list[str]:
    """Reports of these (non-urgent) types, kilometres apart, submitted at once as the citizens' flow does
    (bots/services/events.py): the operators' group gets their cards together. Their tickets."""
    tickets = []
    async with gw.deps.sessions() as s, s.begin():
        now = gw.deps.clock.now()
        for n, kind in enumerate(kinds):
            reporter = Reporter(channel="telegram", external_id=str(6000 + n), name=f"Warga {n}", language="id")
            s.add(reporter)
            await s.flush()
            case = await create_case(s, reporter=reporter, chat=f"telegram:{6000 + n}", ticket=f"SMN-00-00-{n:02d}",
                                     incident_type=kind, urgent=False, language="id", latitude=-6.9 - n / 20,
                                     longitude=113.9, address_text=None, description=None, photo_media_id=None,
                                     started_at=now, now=now)
            await outgoing.queue(gw.deps, s, await submission.on_submitted(s, cfg, case, now), now)
            tickets.append(case.ticket)
    await gw.deps.coord.wake("outbox")
    return tickets


async def saturated(gw, config) -> bool:
    async with gw.deps.sessions() as s:
        return await surge.saturated(s, config, None, gw.deps.clock.now())


async def up_to_confirm(fake, user: int, lat: float, lon: float) -> dict:
    """A citizen reports a fire by buttons (no photo, no number) up to the summary with its send button."""
    fake.user(user, f"Warga {user}", language_code="id")
    await fake.send_text(user, "/start")
    await fake.press_button(user, await eventually(lambda: last_with_button(fake, user, "type:fire")), "type:fire")
    await eventually(lambda: asked("report.ask_location") in texts(fake, user), timeout=40)
    await fake.send_location(user, lat, lon)
    await eventually(lambda: "skip" in buttons(fake.sent(user)[-1]), timeout=40)
    await fake.press_button(user, fake.sent(user)[-1], "skip")  # no photo
    await eventually(lambda: asked("talk.ask_phone") in texts(fake, user), timeout=40)
    await fake.send_text(user, "lewati")  # no call-back number
    return await eventually(lambda: last_with_button(fake, user, "confirm:send"), timeout=40)


async def confirm(fake, user: int, summary: dict) -> str:
    """Send the report; the ticket the bot gives."""
    since = len(fake.sent(user))
    await fake.press_button(user, summary, "confirm:send")
    done = await eventually(lambda: next((m["text"] for m in fake.sent(user)[since:]
                                          if TICKET.search(m.get("text") or "")), None), timeout=40)
    return TICKET.search(done).group(0)


def private_copy(fake, user: int, ticket: str) -> dict | None:
    for message in reversed(fake.sent(user)):
        if ticket in (message.get("text") or message.get("caption") or "") and buttons(message):
            return message
    return None


@pytest.fixture(params=["embedded", "production"])
async def surge_gw(request, fake, tmp_path, redis_url, config):
    """The gateway (as tests/conftest.py's `gw`) with a small surge: 2 waiting cards saturate, 2 reports surge."""
    cfg = with_surge(config, batch_after=2, reports=2, window_minutes=10, leader_summary_minutes=0.2)
    if request.param == "embedded":
        async with gateway(fake, await fresh_database_url("sqlite", tmp_path), config=cfg) as g:
            yield g, cfg
    else:
        async with gateway(fake, await fresh_database_url("postgres", tmp_path), config=cfg, redis_url=redis_url,
                           run_worker=False, workers=2) as g:
            yield g, cfg


async def test_in_a_surge_an_urgent_report_reaches_the_operator_on_duty_who_owns_it_and_leaders_get_a_summary(
        fake, surge_gw):
    gw, cfg = surge_gw
    for operator in (1001, 1002):  # on duty; Operator Tiga (1003) is not
        await fake.send_text(operator, "/masuk")
        await eventually(lambda op=operator: "mulai piket" in texts(fake, op), timeout=40)
    ready = await up_to_confirm(fake, 5004, -6.9800, 113.8300)  # a fire, on the summary with its send button
    for n in range(4):
        fake.user(6000 + n, f"Warga {n}", language_code="id")
        fake.start_private(6000 + n)
    earlier = await reports_at_once(gw, cfg, ["flood", "fallen_tree", "landslide", "water_outage"])
    await eventually(lambda: saturated(gw, cfg), timeout=40)  # four new cards at once: a list, not four cards
    third = await confirm(fake, 5004, ready)

    copy = await eventually(lambda: private_copy(fake, 1002, third), timeout=40)
    other = await eventually(lambda: private_copy(fake, 1001, third), timeout=40)
    assert private_copy(fake, 1003, third) is None  # not on duty
    assert not any(private_copy(fake, 1002, ticket) for ticket in earlier)  # not urgent: the group only
    case_id = int(next(b for b in buttons(copy) if b.startswith("case:verify")).split(":")[2])

    await press(fake, 1002, copy, f"case:verify:{case_id}")  # the first to act, in their private chat
    await eventually(lambda: "Operator: Operator Dua" in shown(fake, 1001, third), timeout=40)  # the other copy
    late = await press(fake, 1001, other, f"case:verify:{case_id}")
    assert await answer_for(fake, late) == t("id", "desk.owned_by_other")  # the case is Operator Dua's
    async with gw.deps.sessions() as s:
        case = (await s.execute(select(Case).where(Case.ticket == third))).scalar_one()
        assert case.operator == "telegram:1002" and case.state != "submitted"
        copies = (await s.execute(select(OutboxItem.ref).where(OutboxItem.ref.like("card:%@%")))).scalars()
        assert {r.split("@")[1] for r in copies} == {"telegram:1001", "telegram:1002"}

    await eventually(lambda: SURGE_WORD in texts(fake, 5004), timeout=40)  # with the ticket, in the surge
    await eventually(lambda: find(fake, 2002, "📊"), timeout=40)  # the Kabid's summary
    notices = [m.get("text") or "" for m in fake.sent(2002) if "Laporan baru" in (m.get("text") or "")]
    assert third not in "\n".join(notices)  # in the surge: no notice per report, a summary instead
    assert sum(x.count("Laporan baru") for x in notices) <= 1, notices  # the first, while it was calm
    assert not fake.limit_violations


def shown(fake, user: int, ticket: str) -> str:
    message = find(fake, user, ticket) or {}
    return message.get("caption") or message.get("text") or ""

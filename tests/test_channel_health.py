"""Honest channels: what is wrong with Telegram or WhatsApp (a revoked token, repeated 5xx, stuck messages, dead
letters) computed from the outbox, recorded by the real sender against the fake Bot API, and shown by /readyz,
/metrics and the dashboard's banner; an agency no chat reaches is phoned, and the citizen is told so."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from bots.app import build_deps, start_channels, stop_deps
from bots.pipeline.sender import Sender
from bots.services import dashboard_actions
from bots.web import channel_banner
from core import channel_health, outbox
from core.channel_health import Row, classify, summarize
from core.config import ChannelHealth as HealthSettings
from core.i18n import t
from core.messages import Address, Outbound
from core.models import OutboxItem, Reporter
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.e2e_support import CITIZEN, OPERATORS, find, latest_card, press, report_fire
from tests.harness import eventually, gateway, settings_for
from tests.images import phone_jpeg
from tests.test_operator_desk import OPERATORS as DESK_OPERATORS
from tests.test_operator_desk import REPORTER
from tests.test_operator_desk import ctx as desk_ctx
from tests.test_operator_desk import view as desk_view
from workflows import crew_reach, operator_desk
from workflows.cards import TaskView, agency_name

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
STUCK = timedelta(minutes=3)
DAMKAR = -1001000000101


def row(status="pending", failure="", minutes=0, attempts=0, ticket=None, channel="telegram") -> Row:
    return Row(channel, status, attempts, failure, NOW - timedelta(minutes=minutes), ticket)


# --- the pure summary ---------------------------------------------------------------------------------------


def test_a_channel_with_no_troubled_rows_is_ok():
    health = summarize([], ["telegram", "whatsapp"], NOW, STUCK)
    assert {name: (h.state, h.reason, h.tickets) for name, h in health.items()} == {
        "telegram": ("ok", None, ()), "whatsapp": ("ok", None, ())}


def test_a_revoked_token_takes_the_channel_down_at_once_and_names_its_cases():
    rows = [row(failure="auth_revoked", minutes=1, ticket="SMP-11-11-11"),
            row(failure="auth_revoked", minutes=5, ticket="SMP-22-22-22"),
            row(minutes=4, ticket="SMP-22-22-22"), row(channel="whatsapp", minutes=1)]
    health = summarize(rows, ["telegram", "whatsapp"], NOW, STUCK)
    tg = health["telegram"]
    assert (tg.state, tg.reason, tg.up) == ("down", "auth_revoked", False)
    assert (tg.stuck, tg.failing, tg.oldest_stuck_seconds) == (2, 2, 300)
    assert tg.tickets == ("SMP-22-22-22", "SMP-11-11-11")  # oldest first, each once
    assert health["whatsapp"].state == "ok"  # a fresh message waiting is normal


def test_repeated_server_errors_degrade_the_channel_and_take_it_down_once_messages_are_stuck():
    fresh = summarize([row(failure="server_error", attempts=2)], ["telegram"], NOW, STUCK)["telegram"]
    assert (fresh.state, fresh.reason) == ("degraded", "server_errors")
    once = summarize([row(failure="server_error", attempts=1)], ["telegram"], NOW, STUCK)["telegram"]
    assert once.state == "ok"  # one 5xx is retried, not a banner
    stuck = summarize([row(failure="server_error", attempts=3, minutes=10, ticket="SMP-33-33-33")],
                      ["telegram"], NOW, STUCK)["telegram"]
    assert (stuck.state, stuck.reason, stuck.tickets) == ("down", "server_errors", ("SMP-33-33-33",))


def test_stuck_messages_and_dead_letters_degrade_but_a_blocked_citizen_does_not():
    stuck = summarize([row(failure="rate_limited", minutes=3, ticket="SMP-44-44-44")], ["telegram"], NOW, STUCK)
    assert (stuck["telegram"].state, stuck["telegram"].reason, stuck["telegram"].stuck) == ("degraded", "stuck", 1)
    dead = summarize([row("dead", "other", minutes=30, ticket="SMP-55-55-55")], ["telegram"], NOW, STUCK)
    assert (dead["telegram"].state, dead["telegram"].reason, dead["telegram"].dead_letters) == (
        "degraded", "dead_letters", 1)
    blocked = summarize([row("dead", "recipient", minutes=30)], ["telegram"], NOW, STUCK)
    assert (blocked["telegram"].state, blocked["telegram"].dead_letters) == ("ok", 0)


def test_the_ticket_list_is_bounded():
    rows = [row(minutes=10 + i, ticket=f"SMP-00-00-{i:02d}") for i in range(30)]
    tickets = summarize(rows, ["telegram"], NOW, STUCK)["telegram"].tickets
    assert len(tickets) == channel_health.MAX_TICKETS and tickets[0] == "SMP-00-00-29"


def test_stored_errors_are_classified_without_keeping_their_words():
    assert [classify(e) for e in (None, "auth_revoked: telegram 401", "server_error: whatsapp 131000",
                                  "telegram 429", "forbidden: bot was blocked by the user",
                                  "outside the 24-hour window (131047)", "bad request: chat not found",
                                  "ConnectError: [Errno 111] to +6281234567890")] == [
        "", "auth_revoked", "server_error", "rate_limited", "recipient", "recipient", "recipient", "other"]
    public = summarize([row(failure="auth_revoked", ticket="SMP-11-11-11")], ["telegram"], NOW, STUCK)
    assert "tickets" not in public["telegram"].public() and "SMN" not in str(public["telegram"].public())


# --- no crew channel: pure decisions ----------------------------------------------------------------------------


def test_an_agency_without_group_or_whatsapp_member_is_phoned_and_the_citizen_told_the_truth(config):
    lonely = config.model_copy(update={"agencies": [
        a.model_copy(update={"telegram_chat_id": None, "members": [m for m in a.members if not m.whatsapp]})
        if a.code == "polres" else a for a in config.agencies]})
    assert crew_reach.unreached(lonely, ["damkar", "polres"], None) == ["polres"]
    assert crew_reach.unreached(config, ["damkar", "polres"], None) == []
    # Telegram off or down: Damkar is still reached on WhatsApp (a member there), Polres only by phone.
    assert crew_reach.unreached(config, ["damkar", "polres"], frozenset({"whatsapp"})) == ["polres"]
    assert crew_reach.unreached(config, ["damkar", "polres"], frozenset()) == ["damkar", "polres"]
    polres, before = lonely.agency("polres"), desk_view()
    said = crew_reach.verified_notices((REPORTER,), ["polres"], ["polres"], lonely, before)
    assert said[0].text == t("id", "channels.verified_by_phone", ticket=before.ticket, number="112",
                             agencies=agency_name(lonely, "polres", "id"))
    assert "diteruskan" not in said[0].text and "lewat telepon" in said[0].text
    alert = crew_reach.phone_alert(before, ["polres"], lonely)
    assert alert.to == DESK_OPERATORS and polres.phone in alert.text and before.ticket in alert.text
    mixed = crew_reach.verified_notices((REPORTER,), ["damkar", "polres"], ["polres"], lonely, before)
    assert "Damkar" in mixed[0].text and polres.name.id in mixed[0].text and "lewat telepon" in mixed[0].text


def test_verifying_while_no_chat_reaches_the_crew_tells_operators_to_phone_and_the_citizen_the_truth(config):
    before = desk_view()
    decision = operator_desk.Verify(("damkar",))
    after = desk_view("dispatched", TaskView(7, "damkar", "dispatched"))
    outcome = operator_desk.Outcome(after, (REPORTER,), new_tasks=(7,))
    damkar = config.agency("damkar")
    offline = operator_desk.messages(decision, before, outcome, desk_ctx(config, live=frozenset()))
    assert any(damkar.phone in (m.text or "") and m.to == DESK_OPERATORS for m in offline.messages)
    assert damkar.phone in offline.answer
    citizen = [m.text for m in offline.messages if str(m.to) == "telegram:5001"]
    assert citizen and all("lewat telepon" in x and "diteruskan" not in x for x in citizen)
    online = operator_desk.messages(decision, before, outcome, desk_ctx(config, live=frozenset({"telegram"})))
    assert not any(damkar.phone in (m.text or "") for m in online.messages)
    assert [m.text for m in online.messages if str(m.to) == "telegram:5001"] == [
        t("id", "notice.verified", ticket=before.ticket, number="112", agencies=agency_name(config, "damkar", "id"))]


# --- the real sender against the fake Bot API ------------------------------------------------------------------


async def _case(session, ticket: str, channel: str = "telegram", external_id: str = str(CITIZEN)):
    reporter = Reporter(channel=channel, external_id=external_id, name="Budi", language="id")
    session.add(reporter)
    await session.flush()
    return await create_case(session, reporter=reporter, chat=f"{channel}:{external_id}", ticket=ticket,
                             incident_type="fire", urgent=True, language="id", latitude=None, longitude=None,
                             address_text="Pasar", description=None, photo_media_id=None, started_at=NOW, now=NOW)


async def test_the_sender_records_a_revoked_token_and_5xx_and_the_outbox_says_so(fake, backend, tmp_path, config):
    url = await fresh_database_url(backend, tmp_path)
    deps = build_deps(settings_for(fake, url, None, 0), config)
    await start_channels(deps)
    try:
        now = deps.clock.now()
        async with deps.sessions() as s, s.begin():
            case = await _case(s, "SMP-70-70-70")
            for text in ("tugas 1", "tugas 2"):
                await outbox.enqueue(s, Outbound(to=Address("telegram", str(DAMKAR)), text=text, case_id=case.id),
                                     now, group=True)
            await outbox.enqueue(s, Outbound(to=Address("telegram", str(CITIZEN)), text="halo"), now)
        fake.fail_next("sendMessage", error_code=500, chat_id=CITIZEN)
        sender = Sender(deps)
        await sender.run_once()
        async with deps.sessions() as s:
            items = {i.chat_id: i for i in (await s.execute(select(OutboxItem))).scalars()}
        citizen = items[str(CITIZEN)]
        assert (citizen.status, citizen.attempts, citizen.last_error) == ("pending", 1, "server_error: telegram 500")

        fake.revoke_token()
        calls = len(fake.calls)
        async with deps.sessions() as s, s.begin():  # due again now: the sender must not wait out the backoff
            for item in (await s.execute(select(OutboxItem))).scalars():
                item.not_before = now
        await sender.run_once()
        assert any(c.status == 401 for c in fake.calls[calls:])
        async with deps.sessions() as s:
            items = list((await s.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars())
        assert [i.status for i in items] == ["sent", "pending", "pending"]  # sent before the revocation
        waiting = items[1:]  # kept for the renewed token, not dead-lettered
        assert {i.last_error.split(":")[0] for i in waiting} == {"auth_revoked"}
        assert [i.attempts for i in waiting] == [0, 1]  # a refused token does not burn the retries
        calls = len(fake.calls)
        async with deps.sessions() as s, s.begin():
            for item in (await s.execute(select(OutboxItem))).scalars():
                item.not_before = now
        await sender.run_once()
        assert len(fake.calls) == calls  # the channel is paused: no blind retry of each message

        async with deps.sessions() as s:
            health = await channel_health.observe(s, now + timedelta(minutes=4), ["telegram"], HealthSettings())
        tg = health["telegram"]
        assert (tg.state, tg.reason, tg.tickets) == ("down", "auth_revoked", ("SMP-70-70-70",))
        assert tg.stuck == 2 and tg.oldest_stuck_seconds >= 240
    finally:
        await stop_deps(deps)


# --- end to end: /readyz, /metrics, and the desk when Telegram is down ------------------------------------------


async def test_readyz_and_metrics_explain_a_revoked_token_and_the_next_dispatch_is_phoned(fake, backend, tmp_path,
                                                                                          config):
    url = await fresh_database_url(backend, tmp_path)
    async with gateway(fake, url, config=config) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["channels"]["telegram"]["state"] == "ok"
        ticket = await report_fire(fake, phone_jpeg())
        card = await eventually(lambda: latest_card(fake, OPERATORS, ticket))
        fake.revoke_token()
        await press(fake, config.operators.members[0].telegram_user_id, card,
                    next(b for b in _buttons(card) if b.startswith("case:verify")))

        async def down():
            body = (await client.get("/readyz")).json()
            return body if body["channels"]["telegram"]["state"] == "down" else None
        body = await _eventually_async(down)
        ready = await client.get("/readyz")
        assert ready.status_code == 200  # the database and Redis answer: still ready (CONTRACT)
        assert body["channels"]["telegram"]["reason"] == "auth_revoked" and body["database"] is True
        assert ticket not in ready.text and "Budi" not in ready.text and "Unauthorized" not in ready.text

        metrics = (await client.get("/metrics")).text
        assert re.search(r'siaga_channel_up\{channel="telegram"\} 0\.0', metrics)
        assert re.search(r'siaga_send_failures_total\{channel="telegram",reason="auth_revoked"\} [1-9]', metrics)
        assert 'siaga_outbox_stuck{channel="telegram"}' in metrics
        assert 'siaga_outbox_dead_letters{channel="telegram"}' in metrics
        assert ticket not in metrics and "Budi" not in metrics

        async with gw.deps.sessions() as s:
            rows = (await s.execute(select(OutboxItem).where(OutboxItem.status == "pending"))).scalars().all()
        assert rows and all(r.last_error is None or r.last_error.startswith("auth_revoked") for r in rows)
        assert find(fake, CITIZEN, "diverifikasi") is None  # nothing reached anyone after the revocation

        # Telegram is down: the next dispatch (from the dashboard) cannot reach Damkar's group, and this
        # gateway has no WhatsApp; the web-chat citizen hears the operator is phoning, the banner says whom.
        async with gw.deps.sessions() as s, s.begin():
            web_case = await _case(s, "SMP-71-71-71", channel="web", external_id="w1")
        await dashboard_actions.submit(gw.deps, "op1", "Operator Satu", f"case:verify:{web_case.id}")
        async with gw.deps.sessions() as s:
            told = [i.payload["text"] for i in (await s.execute(select(OutboxItem).where(
                OutboxItem.case_id == web_case.id, OutboxItem.channel == "web"))).scalars()]
        assert any("lewat telepon" in x for x in told) and not any("diteruskan" in x for x in told)
        problems = await channel_banner.problems(gw.deps)
        assert problems[0].health.channel == "telegram" and ticket in problems[0].health.tickets
        assert "damkar" in [a.code for a in problems[-1].agencies]


async def _eventually_async(probe, timeout: float = 30.0):
    import asyncio
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if (found := await probe()) is not None:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def _buttons(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b.get("callback_data") for r in rows for b in r]

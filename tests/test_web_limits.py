"""The public web chat cannot page operators without limit, and photo uploads cannot pile up (issue 12, items 4-5)."""
from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from bots.services import dashboard_actions
from core import retention
from core.clock import FakeClock
from core.db import utcnow
from core.i18n import t
from core.models import Attachment, Case, CaseEvent, Conversation, InboxItem, Media, OutboxItem, Reporter, Timer
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.e2e_support import OPERATORS, SUMENEP, asked, report_fire
from tests.harness import eventually, gateway
from tests.images import phone_jpeg
from tests.test_web_chat import Citizen
from tests.test_web_pages import web

CROWD, OTHER = "203.0.113.7", "198.51.100.9"  # one mobile network's shared address, and someone elsewhere


@pytest.fixture
async def production(fake, tmp_path, redis_url, config):
    """PostgreSQL + Redis, web plus two workers: two processes hold reports at once (the embedded shape on SQLite
    runs the same code in the window test below). One address's reports of one spot would join one case
    (tests/test_clusters.py): left apart here, to count the cards the limits let through."""
    url = await fresh_database_url("postgres", tmp_path)
    apart = config.model_copy(update={"duplicates": config.duplicates.model_copy(update={"auto_join": False})})
    async with gateway(fake, url, redis_url=redis_url, clock=FakeClock(), run_worker=False, workers=2,
                       config=apart) as g:
        yield g


def browser(base_url: str, address: str) -> httpx.AsyncClient:
    """One phone: its own cookies, behind `address` (uvicorn trusts X-Forwarded-For from 127.0.0.1, its default)."""
    return httpx.AsyncClient(base_url=base_url, headers={"X-Forwarded-For": address}, timeout=30)


async def report_medical(client: httpx.AsyncClient) -> Citizen:
    """A whole web report posted at once (the flow takes each step in order): type, pin, no description, send."""
    me = Citizen(client)
    await me.open()
    for body in ({"kind": "text", "text": "tolong"}, {"kind": "choice", "choice": "type:medical"},
                 {"kind": "location", "lat": SUMENEP[0], "lon": SUMENEP[1]}, {"kind": "choice", "choice": "skip"},
                 {"kind": "choice", "choice": "confirm:send"}):
        assert (await me.send(**body)).status_code == 200
    return me


async def test_fifteen_web_reports_from_one_address_page_ten_cards_and_one_summary(production, fake, config):
    gw = production
    async with AsyncExitStack() as stack:
        crowd = [await stack.enter_async_context(browser(gw.url, CROWD)) for _ in range(15)]
        citizens = await asyncio.gather(*(report_medical(c) for c in crowd))  # a few seconds, all at once
        elsewhere = await report_medical(await stack.enter_async_context(browser(gw.url, OTHER)))
        telegram_ticket = await report_fire(fake, phone_jpeg())  # Telegram reporters keep their own limits only

        async def cases():
            async with gw.deps.sessions() as s:
                rows = list((await s.execute(select(Case).order_by(Case.id))).scalars())
            return rows if len(rows) == 17 else None
        all_cases = await eventually(cases, timeout=60)
        async with gw.deps.sessions() as s:
            held = set((await s.execute(select(CaseEvent.case_id).where(CaseEvent.note == "web_held"))).scalars())
            queued = list((await s.execute(select(OutboxItem).where(OutboxItem.channel == "telegram"))).scalars())
            case_timers = set((await s.execute(select(Timer.key).where(Timer.key.like("case:%")))).scalars())
        assert len(held) == 5 and all(c.state == "submitted" for c in all_cases)
        cards = [o for o in queued if (o.ref or "").startswith("card:")]
        assert len(cards) == 12  # ten from the crowd's address, the other address, the Telegram reporter
        assert not {int(o.ref.split(":")[1]) for o in cards} & held
        summaries = [o for o in queued if (o.ref or "").startswith("held:")]
        assert len(summaries) == 1  # one card for the five held reports, edited in place
        assert all(o.edit_of == summaries[0].ref for o in queued if (o.edit_of or "").startswith("held:"))
        for case in all_cases:
            assert (case.id in held) == (case.sla_due_at is None)  # no clock each: the summary card is the page
            assert (case.id in held) == (f"case:{case.id}" not in case_timers)
        held_tickets = {c.ticket for c in all_cases if c.id in held}
        leaders = [o.payload.get("text") or "" for o in queued if o.chat_id != str(OPERATORS) and "#" not in o.chat_id]
        assert not any(ticket in text for ticket in held_tickets for text in leaders)  # no leaders' notice each

        for me in [*citizens, elsewhere]:  # every reporter got a ticket; the held ones a polite word besides
            done = await me.wait_for("Nomor tiket Anda")
            ticket = next(c.ticket for c in all_cases if c.ticket in done["text"])
            if ticket in held_tickets:
                await me.wait_for(t("id", "report.held", ticket=ticket, number="112"))
        assert telegram_ticket not in held_tickets

        async with gw.deps.sessions() as s:  # the card's latest version (its first send or the newest edit)
            latest = (await s.execute(select(OutboxItem.payload).where(
                (OutboxItem.ref == summaries[0].ref) | (OutboxItem.edit_of == summaries[0].ref),
                OutboxItem.status != "superseded").order_by(OutboxItem.id.desc()).limit(1))).scalar_one()
        assert latest["to"]["id"] == str(OPERATORS)
        assert latest["text"].startswith("📥 5 laporan web lagi dari satu alamat — tinjau di dasbor")
        assert all(ticket in latest["text"] for ticket in held_tickets)

        # An operator checks one held report on the dashboard and verifies it: its card appears in the group then.
        one = min(held)
        await dashboard_actions.submit(gw.deps, "op1", "Operator Satu", f"op:verify:{one}")

        async def verified():
            async with gw.deps.sessions() as s:
                return (await s.get(Case, one)).state != "submitted"
        await eventually(verified, timeout=30)
        async with gw.deps.sessions() as s:
            posted = list((await s.execute(select(OutboxItem).where(OutboxItem.ref == f"card:{one}"))).scalars())
            dead = await s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "dead"))
        assert len(posted) == 1 and dead == 0


async def test_the_report_window_passes_and_the_overall_limit_holds_too(tmp_path, config, fake):
    few = config.model_copy(update={"web": config.web.model_copy(update={
        "reports_per_address": 2, "reports_overall": 3, "window_minutes": 10})})
    clock = FakeClock()
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), clock=clock, config=few) as gw, \
            AsyncExitStack() as stack:
        async def submitted(n: int):
            async def count():
                async with gw.deps.sessions() as s:
                    return await s.scalar(select(func.count()).select_from(Case)) == n
            await eventually(count, timeout=30)

        async def held() -> int:
            async with gw.deps.sessions() as s:
                return await s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.note == "web_held"))

        for n, address in enumerate(["10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3"], start=1):
            await report_medical(await stack.enter_async_context(browser(gw.url, address)))
            await submitted(n)
        # 1st, 2nd of 10.0.0.1 paged; 3rd held (address); 10.0.0.2 paged (3 overall); 10.0.0.3 held (overall)
        assert await held() == 2
        async with gw.deps.sessions() as s:
            refs = sorted((await s.execute(select(OutboxItem.ref).where(OutboxItem.ref.like("held:%")))).scalars())
        assert len(refs) == 2 and refs[0].endswith(":all") != refs[1].endswith(":all")

        clock.advance(seconds=10 * 60 + 1)  # the window has passed: the address pages operators again
        await report_medical(await stack.enter_async_context(browser(gw.url, "10.0.0.1")))
        await submitted(6)
        assert await held() == 2


async def test_over_the_request_limits_the_web_chat_answers_429_and_stores_nothing(tmp_path, config):
    tight = config.model_copy(update={"web": config.web.model_copy(update={
        "chats_per_address": 2, "posts_per_minute_per_address": 4})})
    async with web(await fresh_database_url("sqlite", tmp_path), tight) as (client, deps), AsyncExitStack() as stack:
        base = str(client.base_url)
        a, b, c = [await stack.enter_async_context(browser(base, "10.1.1.1")) for _ in range(3)]
        assert (await a.get("/chat")).status_code == 200 and (await b.get("/chat")).status_code == 200
        busy = await c.get("/chat?lang=en")  # a third new chat from the same address in the window
        assert busy.status_code == 429 and int(busy.headers["Retry-After"]) > 0 and "siaga_chat" not in busy.cookies
        assert t("en", "web.chat_busy_start", number="112") in busy.text
        elsewhere = await stack.enter_async_context(browser(base, "10.2.2.2"))
        assert (await elsewhere.get("/chat")).status_code == 200  # another address is not affected

        me = Citizen(a)
        for _ in range(4):
            assert (await me.send(kind="text", text="halo")).status_code == 200
        over = await me.send(kind="text", text="halo lagi")
        assert over.status_code == 429 and over.json()["error"].startswith("too many messages")
        assert int(over.headers["Retry-After"]) >= 1
        async with deps.sessions() as s:
            texts = [p.get("text") for p in (await s.execute(select(InboxItem.payload))).scalars()]
            origins = {p.get("origin") for p in (await s.execute(select(InboxItem.payload))).scalars()}
        assert "halo lagi" not in texts and len(texts) == 4
        assert len(origins) == 1 and "10.1.1.1" not in str(origins)  # a pseudonym, never the address itself


async def test_the_request_limits_hold_across_processes_on_redis(tmp_path, config, redis_url):
    """Two web processes share one Redis: the per-address budget is one, not one each."""
    from bots.app import create_app
    from core.settings import load_settings
    from tests.harness import SECRET_KEY, free_port, serve_app
    tight = config.model_copy(update={"web": config.web.model_copy(update={"chats_per_address": 3})})
    url = await fresh_database_url("postgres", tmp_path)
    async with AsyncExitStack() as stack:
        bases = []
        for _ in range(2):
            port = free_port()
            settings = load_settings(database_url=url, redis_url=redis_url, public_base_url=None, port=port,
                                     siaga_secret_key=SECRET_KEY)
            await stack.enter_async_context(serve_app(create_app(settings, tight, clock=FakeClock()), port))
            bases.append(f"http://127.0.0.1:{port}")
        answers = []
        for n in range(5):
            client = await stack.enter_async_context(browser(bases[n % 2], "10.3.3.3"))
            answers.append((await client.get("/chat")).status_code)
        assert answers == [200, 200, 200, 429, 429]


async def test_photos_are_taken_only_while_a_report_asks_for_one_and_within_limits(tmp_path, config):
    limited = config.model_copy(update={"web": config.web.model_copy(update={"photos_per_hour_per_chat": 2})})
    async with web(await fresh_database_url("sqlite", tmp_path), limited) as (client, deps):
        me = Citizen(client)
        await me.open()

        async def media() -> int:
            async with deps.sessions() as s:
                return await s.scalar(select(func.count()).select_from(Media))

        refused = await me.photo(phone_jpeg())  # no report in progress
        assert refused.status_code == 409 and refused.json()["error"].startswith("a photo is taken only")
        assert await media() == 0
        await me.send(kind="text", text="tolong")
        await me.wait_for(choice="type:medical")
        await me.send(kind="choice", choice="type:medical")  # photo: none
        await me.wait_for(asked("report.ask_location"))
        await me.send(kind="location", lat=SUMENEP[0], lon=SUMENEP[1])
        await me.wait_for(asked("talk.ask_phone"))
        assert (await me.photo(phone_jpeg())).status_code == 409  # a type that takes no photo
        await me.send(kind="text", text="/batal")
        await me.wait_for(asked("report.cancelled"))
        await me.send(kind="text", text="lagi")
        await me.wait_for(choice="type:fire", new=True)
        await me.send(kind="choice", choice="type:fire")
        await me.wait_for(asked("report.ask_location"), new=True)  # urgent: where first; a photo is kept already
        assert (await me.photo(phone_jpeg())).status_code == 200
        await me.wait_for(asked("report.photo_received"))
        assert (await me.photo(phone_jpeg(801, 600))).status_code == 200  # a better photo, at a step that keeps it
        over = await me.photo(phone_jpeg(802, 600))
        assert over.status_code == 429 and over.json()["error"].startswith("too many photos")
        assert await media() == 2


async def test_the_sweep_deletes_unattached_photos_after_staging_and_old_failed_events(sessions):
    now = utcnow()
    old, fresh = now - timedelta(minutes=121), now - timedelta(minutes=30)
    async with sessions() as s, s.begin():
        def photo(n: int, at) -> Media:
            row = Media(sha256=f"{n:064d}", mime="image/jpeg", size=3, width=1, height=1, original=b"abc", clean=b"abc",
                        created_at=at)
            s.add(row)
            return row
        ids = {}
        for name, at in (("on_case", old), ("documentation", old), ("in_draft", old), ("waiting", old),
                         ("stray", old), ("replaced", old), ("recent", fresh)):
            ids[name] = photo(len(ids) + 1, at)
        await s.flush()
        ids = {name: row.id for name, row in ids.items()}
        who = Reporter(channel="web", external_id="a" * 32, name="", language="id")
        s.add(who)
        await s.flush()
        case = await create_case(s, reporter=who, chat="web:" + "a" * 32, ticket="SMP-11-22-33", incident_type="fire",
                                 urgent=True, language="id", latitude=None, longitude=None, address_text="Pasar",
                                 description=None, photo_media_id=ids["on_case"], started_at=old, now=old)
        s.add(Attachment(case_id=case.id, media_id=ids["documentation"], by="telegram:3001", created_at=old))
        s.add(Conversation(key="web:" + "b" * 32, version=3, updated_at=old, state={
            "step": "location", "draft": {"type": "fire", "photo_media_id": ids["in_draft"]}}))
        s.add(InboxItem(channel="web", external_id="c" * 32 + ":p1", conversation_key="web:" + "c" * 32,
                        payload={"chat": "c" * 32, "kind": "photo", "media_id": ids["waiting"]}, status="pending",
                        received_at=old, not_before=old))
        for n, (status, at) in enumerate([("failed", now - timedelta(days=91)), ("parked", now - timedelta(days=91)),
                                          ("failed", now - timedelta(days=5)), ("pending", now - timedelta(days=91))]):
            s.add(InboxItem(channel="telegram", external_id=f"u{n}", conversation_key=f"telegram:{n}", payload={},
                            status=status, received_at=at, not_before=at))
        s.add(Conversation(key="webhold:stale", version=1, updated_at=now - timedelta(minutes=11), state={"paged": []}))
        s.add(Conversation(key="webhold:live", version=1, updated_at=now - timedelta(minutes=1), state={"paged": []}))

    async with sessions() as s, s.begin():
        staged = await retention.sweep_staging(s, now, staging_minutes=120, hold_minutes=10)
        swept = await retention.sweep(s, now, retention_days=90)
    async with sessions() as s:
        left = set((await s.execute(select(Media.id))).scalars())
        inbox = sorted((await s.execute(select(InboxItem.external_id)
                                        .where(InboxItem.channel == "telegram"))).scalars())
        holds = sorted((await s.execute(select(Conversation.key).where(Conversation.key.like("webhold:%")))).scalars())
    assert left == {ids[k] for k in ("on_case", "documentation", "in_draft", "waiting", "recent")}
    assert (staged.media, staged.holds) == (2, 1) and holds == ["webhold:live"]
    assert inbox == ["u2", "u3"] and swept.inbox == 2  # failed and parked past retention; a recent failure stays


async def test_the_worker_sweeps_staged_photos_every_quarter_hour(tmp_path, config):
    patient = config.model_copy(update={"conversation": config.conversation.model_copy(update={"expire_minutes": 600})})
    async with web(await fresh_database_url("sqlite", tmp_path), patient) as (client, deps):
        me = Citizen(client)
        await me.open()
        await me.send(kind="text", text="tolong")
        await me.wait_for(choice="type:fire")
        await me.send(kind="choice", choice="type:fire")
        await me.wait_for(asked("report.ask_location"))
        assert (await me.photo(phone_jpeg())).status_code == 200
        await me.wait_for(asked("report.photo_received"))
        assert (await me.photo(phone_jpeg(801, 600))).status_code == 200  # replaces the first in the draft

        async def media() -> set[int]:
            async with deps.sessions() as s:
                return set((await s.execute(select(Media.id))).scalars())

        async def replaced():
            async with deps.sessions() as s:
                state = (await s.execute(select(Conversation.state).where(Conversation.key.like("web:%")))).scalar_one()
            return state["draft"].get("photo_media_id") == max(await media())
        await eventually(replaced)
        assert len(await media()) == 2
        deps.clock.advance(seconds=config.privacy.staging_minutes * 60 + 16 * 60)

        async def swept():
            return len(await media()) == 1
        await eventually(swept, timeout=20)
        async with deps.sessions() as s:
            draft = (await s.execute(select(Conversation.state).where(Conversation.key.like("web:%")))).scalar_one()
        assert await media() == {draft["draft"]["photo_media_id"]}  # the report being written keeps its photo

"""Personal data is removed a configured time after a case closes, figures stay; export and erase on request."""
from __future__ import annotations

import base64
from datetime import timedelta

from sqlalchemy import func, select

from core import casework, figures, retention
from core.db import utcnow
from core.models import Attachment, Case, CaseEvent, Conversation, InboxItem, Media, OutboxItem, Reporter, Timer
from core.repository import create_case
from tests.images import phone_jpeg

DAY = timedelta(days=1)


async def reporter(s, ext: str, name: str, phone: str | None = None, blocked: bool = False) -> Reporter:
    row = Reporter(channel="whatsapp", external_id=ext, name=name, phone=phone, language="id", blocked=blocked)
    s.add(row)
    s.add(Conversation(key=f"whatsapp:{ext}", state={"lang": "id"}, version=1))
    await s.flush()
    return row


async def case_of(s, who: Reporter, ticket: str, at, closed: bool = True, photo: bytes | None = None) -> Case:
    media = None
    if photo:
        media = Media(sha256=ticket.ljust(64, "0")[:64], mime="image/jpeg", size=len(photo), width=1, height=1,
                      original=photo, clean=photo)
        s.add(media)
        await s.flush()
    case = await create_case(s, reporter=who, chat=f"whatsapp:{who.external_id}", ticket=ticket, incident_type="fire",
                             urgent=True, language="id", latitude=-7.016712, longitude=113.866734,
                             address_text="Jl. Melati 7", description="Rumah Pak Slamet terbakar",
                             photo_media_id=media.id if media else None, started_at=at, now=at)
    [task] = await casework.verify(s, case, "telegram:1001", ["damkar"], at + timedelta(minutes=1))
    casework.accept(s, case, task, "telegram:3001", "Regu A", 5, at + timedelta(minutes=3))
    task.note = "Korban bernama Ibu Sari dibawa ke RSUD"
    if photo:
        s.add(Attachment(case_id=case.id, task_id=task.id, media_id=media.id, by="telegram:3001", created_at=at))
    s.add(OutboxItem(channel="whatsapp", chat_id=who.external_id, payload={"text": "Rumah Pak Slamet"}, priority=10,
                     status="sent", not_before=at, case_id=case.id, created_at=at))
    s.add(OutboxItem(channel="telegram", chat_id="-1001000000001#p20", payload={"text": "Rumah Pak Slamet"},
                     priority=20, status="batched", batch_ref="batch:1", ref=f"card:{case.id}", not_before=at,
                     case_id=case.id, created_at=at))  # a card folded into a list of waiting reports
    if closed:
        casework.close(s, case, "telegram:1001", at + timedelta(hours=1))
        casework.rate(s, case, 4, f"whatsapp:{who.external_id}", at + timedelta(hours=2))
        casework.comment(s, case, "Terima kasih, Pak Budi cepat datang", f"whatsapp:{who.external_id}",
                         at + timedelta(hours=2))
    return case


async def test_the_retention_pass_removes_personal_data_and_keeps_the_figures(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        old = await reporter(s, "6281111111111", "Siti", "+6281111111111")
        recent = await reporter(s, "6282222222222", "Budi", "+6282222222222")
        prankster = await reporter(s, "6283333333333", "Iseng", "+6283333333333", blocked=True)
        gone = await case_of(s, old, "SMP-01-01-01", now - 100 * DAY, photo=phone_jpeg())
        kept = await case_of(s, recent, "SMP-02-02-02", now - 5 * DAY, photo=phone_jpeg(320, 240))
        prank = await case_of(s, prankster, "SMP-03-03-03", now - 120 * DAY)
        s.add_all([InboxItem(channel="whatsapp", external_id="old", conversation_key="whatsapp:6281111111111",
                             payload={"from": "6281111111111"}, status="done", received_at=now - 100 * DAY),
                   InboxItem(channel="whatsapp", external_id="new", conversation_key="whatsapp:6282222222222",
                             payload={"from": "6282222222222"}, status="done", received_at=now - DAY)])
        ids = gone.id, kept.id, prank.id, old.id, recent.id, prankster.id
    async with sessions() as s:
        before = await figures.load(s, now - 200 * DAY, now, now)

    async with sessions() as s, s.begin():
        swept = await retention.sweep(s, now, retention_days=90)
    assert (swept.cases, swept.reporters, swept.photos, swept.inbox) == (2, 2, 1, 1)
    async with sessions() as s, s.begin():
        assert (await retention.sweep(s, now, retention_days=90)).cases == 0  # idempotent

    async with sessions() as s:
        gone, kept, prank = [await s.get(Case, i) for i in ids[:3]]
        old, recent, prankster = [await s.get(Reporter, i) for i in ids[3:]]
        assert (gone.description, gone.address_text, gone.rating_comment, gone.photo_media_id) == (None,) * 4
        assert (gone.latitude, gone.longitude, gone.chat) == (-7.02, 113.87, "erased")
        assert (gone.rating, gone.incident_type, gone.state) == (4, "fire", "closed")  # what the figures need
        assert (old.name, old.phone, old.external_id) == ("", None, f"erased-{old.id}")
        assert (prankster.name, prankster.phone, prankster.external_id) == ("", None, "6283333333333")  # block holds
        assert kept.description == "Rumah Pak Slamet terbakar" and recent.phone == "+6282222222222"
        assert await s.scalar(select(func.count()).select_from(Media)) == 1
        assert await s.scalar(select(func.count()).select_from(Attachment).where(Attachment.case_id == gone.id)) == 0
        assert await s.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.case_id == gone.id)) == 0
        assert [i.external_id for i in (await s.execute(select(InboxItem))).scalars()] == ["new"]
        assert await s.get(Conversation, "whatsapp:6281111111111") is None
        notes = (await s.execute(select(CaseEvent.note).where(CaseEvent.case_id == gone.id))).scalars().all()
        assert "personal_data_removed" in notes
        after = await figures.load(s, now - 200 * DAY, now, now)
    assert (after.total, after.urgent_met, after.average_rating, after.median_seconds) == \
        (before.total, before.urgent_met, before.average_rating, before.median_seconds)


async def test_a_reporter_exports_then_erases_their_data(sessions):
    now = utcnow()
    photo = phone_jpeg()
    async with sessions() as s, s.begin():
        budi = await reporter(s, "6282222222222", "Budi", "+6282222222222")
        await case_of(s, budi, "SMP-02-02-02", now - 5 * DAY, photo=photo)
        open_case = await case_of(s, budi, "SMP-04-04-04", now - DAY, closed=False)
        open_id = open_case.id
    async with sessions() as s:
        data = await retention.export(s, await retention.find_reporter(s, "whatsapp", "6282222222222"))
    assert data["reporter"]["phone"] == "+6282222222222" and [c["ticket"] for c in data["cases"]] == \
        ["SMP-02-02-02", "SMP-04-04-04"]
    assert base64.b64decode(data["cases"][0]["photo_jpeg_base64"]) == photo
    assert data["cases"][0]["description"] == "Rumah Pak Slamet terbakar"

    async with sessions() as s, s.begin():
        who = await retention.find_reporter(s, "whatsapp", "6282222222222")
        assert await retention.erase(s, who, now) == (1, 1)  # the open case is still being handled
    async with sessions() as s, s.begin():
        casework.close(s, await s.get(Case, open_id), "telegram:1001", now)
    async with sessions() as s, s.begin():
        who = await retention.find_reporter(s, "whatsapp", "6282222222222")
        assert await retention.erase(s, who, now) == (1, 0)
    async with sessions() as s:
        assert await retention.find_reporter(s, "whatsapp", "6282222222222") is None
        cases = (await s.execute(select(Case))).scalars().all()
        assert {c.description for c in cases} == {None} and await s.scalar(select(func.count()).select_from(Media)) == 0


async def test_the_worker_runs_the_retention_pass_every_night(tmp_path, config):
    from core.clock import next_local_time
    from tests.conftest import fresh_database_url
    from tests.harness import eventually
    from tests.test_web_pages import web
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (_client, deps):
        async with deps.sessions() as s, s.begin():
            siti = await reporter(s, "6281111111111", "Siti", "+6281111111111")
            case_id = (await case_of(s, siti, "SMP-01-01-01", deps.clock.now() - 100 * DAY)).id
        due = next_local_time(config.region.timezone, deps.clock.now(), config.privacy.sweep_time)

        async def planned():  # the worker plans the night's pass when it starts
            async with deps.sessions() as s:
                return (await s.execute(select(Timer).where(Timer.kind == "retention"))).scalar_one_or_none()
        assert (await eventually(planned)).due_at == due
        deps.clock.advance(seconds=(due - deps.clock.now()).total_seconds() + 1)

        async def anonymised():
            async with deps.sessions() as s:
                return (await s.get(Case, case_id)).description is None
        await eventually(anonymised, timeout=20)

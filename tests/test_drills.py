"""Drills (LATIHAN): who they apply to and for how long, `siaga drill`, the dashboard switch (admins only), and
drill cases removed whole after `drills.keep_hours`. SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core import accounts, casework, drills, outbox, retention, timers
from core.i18n import t
from core.messages import Address, Outbound
from core.models import Attachment, AuditEntry, Case, CaseEvent, Drill, Media, OutboxItem, Reporter, Task, Timer
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.harness import SECRET_KEY
from tests.images import phone_jpeg
from tests.test_cli import cli
from tests.test_web_pages import PASSWORD, sign_in, web

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
TESTER, OTHER = "telegram:5001", "telegram:5002"


async def test_a_drill_applies_to_its_testers_for_its_minutes(sessions):
    async with sessions() as s, s.begin():
        assert not await drills.applies(s, TESTER, T0) and await drills.active(s, T0) is None
        drill = await drills.start(s, by="cli:ani", now=T0, minutes=30, testers=[TESTER, TESTER, " "])
        assert drill.testers == [TESTER] and drill.ends_at == T0 + timedelta(minutes=30)
        assert await drills.applies(s, TESTER, T0 + timedelta(minutes=29))
        assert not await drills.applies(s, OTHER, T0 + timedelta(minutes=1))  # not a tester
        assert not await drills.applies(s, TESTER, T0 + timedelta(minutes=30))  # its time is up
        with pytest.raises(drills.DrillError) as again:
            await drills.start(s, by="cli:ani", now=T0 + timedelta(minutes=1))
        assert again.value.key == "drill.already"
        later = T0 + timedelta(hours=1)
        everyone = await drills.start(s, by="cli:ani", now=later)  # the first one ended by itself
        assert everyone.testers is None and await drills.applies(s, OTHER, later + timedelta(days=3))
        assert await drills.stop(s, later + timedelta(days=3)) is everyone
        assert not await drills.applies(s, OTHER, later + timedelta(days=3, seconds=1))
        assert await drills.stop(s, later + timedelta(days=4)) is None


@pytest.mark.parametrize(("minutes", "testers", "key"), [
    (0, [], "drill.bad_minutes"), (1441, [], "drill.bad_minutes"), (None, ["5001"], "drill.bad_tester"),
    (None, ["telegram:abc"], "drill.bad_tester"), (None, ["sms:0812"], "drill.bad_tester"),
    (None, [f"telegram:{n}" for n in range(51)], "drill.bad_tester"),
])
async def test_a_bad_start_is_refused_and_starts_nothing(sessions, minutes, testers, key):
    async with sessions() as s, s.begin():
        with pytest.raises(drills.DrillError) as refused:
            await drills.start(s, by="cli:ani", now=T0, minutes=minutes, testers=testers)
        assert refused.value.key == key and t("id", key, **refused.value.params) != key
        assert (await s.execute(select(func.count()).select_from(Drill))).scalar_one() == 0


async def _reporter(s, external_id: str) -> Reporter:
    reporter = Reporter(channel="telegram", external_id=external_id, name="Budi", language="id")
    s.add(reporter)
    await s.flush()
    return reporter


async def _case(s, reporter: Reporter, ticket: str, at: datetime, photo: int | None = None) -> Case:
    return await create_case(s, reporter=reporter, chat=f"telegram:{reporter.external_id}", ticket=ticket,
                             incident_type="fire", urgent=True, language="id", latitude=-7.0, longitude=113.9,
                             address_text=None, description="latihan", photo_media_id=photo, started_at=at, now=at)


async def test_new_cases_of_testers_are_drills_and_are_removed_whole_after_keep_hours(sessions):
    async with sessions() as s, s.begin():
        tester, other = await _reporter(s, "5001"), await _reporter(s, "5002")
        await drills.start(s, by="cli:ani", now=T0, testers=[TESTER])
        jpeg = phone_jpeg()
        photo = Media(sha256="d" * 64, mime="image/jpeg", size=len(jpeg), width=1, height=1, original=jpeg,
                      clean=jpeg)
        doc = Media(sha256="e" * 64, mime="image/jpeg", size=len(jpeg), width=1, height=1, original=jpeg, clean=jpeg)
        s.add_all([photo, doc])
        await s.flush()
        drill = await _case(s, tester, "SMP-11-11-11", T0, photo.id)
        real = await _case(s, other, "SMP-22-22-22", T0)
        assert (drill.drill, real.drill) == (True, False)
        task = Task(case_id=drill.id, agency="damkar", state="dispatched", created_at=T0)
        s.add(task)
        await s.flush()
        support = Task(case_id=drill.id, agency="pdam", state="dispatched", support_of_id=task.id, created_at=T0)
        s.add_all([support, Attachment(case_id=drill.id, task_id=task.id, media_id=doc.id, by="telegram:3001")])
        merged = await _case(s, other, "SMP-33-33-33", T0)
        merged.duplicate_of_id = drill.id
        casework.record(s, drill, "telegram:1001", T0, note="dispatch:damkar")
        await outbox.enqueue(s, Outbound(to=Address("telegram", "-100"), text="card", case_id=drill.id), T0)
        await timers.schedule(s, kind="sla.tick", key=f"case:{drill.id}", version=1, due_at=T0, payload={})
        drill_id, real_id = drill.id, real.id
    async with sessions() as s, s.begin():
        assert await retention.remove_drills(s, T0 + timedelta(hours=23), keep_hours=24) == 0
        assert await retention.remove_drills(s, T0 + timedelta(hours=24, seconds=1), keep_hours=24) == 1
    async with sessions() as s:
        assert [c.id for c in (await s.execute(select(Case).order_by(Case.id))).scalars()] == [real_id, real_id + 1]
        for model, column in ((CaseEvent, CaseEvent.case_id), (Task, Task.case_id), (Attachment, Attachment.case_id),
                              (OutboxItem, OutboxItem.case_id)):
            left = (await s.execute(select(func.count()).select_from(model).where(column == drill_id))).scalar_one()
            assert left == 0, model.__name__
        assert (await s.execute(select(func.count()).select_from(Timer).where(
            Timer.key == f"case:{drill_id}"))).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(Media))).scalar_one() == 0
        assert (await s.execute(select(Case.duplicate_of_id).where(Case.ticket == "SMP-33-33-33"))).scalar_one() \
            is None
        assert (await s.execute(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == real_id))).scalar_one() == 2  # the real case keeps its timeline


async def test_the_drill_command_starts_shows_refuses_and_stops(db_url):
    env = {"DATABASE_URL": db_url, "SIAGA_SECRET_KEY": SECRET_KEY}  # required off the embedded default

    def siaga(*args: str):
        return asyncio.to_thread(cli, "drill", *args, **env)
    assert (await siaga("status")).stdout.strip() == t("id", "drill.none")
    started = await siaga("start", "--minutes", "30", "--tester", TESTER, "--tester", "whatsapp:6281200000009")
    assert started.returncode == 0 and t("id", "drill.started") in started.stdout
    assert "telegram:5001, whatsapp:6281200000009" in started.stdout and "WIB" in started.stdout
    again = await siaga("start")
    assert again.returncode == 1 and t("id", "drill.already") in again.stderr
    bad = await siaga("start", "--tester", "5001")
    assert bad.returncode == 1 and "5001" in bad.stderr
    assert t("id", "drill.until_stopped") not in (await siaga("status")).stdout
    stopped = await siaga("stop")
    assert stopped.returncode == 0 and t("id", "drill.stopped") in stopped.stdout
    assert t("id", "drill.none") in stopped.stdout
    assert (await siaga("stop")).stdout.strip() == t("id", "drill.none")
    everyone = await siaga("start")
    assert t("id", "drill.running_all", start="", end="").split(" ")[0] in everyone.stdout
    from core.db import make_engine, make_sessionmaker
    engine = make_engine(db_url)
    try:
        async with make_sessionmaker(engine)() as s:
            actions = list((await s.execute(select(AuditEntry.action).order_by(AuditEntry.id))).scalars())
    finally:
        await engine.dispose()
    assert actions == ["drill_start", "drill_stop", "drill_start"]


def _csrf(page) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_dashboard_switch_is_for_admins_only(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        async with deps.sessions() as s, s.begin():
            await accounts.create(s, "admin1", PASSWORD, "admin", "Admin Satu")
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
            await accounts.create(s, "bupati", PASSWORD, "leader", "Bupati")

        async def running() -> bool:
            async with deps.sessions() as s:
                return await drills.active(s, deps.clock.now()) is not None
        for who in ("op1", "bupati"):
            await sign_in(client, who)
            page = await client.get("/dashboard/drill")
            assert page.status_code == 200 and 'value="start"' not in page.text
            assert t("id", "drill.none") in page.text
            refused = await client.post("/dashboard/drill", data={"action": "start", "csrf": _csrf(page)})
            assert refused.status_code == 403 and t("id", "drill.admins_only") in refused.text
            assert not await running()
            client.cookies.clear()

        await sign_in(client, "admin1")
        page = await client.get("/dashboard/drill")
        assert 'value="start"' in page.text and 'href="/dashboard/drill"' in page.text
        forged = await client.post("/dashboard/drill", data={"action": "start", "csrf": "x"})
        assert forged.status_code == 403 and not await running()
        bad = await client.post("/dashboard/drill", data={"action": "start", "csrf": _csrf(page),
                                                          "testers": "telegram:5001\n<script>"})
        assert bad.status_code == 400 and "&lt;script&gt;" in bad.text and not await running()
        odd = await client.post("/dashboard/drill", data={"action": "drop", "csrf": _csrf(page)})
        assert odd.status_code == 400 and not await running()
        started = await client.post("/dashboard/drill", data={"action": "start", "csrf": _csrf(page), "minutes": "45",
                                                              "testers": "telegram:5001\nwhatsapp:6281200000009"})
        assert started.status_code == 200 and t("id", "drill.started") in started.text
        assert "LATIHAN" in started.text and 'value="stop"' in started.text and await running()
        async with deps.sessions() as s:
            drill = await drills.active(s, deps.clock.now())
            assert drill.testers == ["telegram:5001", "whatsapp:6281200000009"]
            assert drill.started_by == "dashboard:admin1"
        stopped = await client.post("/dashboard/drill", data={"action": "stop", "csrf": _csrf(page)})
        assert stopped.status_code == 200 and not await running()
        async with deps.sessions() as s:
            trail = list((await s.execute(select(AuditEntry.actor, AuditEntry.action).where(
                AuditEntry.action.like("drill%")).order_by(AuditEntry.id))).all())
        assert trail == [("op1", "drill_refused"), ("bupati", "drill_refused"), ("admin1", "drill"),
                         ("admin1", "drill")]

"""The open-cases page is pushed, over real HTTP: a new case shows on `/dashboard/events` at once (no polling),
a signed-out stream tells the page to sign in, streams are bounded per account, and the list never drops an
urgent case still waiting whatever the limit."""
from __future__ import annotations

import asyncio
import itertools
import re
from datetime import timedelta

import httpx
import pytest

from bots.web import dashboard_stream
from core import accounts, casework, sla
from core.models import Reporter
from core.repository import create_case
from tests.conftest import fresh_database_url
from tests.test_web_pages import PASSWORD, sign_in, web

NUMBERS = itertools.count(10)


async def add_case(deps, incident_type: str = "fire", *, minutes_ago: float = 0, latitude: float | None = -7.0167,
                   longitude: float | None = 113.8667, drill: bool = False) -> str:
    """A submitted chat report as the citizen's flow stores it, with its handling deadline; returns the ticket."""
    n = next(NUMBERS)
    it = deps.config.incident_type(incident_type)
    now = deps.clock.now() - timedelta(minutes=minutes_ago)
    async with deps.sessions() as s, s.begin():
        reporter = Reporter(channel="telegram", external_id=f"90{n}", name=None, phone=None, language="id")
        s.add(reporter)
        await s.flush()
        ticket = f"SMP-77-{n // 100 % 100:02d}-{n % 100:02d}"
        case = await create_case(s, reporter=reporter, chat=f"telegram:90{n}", ticket=ticket,
                                 incident_type=incident_type, urgent=it.urgent, language="id", latitude=latitude,
                                 longitude=longitude, address_text=None, description="uji", photo_media_id=None,
                                 started_at=now, now=now)
        case.sla_due_at = sla.deadline(deps.config, incident_type, now)
        case.drill = drill
        return case.ticket


async def next_event(lines, timeout: float) -> tuple[str, str]:
    """The next named event on the stream (comments and the retry hint skipped): (event, data)."""
    name = data = ""
    async with asyncio.timeout(timeout):
        async for line in lines:
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "" and name:
                return name, data
    raise AssertionError("the stream ended")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_new_case_is_pushed_to_an_open_dashboard(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        async with deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        await sign_in(client, "op1")
        page = await client.get("/dashboard")
        since = page.text.split('data-signature="')[1].split('"')[0]
        async with client.stream("GET", "/dashboard/events", params={"since": since}) as stream:
            assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
            assert stream.headers["cache-control"] == "no-store"
            lines = stream.aiter_lines()
            assert (await next_event(lines, 5))[0] == "ready"  # nothing changed since the page was drawn
            ticket = await add_case(deps)  # as a worker in another process would: only the database knows
            # The watcher reads every half second; the page's fallback poll is 30 s, so this is the push.
            event, signature = await next_event(lines, 3)
            assert event == "change" and signature != since
        rows = await client.get("/dashboard/rows")
        assert ticket in rows.text


async def test_a_signed_out_stream_sends_the_page_to_sign_in_and_streams_are_bounded(tmp_path, config, monkeypatch):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        async with deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        anonymous = await client.get("/dashboard/events")
        assert anonymous.status_code == 200 and "event: signedout\ndata: /dashboard/login" in anonymous.text

        await sign_in(client, "op1")
        monkeypatch.setattr(dashboard_stream, "MAX_PER_ACCOUNT", 1)
        async with client.stream("GET", "/dashboard/events") as stream:
            lines = stream.aiter_lines()
            assert (await next_event(lines, 5))[0] in ("ready", "change")
            assert (await client.get("/dashboard/events")).status_code == 429  # the page keeps its slow poll

            page = await client.get("/dashboard")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            async with httpx.AsyncClient(base_url=client.base_url, cookies=client.cookies) as other_tab:
                assert (await other_tab.post("/dashboard/logout", data={"csrf": csrf})).status_code == 303
            await add_case(deps)  # the next change finds the session ended
            assert await next_event(lines, 3) == ("signedout", "/dashboard/login")


async def test_the_list_speaks_the_page_language_with_the_zone(tmp_path, config):
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        async with deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        await add_case(deps, "fire", minutes_ago=7)  # 2 minutes late
        await add_case(deps, "flood", minutes_ago=1)
        await sign_in(client, "op1")
        indonesian = (await client.get("/dashboard")).text
        assert "lewat 2 menit" in indonesian and "29 menit" in indonesian and " WIB<" in indonesian
        assert "<title>(2) Kasus terbuka" in indonesian  # both unverified
        english = (await client.get("/dashboard?lang=en")).text
        assert "2 min over" in english and "29 min left" in english and "All times in WIB." in english
        for word in ("menit", "menunggu", "Sisa waktu", "Kebakaran", "Standar"):
            assert word not in english, word


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_limit_never_drops_an_urgent_case_still_waiting(backend, tmp_path, config):
    async with web(await fresh_database_url(backend, tmp_path), config) as (_, deps):
        old_fire = await add_case(deps, "fire", minutes_ago=50)
        for _ in range(4):
            await add_case(deps, "water_outage", minutes_ago=1)
        async with deps.sessions() as s:
            newest = await casework.open_cases(s, limit=3)
            kept = await casework.open_cases(s, limit=3, action_first=True)
        assert old_fire not in [c.ticket for c in newest]  # newest first alone would lose it
        assert kept[0].ticket == old_fire

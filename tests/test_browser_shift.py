"""The open-cases desk for a 24-hour shift, in a real headless Chromium: the order by what needs action (an overdue
urgent case on top as the clock moves and new reports arrive), pushed updates without a reload, the count in the
tab title, the sound switch and the alarm for an untouched urgent report, the overview map's markers (on a plain
background when the deployment has no tiles; rounded for leaders), and a leader's phone keeping the time left."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from core import accounts, casework
from core.config import Map
from core.models import Case
from tests import test_browser
from tests.conftest import fresh_database_url
from tests.test_browser import PASSWORD, SHOTS, csp_violations, sign_in
from tests.test_dashboard_stream import add_case
from tests.test_web_pages import web

browser = test_browser.browser  # the fixture, shared


async def act_on(deps, ticket: str, minutes_ago: float = 0) -> None:
    """An operator verifies and dispatches the case (its first action), as the desk would."""
    async with deps.sessions() as s, s.begin():
        case = (await s.execute(select(Case).where(Case.ticket == ticket))).scalar_one()
        at = deps.clock.now() - timedelta(minutes=minutes_ago)
        await casework.verify(s, case, "dashboard:op1", list(deps.config.incident_type(case.incident_type).agencies),
                              at)


async def signed_in_page(browser, base: str, username: str, **context):
    page = await (await browser.new_context(locale="id-ID", **context)).new_page()
    violations = csp_violations(page)
    await sign_in(page, base, username, then="#desk[data-live=on]")  # the stream is open
    return page, violations


async def title_starts(page, prefix: str) -> None:
    """Wait for the tab title (wait_for_function would evaluate a string, which the page's CSP refuses)."""
    for _ in range(100):
        if (await page.title()).startswith(prefix):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(await page.title())


async def tickets(page) -> list[str]:
    return await page.eval_on_selector_all("#cases tr[data-ticket]", "rows => rows.map(r => r.dataset.ticket)")


async def test_the_shift_desk_orders_announces_and_alarms(browser, tmp_path, config):
    SHOTS.mkdir(parents=True, exist_ok=True)
    plain = config.model_copy(update={"map": Map(tile_url=None)})  # no tile server: markers on a plain background
    async with web(await fresh_database_url("sqlite", tmp_path), plain) as (client, deps):
        async with deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
            await accounts.create(s, "bupati", PASSWORD, "leader", "Bupati")
        fire = await add_case(deps, "fire", minutes_ago=4)  # due in 1 minute
        medical = await add_case(deps, "medical", minutes_ago=1, latitude=-7.06, longitude=113.95)  # due in 4 minutes
        await act_on(deps, fire, minutes_ago=3.9)
        await act_on(deps, medical, minutes_ago=0.9)
        flood = await add_case(deps, "flood", minutes_ago=10, latitude=-6.98, longitude=113.82)  # oldest unverified
        crime = await add_case(deps, "crime", minutes_ago=3, drill=True, latitude=-7.1, longitude=113.75)
        base = str(client.base_url).rstrip("/")

        desk, violations = await signed_in_page(browser, base, "op1", viewport={"width": 1280, "height": 900})
        assert await tickets(desk) == [fire, medical, flood, crime]
        assert await desk.title() == "(2) Kasus terbuka · Kabupaten Sumenep"  # the two unverified reports
        assert await desk.locator(f'tr[data-ticket="{crime}"] .drill').text_content() == "LATIHAN"
        assert await desk.locator("#overview .case-marker").count() == 4
        assert await desk.locator("#overview .leaflet-tile").count() == 0
        assert await desk.get_attribute("#desk", "data-alarm") == "off"
        await desk.evaluate("window.__notReloaded = true")

        await desk.click("#sound")  # the operator's one gesture
        assert await desk.get_attribute("#sound", "aria-pressed") == "true"

        deps.clock.advance(minutes=2)  # the fire's deadline passes while newer reports arrive
        new_fire = await add_case(deps, "fire", latitude=-7.03, longitude=113.99)
        new_crime = await add_case(deps, "crime", latitude=-6.95, longitude=113.9)
        await desk.wait_for_selector(f'#cases tr[data-ticket="{new_crime}"]')
        await desk.wait_for_selector(f'tr.tier-overdue_urgent[data-ticket="{fire}"]')
        assert await tickets(desk) == [fire, medical, new_fire, flood, new_crime, crime]
        assert "lewat 1 menit" in await desk.locator(f'tr[data-ticket="{fire}"] .col-left').text_content()
        await title_starts(desk, "(5) ")  # 4 unverified + the overdue fire
        assert await desk.get_attribute("#desk", "data-announced") == "2"
        assert await desk.locator("#overview .case-marker").count() == 6

        deps.clock.advance(seconds=21)  # nobody has touched the new fire: the alarm
        await desk.wait_for_selector(f'tr.alarm[data-ticket="{new_fire}"]')
        await desk.wait_for_selector("#desk[data-alarm=on][data-sounding=on]")
        await desk.wait_for_selector("#overview .case-marker.alarm")
        await desk.screenshot(path=str(SHOTS / "dashboard-shift.png"), full_page=True)

        await act_on(deps, new_fire)  # an operator takes it: the alarm stops
        await desk.wait_for_selector("#desk[data-alarm=off][data-sounding=off]")
        await title_starts(desk, "(4) ")
        await desk.click("#sound")
        assert await desk.get_attribute("#sound", "aria-pressed") == "false"
        assert await desk.evaluate("window.__notReloaded") is True

        phone, phone_violations = await signed_in_page(browser, base, "bupati", viewport={"width": 375, "height": 740},
                                                       is_mobile=True)
        await phone.screenshot(path=str(SHOTS / "dashboard-phone.png"), full_page=True)
        left = phone.locator(f'tr[data-ticket="{fire}"] .col-left')
        box = await left.bounding_box()
        assert await left.is_visible() and box["x"] + box["width"] <= 375
        assert await phone.locator(f'tr[data-ticket="{fire}"] .col-agency').is_hidden()
        assert await phone.get_attribute(f'tr[data-ticket="{fire}"]', "data-lat") == "-7.02"  # about 1 km
        assert await phone.locator("#overview .case-marker").count() == 6
        assert violations == [] and phone_violations == []
        await desk.context.close()
        await phone.context.close()

"""In a real headless Chromium (Debian's package, driven by Playwright): a citizen reports through the web chat
up to the ticket; an operator signs in, sees the case appear without reloading, opens it and verifies it."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.async_api import async_playwright
from sqlalchemy import select

from core import accounts
from core.models import Case
from tests.conftest import fresh_database_url
from tests.e2e_support import TICKET, asked
from tests.images import phone_jpeg
from tests.test_web_pages import web

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "artifacts" / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SUMENEP = {"latitude": -7.0167, "longitude": 113.8667}
PASSWORD = "correct-horse-battery"


def csp_violations(page) -> list[str]:
    """Chromium reports every Content-Security-Policy refusal on the console; collect them to assert none."""
    seen: list[str] = []
    page.on("console", lambda msg: seen.append(msg.text) if "Content Security Policy" in msg.text else None)
    return seen


async def sign_in(page, base: str, username: str = "op1", then: str = "text=Kasus terbuka") -> None:
    """Open the dashboard, sign in on the page it sends us to, and wait for `then`."""
    await page.goto(f"{base}/dashboard")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector(then)


@pytest.fixture
async def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        await browser.close()


async def test_report_in_the_web_chat_then_verify_it_live_on_the_dashboard(browser, tmp_path, config):
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        async with deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        base = str(client.base_url).rstrip("/")

        desk = await (await browser.new_context(viewport={"width": 1280, "height": 800}, locale="id-ID")).new_page()
        desk_csp = csp_violations(desk)
        await desk.goto(f"{base}/dashboard")
        assert desk.url.endswith("/dashboard/login")
        await desk.fill("input[name=username]", "op1")
        await desk.fill("input[name=password]", PASSWORD)
        await desk.click("button[type=submit]")
        await desk.wait_for_selector("text=Kasus terbuka")
        await desk.evaluate("window.__notReloaded = true")

        phone = await browser.new_context(viewport={"width": 390, "height": 780}, locale="id-ID", is_mobile=True,
                                          geolocation=SUMENEP, permissions=["geolocation"])
        chat = await phone.new_page()
        chat_csp = csp_violations(chat)
        await chat.goto(f"{base}/chat")
        await chat.fill("#text", "tolong ada kebakaran")
        await chat.press("#text", "Enter")
        await chat.click('button[data-choice="guess:yes"]')  # "Kebakaran?" read from the words
        await chat.wait_for_selector(f"text={asked('report.ask_location')}")  # urgent: where first
        await chat.click("#locate")
        await chat.wait_for_selector(f"text={asked('report.ask_photo_optional')}")
        await chat.set_input_files("#photo", files=[{"name": "api.jpg", "mimeType": "image/jpeg",
                                                     "buffer": phone_jpeg()}])
        await chat.wait_for_selector(f"text={asked('talk.ask_phone')}")
        await chat.fill("#text", "lewati")  # no call-back number
        await chat.press("#text", "Enter")
        await chat.click('button[data-choice="confirm:send"]')
        done = await chat.wait_for_selector(f"text={asked('report.submitted_urgent')}")
        ticket = TICKET.search(await done.text_content()).group(0)
        await chat.screenshot(path=str(SHOTS / "web-chat.png"), full_page=True)

        await desk.wait_for_selector(f"#rows >> text={ticket}", timeout=20_000)  # arrives without a reload
        assert await desk.evaluate("window.__notReloaded") is True
        await desk.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
        await desk.click(f"text={ticket}")
        await desk.wait_for_selector("#map")
        await desk.click('button[value="verify"]')
        await desk.wait_for_selector("text=diteruskan ke")  # the timeline after the press
        await desk.screenshot(path=str(SHOTS / "dashboard-case.png"), full_page=True)
        async with deps.sessions() as s:
            case = (await s.execute(select(Case).where(Case.ticket == ticket))).scalar_one()
        assert case.state == "dispatched" and case.operator == "dashboard:op1"
        await desk.goto(f"{base}/dashboard/figures")
        await desk.wait_for_selector("canvas#daily")
        await desk.screenshot(path=str(SHOTS / "dashboard-figures.png"), full_page=True)
        await desk.goto(f"{base}/docs")  # Swagger UI from the vendored copy, started by a static script
        await desk.wait_for_selector('[data-path="/open311/v2/services.json"]')
        assert desk_csp == [] and chat_csp == []  # every page works under the strict Content-Security-Policy

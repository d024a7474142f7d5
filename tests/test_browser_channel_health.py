"""In Chromium: the fake Bot API answers 401 (the bot's token revoked) and the dashboard shows the channel banner,
naming the stuck case with a link to it and saying what to do."""
from __future__ import annotations

from core import accounts
from tests.conftest import fresh_database_url
from tests.e2e_support import OPERATORS, latest_card, press, report_fire
from tests.harness import eventually, gateway
from tests.images import phone_jpeg
from tests.test_browser import PASSWORD, SHOTS, browser, csp_violations, sign_in  # noqa: F401 - browser is a fixture


async def test_the_dashboard_banner_names_the_stuck_case_when_the_bot_token_is_revoked(browser, fake, tmp_path,  # noqa: F811
                                                                                       config):
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), config=config) as gw:
        async with gw.deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        ticket = await report_fire(fake, phone_jpeg())
        card = await eventually(lambda: latest_card(fake, OPERATORS, ticket))
        fake.revoke_token()  # @BotFather: /revoke — from now on every call answers 401 Unauthorized
        operator = config.operators.members[0].telegram_user_id
        await press(fake, operator, card, f"case:verify:{card_case_id(card)}")
        await eventually(lambda: any(c.status == 401 for c in fake.calls), timeout=30)

        page = await (await browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")).new_page()
        csp = csp_violations(page)
        await sign_in(page, gw.url)
        banner = await page.wait_for_selector("#channel-banner", timeout=20000)
        problem = await page.wait_for_selector('#channel-banner [data-channel="telegram"]')
        assert await problem.get_attribute("data-reason") == "auth_revoked"
        text = await banner.inner_text()
        assert "TELEGRAM_BOT_TOKEN" in text and "401" in text and ticket in text
        link = page.locator(f'#channel-banner a[href="/dashboard/cases/{ticket}"]')
        assert await link.count() == 1
        damkar = config.agency("damkar")
        assert damkar.phone in text  # Telegram is down and this gateway has no WhatsApp: phone the crews
        await page.screenshot(path=str(SHOTS / "dashboard-channel-banner.png"), full_page=True)
        await link.click()
        await page.wait_for_url(f"**/dashboard/cases/{ticket}")
        assert csp == []


def card_case_id(card: dict) -> str:
    """The case id the report card's verify button carries (`case:verify:<id>`)."""
    rows = (card.get("reply_markup") or {}).get("inline_keyboard") or []
    data = next(b["callback_data"] for row in rows for b in row if b["callback_data"].startswith("case:verify:"))
    return data.rsplit(":", 1)[1]

"""In a real Chromium on a 360 × 640 phone screen: the web chat's buttons survive a hint and sit above the fold,
and switching the page to English mid-report makes the bot talk English (issue 15, item 2)."""
from __future__ import annotations

import re

from core.i18n import catalog
from core.models import Conversation
from tests.conftest import fresh_database_url
from tests.test_browser import CHROMIUM, FLAGS, SHOTS, SUMENEP, browser, csp_violations  # noqa: F401 - `browser` is a fixture
from tests.test_web_pages import web

PHONE = {"width": 360, "height": 640}
NONSENSE = "zzz qqq"  # no step understands it: the answer is a hint


async def step_of(deps) -> tuple[str, str]:
    """The conversation's step and language, as the server holds them (there is one web chat in these tests)."""
    async with deps.sessions() as s:
        conv = (await s.execute(Conversation.__table__.select())).mappings().one()
    state = conv["state"] or {}
    return state.get("step", "idle"), state.get("lang", "")


async def bot_lines(chat) -> list[str]:
    return await chat.eval_on_selector_all("#log p.bot", "ps => ps.map(p => p.textContent)")


async def said_next(chat, before: int) -> str:
    """Wait for the bot's next message after `before` messages, and return it."""
    return await chat.locator("#log p.bot").nth(before).text_content(timeout=20_000) or ""  # no eval under CSP


async def settle(chat) -> None:
    """Two polls in a row with nothing new: what the page shows is what the server said."""
    await chat.wait_for_timeout(1700)
    await chat.wait_for_timeout(1700)


async def above_the_fold(chat, selector: str) -> None:
    """Visible without scrolling the page: inside the 640 px screen, and the page itself does not scroll."""
    box = await chat.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], (selector, box)
    assert await chat.evaluate("document.scrollingElement.scrollTop") == 0
    text = await chat.locator("#text").bounding_box()
    assert text is not None and text["y"] + text["height"] <= PHONE["height"]  # the input stays reachable


async def hint_keeps(chat, *choices: str) -> str:
    """Type something the step does not understand: a hint comes, and the step's buttons are still there."""
    before = len(await bot_lines(chat))
    await chat.fill("#text", NONSENSE)
    await chat.press("#text", "Enter")
    hint = await said_next(chat, before)
    await settle(chat)
    for choice in choices:
        await above_the_fold(chat, f'#choices button[data-choice="{choice}"]')
    return hint


def fragments(lang: str) -> set[str]:
    """The literal pieces (between placeholders, line by line, 12+ characters) of a catalog's strings."""
    return {piece.strip() for value in catalog(lang).values() for line in value.splitlines()
            for piece in re.split(r"\{\w+\}", line) if len(piece.strip()) >= 12}


def english(text: str) -> bool:
    """Pieces only the English catalog has are in the text, and none only the Indonesian one has."""
    en, id_ = fragments("en"), fragments("id")
    return any(piece in text for piece in en - id_) and not any(piece in text for piece in id_ - en)


async def answer(chat, deps, step: str) -> None:
    """Move the report on from a step the test does not examine, with the first thing a citizen would do."""
    before = len(await bot_lines(chat))
    if step == "location":
        await chat.click("#choices button.primary")  # the location button above the fold, not the tool below
    elif step == "description":
        await chat.fill("#text", "Gudang kayu terbakar, api membesar")
        await chat.press("#text", "Enter")
    elif await chat.locator("#choices form.contact").count():
        await chat.fill("#choices form.contact input", "081234567890")
        await chat.press("#choices form.contact input", "Enter")
    else:
        await chat.locator("#choices button").first.click()  # a proposal ("Kebakaran? ✅ Ya"), a place to confirm
    await said_next(chat, before)


async def test_a_hint_keeps_the_buttons_above_the_fold_and_the_english_page_talks_english(
        browser, tmp_path, config):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with web(await fresh_database_url("sqlite", tmp_path), config) as (client, deps):
        base = str(client.base_url).rstrip("/")
        phone = await browser.new_context(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True,
                                          geolocation=SUMENEP, permissions=["geolocation"])
        chat = await phone.new_page()
        csp = csp_violations(chat)
        await chat.goto(f"{base}/chat?lang=id")
        await chat.fill("#text", "tolong ada kebakaran")
        await chat.press("#text", "Enter")
        await chat.locator("#choices button").first.wait_for(timeout=20_000)
        if await chat.locator('button[data-choice="type:fire"]').count():  # the type buttons, not a guess
            await above_the_fold(chat, 'button[data-choice="type:fire"]')
            before = len(await bot_lines(chat))
            await chat.click('button[data-choice="type:fire"]')
            await said_next(chat, before)

        photo_hinted = False
        for _ in range(12):
            await settle(chat)
            step, _ = await step_of(deps)
            if step == "confirm":
                break
            if step == "photo" and not photo_hinted:
                await hint_keeps(chat, "skip")  # Lewati survives the hint
                assert (await step_of(deps))[0] == "photo"
                photo_hinted = True
                before = len(await bot_lines(chat))
                await chat.click('#choices button[data-choice="skip"]')
                await said_next(chat, before)
            else:
                await answer(chat, deps, step)
        assert photo_hinted and (await step_of(deps))[0] == "confirm"

        hint_id = await hint_keeps(chat, "confirm:send", "confirm:cancel")  # Kirim/Batal survive the hint
        assert (await step_of(deps)) == ("confirm", "id")
        await chat.screenshot(path=str(SHOTS / "web-chat-360.png"))

        await chat.goto(f"{base}/chat?lang=en")  # the page switches language mid-report
        await chat.wait_for_selector('#choices button[data-choice="confirm:send"]')  # the buttons still answer
        before = len(await bot_lines(chat))
        await chat.fill("#text", NONSENSE)
        await chat.press("#text", "Enter")
        said = await said_next(chat, before)
        assert english(said), said
        assert said != hint_id
        await settle(chat)
        assert (await step_of(deps)) == ("confirm", "en")
        await above_the_fold(chat, '#choices button[data-choice="confirm:send"]')
        assert csp == []

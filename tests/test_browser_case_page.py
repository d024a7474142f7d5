"""In Chromium against the real gateway and the fake Bot API: every action of the case page by an operator on a
phone-sized screen, including a radio crew's steps entered for it, seen on the task card in the agency's group."""
from __future__ import annotations

from sqlalchemy import select

from core import accounts
from core.models import Case
from tests.conftest import fresh_database_url
from tests.e2e_support import OPERATORS, report_fire, texts
from tests.harness import eventually, gateway
from tests.images import phone_jpeg
from tests.test_browser import PASSWORD, SHOTS, browser, csp_violations, sign_in  # noqa: F401 - `browser` is a fixture
from tests.test_case_page import add_case

DAMKAR = -1001000000101


def task_card(fake, ticket: str) -> str:
    """The text of the task card about `ticket` in Damkar's group, edits applied."""
    for message in reversed(fake.sent(DAMKAR)):
        text = message.get("text") or message.get("caption") or ""
        if ticket in text:
            return text
    return ""


async def state_of(deps, ticket: str) -> str:
    async with deps.sessions() as s:
        return (await s.execute(select(Case.state).where(Case.ticket == ticket))).scalar_one()


async def test_every_case_page_action_in_the_browser(browser, fake, tmp_path, config):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), config=config) as gw:
        async with gw.deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        ticket = await report_fire(fake, phone_jpeg())
        await add_case(gw.deps, "SMP-11-11-11")  # an open fire another caller reports again
        await add_case(gw.deps, "SMP-33-33-33")
        await add_case(gw.deps, "SMP-44-44-44", kind="flood")

        phone = await browser.new_context(viewport={"width": 375, "height": 740}, locale="id-ID", is_mobile=True)
        page = await phone.new_page()
        seen_csp = csp_violations(page)
        await sign_in(page, gw.url)

        # a fresh report: verify, no close beside it; a note; a refused merge says why
        await page.goto(f"{gw.url}/dashboard/cases/{ticket}")
        assert await page.locator('button[value="close"]').count() == 0
        await page.click("text=Tambah catatan…")
        await page.fill('textarea[name="text"] >> visible=true', "Penelepon kedua: api menjalar")
        await page.click('button[value="note"]')
        await page.wait_for_selector("text=catatan: Penelepon kedua: api menjalar")
        await page.click("text=Gabungkan dengan laporan lain…")
        await page.fill('input[name="target_ticket"]', "SMP-99-99-99")
        await page.click('button[value="duplicate"]')
        assert "Tiket SMP-99-99-99 tidak ditemukan" in await page.locator(".refusal").text_content()
        await page.check('input[name="agencies"][value="pdam"]')
        await page.click('button[value="verify"]')
        await page.wait_for_selector("text=diteruskan ke")
        await eventually(lambda: "menunggu petugas menerima" in task_card(fake, ticket), timeout=20)

        # another agency, then the Damkar crew's radio steps, each on its task card in the group
        await page.click("text=Teruskan ke instansi lain…")
        await page.check('input[name="agencies"][value="polres"]')
        await page.click('button[value="dispatch"]')
        await page.wait_for_selector("text=Polres Sumenep")
        damkar = page.locator("section.task", has_text="Damkar")
        await damkar.locator("summary").click()
        await damkar.locator('input[name="eta"]').fill("8")
        await damkar.locator('input[name="crew"]').fill("Regu Damkar A")
        await damkar.locator('button[value="for_accept"]').click()
        await page.wait_for_selector("text=dimasukkan oleh Operator Satu untuk regu Regu Damkar A")
        await eventually(lambda: "diterima Regu Damkar A, tiba ±8 menit" in task_card(fake, ticket), timeout=20)
        assert await state_of(gw.deps, ticket) == "accepted"
        await page.screenshot(path=str(SHOTS / "dashboard-case-phone.png"), full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing falls off a phone
        await page.set_viewport_size({"width": 1280, "height": 900})
        await page.screenshot(path=str(SHOTS / "dashboard-case.png"), full_page=True)
        await page.set_viewport_size({"width": 375, "height": 740})
        damkar = page.locator("section.task", has_text="Damkar")
        await damkar.locator("summary").click()
        await damkar.locator('button[value="for_arrive"]').click()
        await eventually(lambda: "Regu Damkar A di lokasi" in task_card(fake, ticket), timeout=20)
        damkar = page.locator("section.task", has_text="Damkar")
        await damkar.locator("summary").click()
        await damkar.locator('textarea[name="text"]').fill("Api padam, satu gudang hangus")
        await damkar.locator('button[value="for_done"]').click()
        await eventually(lambda: "selesai (Regu Damkar A)" in task_card(fake, ticket), timeout=20)
        assert "Api padam, satu gudang hangus" in await page.locator("section.task", has_text="Damkar").text_content()

        # closing is red and takes a second step; then the call-back
        await page.click("text=Tutup kasus…")
        await page.click('button[value="close"]')
        await page.wait_for_selector("text=Catat panggilan balik…")
        assert await state_of(gw.deps, ticket) == "closed"
        await page.click("text=Catat panggilan balik…")
        await page.click('button[value="called_back"]')
        await page.wait_for_selector("text=pelapor sudah ditelepon balik")

        # reject with a reason; merge into a case found by part of its ticket
        await page.goto(f"{gw.url}/dashboard/cases/SMP-44-44-44")
        await page.click("text=Tolak laporan…")
        await page.select_option('select[name="reason"]', "hoax")
        await page.click('button[value="reject"]')
        await page.wait_for_selector("text=alasan:")
        assert await state_of(gw.deps, "SMP-44-44-44") == "rejected"
        await page.goto(f"{gw.url}/dashboard/cases/SMP-33-33-33")
        await page.click("text=Gabungkan dengan laporan lain…")
        await page.fill('input[name="dup"]', "1111")
        await page.click("text=Cari")
        await page.check('input[name="target"][value="SMP-11-11-11"]')
        await page.click('button[value="duplicate"]')
        await page.wait_for_selector("text=digabung ke SMP-11-11-11")
        assert await state_of(gw.deps, "SMP-33-33-33") == "duplicate"
        assert "Api padam, satu gudang hangus" in texts(fake, OPERATORS)  # the crew's report, as from a press
        assert seen_csp == []

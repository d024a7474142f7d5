"""Leadership's oversight end to end: the daily digest at 07:00 local, /statistik, the duty roster."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from core.clock import FakeClock
from core.i18n import t
from tests.conftest import fresh_database_url
from tests.e2e_support import CITIZEN, OPERATORS, report_fire, texts, wait_text
from tests.harness import eventually, gateway
from tests.images import phone_jpeg
from tests.test_e2e_casework import DAMKAR, OPERATOR, REGU_A, card_of
from tests.test_figures import populate
from workflows import figures_text

BUPATI_OFFICE = -1001000009999
LEADERS = (2001, 2002, 2003)
DIGEST = ("Laporan masuk: 5", "Darurat diterima petugas dalam batas waktu: 1 dari 3 (33%)",
          "Laporan ditolak sebagai hoaks/iseng: 1 (20% dari laporan)", "Per saluran: Telegram 5",
          "verifikasi → tugas ke petugas ≤ 60 dtk: 4 dari 4", "4.0 dari 5 (2 penilaian)",
          "Kasus masih terbuka saat ini: 4")


def digests(fake, chat: int) -> list[str]:
    return [m["text"] for m in fake.sent(chat) if "Rekap harian" in (m.get("text") or "")]


async def test_the_daily_digest_goes_out_at_seven_with_the_figures_of_yesterday(fake, tmp_path, config):
    clock = FakeClock()
    fake.group(BUPATI_OFFICE, "Kantor Bupati")
    with_office = config.model_copy(update={"digest": config.digest.model_copy(
        update={"telegram_chat_ids": [BUPATI_OFFICE]})})
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), clock=clock, config=with_office) as gw:
        due = figures_text.next_digest_at(config, clock.now())
        yesterday = due.astimezone(config.region.tz).date() - timedelta(days=1)
        async with gw.deps.sessions() as s, s.begin():
            await populate(s, config, yesterday)
        clock.advance(seconds=(due - clock.now()).total_seconds() - 30)
        await asyncio.sleep(2)
        assert all(digests(fake, chat) == [] for chat in (*LEADERS, BUPATI_OFFICE))
        clock.advance(seconds=31)
        for chat in (*LEADERS, BUPATI_OFFICE):
            [text] = await eventually(lambda chat=chat: digests(fake, chat), timeout=40)
            assert yesterday.strftime("%d-%m-%Y") in text
            for fragment in DIGEST:
                assert fragment in text, fragment
        clock.advance(minutes=5)
        await asyncio.sleep(2)
        assert all(len(digests(fake, chat)) == 1 for chat in (*LEADERS, BUPATI_OFFICE))


async def test_statistik_for_operators_and_leaders_not_for_crews(fake, gw):
    await fake.send_text(OPERATOR, "/statistik minggu", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, "Statistik 112 Kabupaten Sumenep 7 hari terakhir")
    await fake.send_text(2003, "/statistik")  # the Bupati, in a private chat with the bot
    await wait_text(fake, 2003, "Statistik 112 Kabupaten Sumenep hari ini")
    await fake.send_text(REGU_A, "/statistik", chat_id=DAMKAR)
    await wait_text(fake, DAMKAR, t("id", "figures.not_allowed"))
    await fake.send_text(OPERATOR, "/statistik tahun", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, t("id", "figures.usage"))


async def test_duty_roster_and_the_kabid_alert_when_no_operator_is_on_duty(fake, gw):
    kabid = 2002
    first = await report_fire(fake, phone_jpeg())
    await wait_text(fake, kabid, "Tidak ada operator yang sedang piket")
    assert first in texts(fake, kabid)

    await fake.send_text(OPERATOR, "/masuk", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, "Operator Satu mulai piket sebagai operator 112")
    await fake.send_text(REGU_A, "/masuk", chat_id=DAMKAR)
    await wait_text(fake, DAMKAR, "Regu Damkar A mulai piket sebagai 🚒 Pemadam Kebakaran")
    await fake.send_text(REGU_A, "/masuk", chat_id=DAMKAR)
    await wait_text(fake, DAMKAR, "Regu Damkar A sudah tercatat piket")
    await fake.send_text(OPERATOR, "/piket", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, "• operator 112: Operator Satu")
    assert "Regu Damkar A" in texts(fake, OPERATORS).split("Petugas piket sekarang")[-1]

    alerts = texts(fake, kabid).count("Tidak ada operator")
    await fake.send_text(CITIZEN, "/batal")
    second = await report_fire(fake, phone_jpeg())
    await card_of(fake, second, "case:verify")
    await eventually(lambda: second in texts(fake, kabid), timeout=40)  # the ordinary leadership notice
    await asyncio.sleep(1)
    assert texts(fake, kabid).count("Tidak ada operator") == alerts  # an operator is on duty now

    await fake.send_text(OPERATOR, "/keluar", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, "Operator Satu selesai piket")
    await fake.send_text(CITIZEN, "/start")  # a citizen typing a staff command is not staff
    await fake.send_text(CITIZEN, "/masuk")
    await asyncio.sleep(1)
    assert "mulai piket" not in texts(fake, CITIZEN)

"""`/lapor` over HTTP webhooks with the fake Bot API: from the operators' group, through the guided intake in the
operator's private chat, to a case dispatched to the agency's group with the clock running from the call."""
from __future__ import annotations

import re

from sqlalchemy import select

from core.models import Case
from tests.conftest import fresh_database_url
from tests.e2e_support import OPERATORS, SUMENEP, find, texts, wait_new, wait_text
from tests.harness import eventually, gateway

OPERATOR, OPERATOR_2, DAMKAR, CITIZEN = 1001, 1002, -1001000000101, 5001


def newest_with(fake, chat_id: int, data: str) -> dict | None:
    message = fake.sent(chat_id)[-1] if fake.sent(chat_id) else None
    rows = ((message or {}).get("reply_markup") or {}).get("inline_keyboard") or []
    return message if any(b.get("callback_data") == data for row in rows for b in row) else None


async def press_when_shown(fake, data: str) -> None:
    message = await eventually(lambda: newest_with(fake, OPERATOR, data), timeout=30)
    await fake.press_button(OPERATOR, message, data)


async def test_lapor_from_the_operators_group_to_a_dispatched_case(fake, tmp_path):
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path)) as gw:
        await fake.send_text(CITIZEN, "/lapor", chat_id=OPERATORS)  # not an operator: refused, nothing opens
        await wait_text(fake, OPERATORS, "hanya operator 112")
        await fake.send_text(OPERATOR_2, "/lapor", chat_id=OPERATORS)  # never wrote to the bot: told to start it
        await wait_text(fake, OPERATORS, "tekan Mulai (Start)")

        await fake.send_text(OPERATOR, "/start")  # the operator has a private chat with the bot
        await eventually(lambda: fake.sent(OPERATOR), timeout=30)
        since = len(fake.sent(OPERATOR))
        await fake.send_text(OPERATOR, "/lapor", chat_id=OPERATORS)
        await wait_text(fake, OPERATORS, "formulir laporan dibuka di chat pribadi")
        await press_when_shown(fake, "lapor:type:fire")
        await wait_new(fake, OPERATOR, "Nama dan nomor penelepon", since)
        await fake.send_text(OPERATOR, "Bu Sri 0812-abc")  # a wrong number is asked again
        await wait_new(fake, OPERATOR, "Nomor tidak dikenali", since)
        await fake.send_text(OPERATOR, "Bu Sri 0812 3456 7890")
        await wait_new(fake, OPERATOR, "Lokasi kejadian", since)
        await fake.send_location(OPERATOR, *SUMENEP)
        await wait_new(fake, OPERATOR, "Apa yang terjadi", since)
        await fake.send_text(OPERATOR, "Dapur rumah terbakar")
        await press_when_shown(fake, "lapor:via:phone")
        await press_when_shown(fake, "lapor:send")
        done = await wait_new(fake, OPERATOR, "dibuat dan diteruskan", since)
        ticket = re.search(r"SMN-\d\d-\d\d-\d\d", done["text"]).group(0)

        task = await eventually(lambda: find(fake, DAMKAR, ticket), timeout=30)  # the crew's task card
        rows = (task.get("reply_markup") or {}).get("inline_keyboard") or []
        assert any(b["callback_data"].startswith("task:accept") for row in rows for b in row)
        assert "Dapur rumah terbakar" in (task.get("text") or task.get("caption"))
        async with gw.deps.sessions() as s:
            case = (await s.execute(select(Case).where(Case.ticket == ticket))).scalar_one()
        assert (case.state, case.intake, case.entered_by, case.caller_phone) == (
            "dispatched", "phone", f"telegram:{OPERATOR}", "6281234567890")
        assert case.operator == f"telegram:{OPERATOR}" and case.submitted_at <= case.dispatched_at
        assert ticket in texts(fake, OPERATORS)  # the operators' card, posted once with the dispatch

        await fake.send_text(OPERATOR, "halo")  # the intake is over: the chat is the citizen flow again
        await wait_new(fake, OPERATOR, "jenis kejadian", len(fake.sent(OPERATOR)) - 1)  # the type buttons again

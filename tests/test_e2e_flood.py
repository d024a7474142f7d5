"""A citizen flooding the bot is answered once and slowed; after a quiet minute they are served again."""
from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from core.clock import FakeClock
from core.i18n import t
from core.models import InboxItem
from tests.conftest import fresh_database_url
from tests.e2e_support import CITIZEN
from tests.harness import eventually, gateway

LIMIT = 5


async def test_a_burst_of_messages_is_answered_once_then_ignored_until_it_calms(fake, tmp_path, config):
    clock = FakeClock()
    limited = config.model_copy(update={"limits": config.limits.model_copy(update={"messages_per_minute": LIMIT})})
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), clock=clock, config=limited) as gw:
        for n in range(12):
            await fake.send_text(CITIZEN, f"halo {n}")
        async def all_done():
            async with gw.deps.sessions() as s:
                return await s.scalar(select(func.count()).select_from(InboxItem).where(
                    InboxItem.channel == "telegram", InboxItem.status == "done")) == 12
        await eventually(all_done, timeout=40)
        slow = t("id", "flood.messages", number="112")
        await eventually(lambda: any(slow in (m.get("text") or "") for m in fake.sent(CITIZEN)), timeout=40)
        await asyncio.sleep(2)
        sent = [m.get("text") or "" for m in fake.sent(CITIZEN)]
        assert sum(slow in x for x in sent) == 1
        before = len(sent)
        assert before <= LIMIT + 2  # the greeting/menu and hints for the first five, and the one warning

        clock.advance(seconds=61)
        await fake.send_text(CITIZEN, "/status")
        await eventually(lambda: len(fake.sent(CITIZEN)) > before, timeout=40)
        assert slow not in (fake.sent(CITIZEN)[-1].get("text") or "")

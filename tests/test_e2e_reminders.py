"""A silent half-finished report is reminded once, then expires — timers fired by the running worker."""
from __future__ import annotations

import asyncio

import pytest

from core.clock import FakeClock
from core.i18n import t
from tests.conftest import fresh_database_url
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import eventually, gateway

CITIZEN = 5001


@pytest.mark.parametrize("shape", ["embedded", "production"])
async def test_reminder_then_expiry_with_a_controllable_clock(shape, tmp_path, redis_url, config):
    clock = FakeClock()
    async with FakeTelegram() as fake:
        fake.user(CITIZEN, "Budi")
        fake.group(config.operators.telegram_chat_id)
        url = await fresh_database_url("sqlite" if shape == "embedded" else "postgres", tmp_path)
        extra = {} if shape == "embedded" else {"redis_url": redis_url, "run_worker": False, "workers": 1}
        async with gateway(fake, url, clock=clock, **extra):
            await fake.send_text(CITIZEN, "tolong")
            await eventually(lambda: len(fake.sent(CITIZEN)) == 1)

            def texts():
                return [m.get("text") for m in fake.sent(CITIZEN)]
            clock.advance(minutes=config.conversation.reminder_minutes - 1)
            await asyncio.sleep(1.5)  # the timer loop polls every second: give it a chance to fire early
            assert len(texts()) == 1
            clock.advance(minutes=1, seconds=1)
            await eventually(lambda: any(t("id", "report.reminder") in (x or "") for x in texts()))
            clock.advance(minutes=config.conversation.expire_minutes)
            await eventually(lambda: t("id", "report.expired") in texts())
            reminders = [x for x in texts() if t("id", "report.reminder") in (x or "")]
            assert len(reminders) == 1 and len(texts()) == 3

"""Development polling (bots/telegram/polling.py) against the fake Bot API's getUpdates: nothing is lost."""
from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bots.app import build_deps, stop_deps
from bots.pipeline.intake import StorageDown
from bots.telegram import polling
from core.models import InboxItem
from core.settings import load_settings
from tests.conftest import fresh_database_url
from tests.harness import SECRET_KEY, eventually

CITIZEN = 5001
FAST = 1  # getUpdates' long-poll timeout in these tests: a stop is noticed within about a second


@pytest.fixture
async def deps(fake, config, tmp_path):
    """One process in polling mode (no public URL) on a fresh SQLite database, its Bot pointed at the fake."""
    settings = load_settings(database_url=await fresh_database_url("sqlite", tmp_path), telegram_bot_token=fake.token,
                             telegram_api_base_url=fake.base_url, siaga_secret_key=SECRET_KEY)
    assert settings.telegram_effective_mode == "polling"
    deps = build_deps(settings, config)
    await deps.channels["telegram"].start()
    yield deps
    await stop_deps(deps)


async def inbox_update_ids(deps) -> list[int]:
    async with deps.sessions() as session:
        rows = (await session.execute(select(InboxItem.external_id).order_by(InboxItem.id))).scalars()
        return [int(r) for r in rows]


async def stored(deps, count: int) -> list[int]:
    async def enough():
        ids = await inbox_update_ids(deps)
        return ids if len(ids) >= count else None
    return await eventually(enough, timeout=10)


async def stopped(task: asyncio.Task, stop: asyncio.Event) -> None:
    stop.set()
    await asyncio.wait_for(task, timeout=FAST + 5)


def methods(fake) -> list[str]:
    return [c.method for c in fake.calls]


async def test_webhook_is_deleted_first_then_updates_land_in_the_inbox_in_order(fake, deps):
    await deps.channels["telegram"].bot.set_webhook("http://127.0.0.1:9/webhooks/telegram")
    stop = asyncio.Event()
    task = asyncio.create_task(polling.poll(deps, stop, timeout=FAST))
    await eventually(lambda: "getUpdates" in methods(fake))
    assert fake.webhook is None
    calls = methods(fake)
    assert calls.index("deleteWebhook") < calls.index("getUpdates")
    assert fake.calls[calls.index("deleteWebhook")].params.get("drop_pending_updates") is False

    sent = [(await fake.send_text(CITIZEN, f"pesan {i}"))["update_id"] for i in range(5)]

    assert await stored(deps, 5) == sent
    async with deps.sessions() as session:
        first = (await session.execute(select(InboxItem).order_by(InboxItem.id))).scalars().first()
    assert first.payload["message"]["text"] == "pesan 0" and first.conversation_key == f"telegram:{CITIZEN}"
    await stopped(task, stop)
    poll_params = [c.params for c in fake.calls if c.method == "getUpdates"]
    assert poll_params[0]["allowed_updates"] == ["message", "callback_query"]
    assert poll_params[-1]["offset"] == sent[-1] + 1  # each stored update confirmed by the next poll


async def test_updates_queued_before_start_are_fetched(fake, deps):
    sent = [(await fake.send_text(CITIZEN, f"lebih dulu {i}"))["update_id"] for i in range(3)]
    stop = asyncio.Event()
    task = asyncio.create_task(polling.poll(deps, stop, timeout=FAST))
    assert await stored(deps, 3) == sent
    await stopped(task, stop)


@pytest.mark.parametrize("crash", ["before_storing", "after_storing"])
async def test_a_crash_between_get_and_confirm_loses_nothing_and_stores_once(fake, deps, monkeypatch, crash):
    """The offset is confirmed only by the next getUpdates, after the store: a process that dies before gets
    the same update again on restart; one that dies after stored it, and the inbox drops the repeat."""
    real_store = polling.store_update
    attempts: list[int] = []

    async def crashing_store(deps_, update):
        attempts.append(update["update_id"])
        if crash == "after_storing":
            await real_store(deps_, update)
        raise RuntimeError("process died")

    monkeypatch.setattr(polling, "store_update", crashing_store)
    update_id = (await fake.send_text(CITIZEN, "tolong"))["update_id"]
    with pytest.raises(RuntimeError, match="process died"):
        await asyncio.wait_for(polling.poll(deps, asyncio.Event(), timeout=FAST), timeout=10)
    assert attempts == [update_id]
    assert await inbox_update_ids(deps) == ([update_id] if crash == "after_storing" else [])

    monkeypatch.setattr(polling, "store_update", real_store)
    stop = asyncio.Event()
    task = asyncio.create_task(polling.poll(deps, stop, timeout=FAST))
    assert await stored(deps, 1) == [update_id]
    later = (await fake.send_text(CITIZEN, "masih ada"))["update_id"]
    assert await stored(deps, 2) == [update_id, later]  # the repeat was not stored twice
    await stopped(task, stop)


async def test_a_network_error_is_retried(fake, deps):
    fake.fail_next("getUpdates", error_code=502, count=1)  # PTB: NetworkError("Bad Gateway")
    update_id = (await fake.send_text(CITIZEN, "tolong"))["update_id"]
    stop = asyncio.Event()
    task = asyncio.create_task(polling.poll(deps, stop, timeout=FAST))
    assert await stored(deps, 1) == [update_id]
    assert next(c.status for c in fake.calls if c.method == "getUpdates") == 502
    assert not task.done()
    await stopped(task, stop)


async def test_the_database_away_while_storing_keeps_polling_and_loses_nothing(fake, deps, monkeypatch):
    """StorageDown (nothing could be stored) does not end the loop: the same update is fetched again and
    stored once the database answers."""
    real_store = polling.store_update
    tries: list[int] = []

    async def database_away_once(deps_, update):
        tries.append(update["update_id"])
        if len(tries) == 1:
            raise StorageDown
        return await real_store(deps_, update)

    monkeypatch.setattr(polling, "store_update", database_away_once)
    update_id = (await fake.send_text(CITIZEN, "tolong"))["update_id"]
    stop = asyncio.Event()
    task = asyncio.create_task(polling.poll(deps, stop, timeout=FAST))
    assert await stored(deps, 1) == [update_id]
    assert tries == [update_id, update_id] and not task.done()
    await stopped(task, stop)


async def test_stop_ends_the_loop(fake, deps):
    stop = asyncio.Event()
    task = asyncio.create_task(polling.poll(deps, stop, timeout=FAST))
    await eventually(lambda: "getUpdates" in methods(fake))
    await stopped(task, stop)  # within the long poll's timeout
    polls = methods(fake).count("getUpdates")
    await asyncio.sleep(FAST + 0.5)
    assert methods(fake).count("getUpdates") == polls

    stop_first = asyncio.Event()
    stop_first.set()
    await asyncio.wait_for(polling.poll(deps, stop_first, timeout=FAST), timeout=5)
    assert methods(fake).count("getUpdates") == polls  # a stopped process does not poll at all

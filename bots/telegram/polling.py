"""Development mode without a public URL: one getUpdates loop feeding the same inbox as the webhook."""
from __future__ import annotations

import asyncio

import structlog
from telegram.error import NetworkError, TimedOut

from bots.pipeline.deps import Deps
from bots.pipeline.intake import StorageDown
from bots.telegram.webhook import store_update

log = structlog.get_logger()


async def poll(deps: Deps, stop: asyncio.Event, timeout: int = 25) -> None:
    """Confirm an offset only after the update is in the inbox, so nothing is lost on a crash."""
    bot = deps.channels["telegram"].bot
    await bot.delete_webhook(drop_pending_updates=False)
    offset = 0
    while not stop.is_set():
        try:
            updates = await bot.get_updates(offset=offset, timeout=timeout, read_timeout=timeout + 10,
                                            allowed_updates=["message", "callback_query"])
        except (TimedOut, NetworkError) as exc:
            log.info("polling_retry", error=type(exc).__name__)
            await asyncio.sleep(2)
            continue
        try:
            for update in updates:
                await store_update(deps, update.to_dict())
                offset = update.update_id + 1
        except StorageDown:  # the database is away: the rest is fetched again from the last stored offset
            log.warning("polling_storage_down")
            await asyncio.sleep(2)

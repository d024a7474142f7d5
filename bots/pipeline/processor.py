"""Drain the inbox: one conversation at a time per lock, its events strictly in arrival order."""
from __future__ import annotations

import asyncio

import structlog

from bots.pipeline.deps import Deps
from bots.pipeline.media import attach_media
from bots.pipeline.metrics import EVENTS_FAILED, EVENTS_PROCESSED
from core import inbox
from core.failure import describe, scrubbed
from core.messages import Kind

log = structlog.get_logger()
LOCK_TTL = 15.0  # renewed while held (redis_coordination): a killed worker's conversations wait at most this


class Processor:
    def __init__(self, deps: Deps, concurrency: int = 1) -> None:
        self.deps = deps
        self.concurrency = concurrency

    async def run_once(self) -> int:
        """Process what is due now; returns how many events were handled."""
        async with self.deps.sessions() as session:
            keys = await inbox.pending_conversations(session, self.deps.clock.now(), limit=50)
        if not keys:
            return 0
        sem = asyncio.Semaphore(self.concurrency)

        async def one(key: str) -> int:
            async with sem:
                return await self.drain(key)

        return sum(await asyncio.gather(*(one(k) for k in keys)))

    async def drain(self, key: str) -> int:
        """Handle the conversation's pending events in order while holding its lock."""
        done = 0
        async with self.deps.coord.lock(f"conv:{key}", LOCK_TTL) as acquired:
            if not acquired:
                return 0
            while True:
                async with self.deps.sessions() as session:
                    item = await inbox.next_item(session, key, self.deps.clock.now())
                if item is None:
                    return done
                if not await self.process(item):
                    return done
                done += 1
                await self.deps.coord.wake("outbox")  # its replies (a button's answer: ~15 s to live) go out now

    async def process(self, item) -> bool:
        """Parse, fetch media, apply; a failure is recorded on the item and retried later, never dropped, and
        parked after its tries. The try is counted first, so an event that kills the process is parked too."""
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(channel=item.channel, inbox_id=item.id)
        async with self.deps.sessions() as session, session.begin():
            attempt = await inbox.begin_attempt(session, item.id, self.deps.clock.now())
        if attempt == inbox.PARKED:
            log.warning("event_parked", attempts=inbox.MAX_ATTEMPTS)  # its tries never finished: a crash, a kill
        if attempt != inbox.GO:
            return True  # parked, or done by another worker: on to the conversation's next event
        try:
            handlers = self.deps.handlers
            if (parse := handlers.parsers.get(item.channel)) is not None:  # a timer, a dashboard action
                event = parse(item.payload)
            else:
                channel = self.deps.channels[item.channel]
                event = channel.parse(item.payload)
                if event is not None and event.media is not None and event.kind in (Kind.PHOTO, Kind.DOCUMENT) \
                        and event.media.media_id is None and event.media.problem is None:  # web chat: checked at upload
                    event = await attach_media(self.deps, channel, event)
            await handlers.apply(self.deps, item.id, event)
            EVENTS_PROCESSED.labels(item.channel).inc()
            return True
        except Exception as exc:  # noqa: BLE001 - any failure must leave the event for a retry
            EVENTS_FAILED.labels(item.channel).inc()
            reason = describe(exc)  # the type and the message's wording; SQL parameters are citizen text
            log.warning("event_failed", error=type(exc).__name__, detail=scrubbed(exc))
            async with self.deps.sessions() as session, session.begin():
                await inbox.record_failure(session, item.id, reason, self.deps.clock.now())
            return False

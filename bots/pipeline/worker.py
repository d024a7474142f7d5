"""The worker's loops: process the inbox, fire timers, send the outbox; polling is the fallback for wake-ups."""
from __future__ import annotations

import asyncio
import time

import structlog

from bots.pipeline.deps import Deps
from bots.pipeline.processor import Processor
from bots.pipeline.sender import Sender
from core import timers
from core.failure import scrubbed

log = structlog.get_logger()


class Worker:
    def __init__(self, deps: Deps, *, poll: float = 1.0) -> None:
        self.deps = deps
        sqlite = deps.engine.dialect.name == "sqlite"
        self.processor = Processor(deps, concurrency=1 if sqlite else 8)
        self.sender = Sender(deps)
        self.poll = poll
        self._calendar_checked: float | None = None

    async def fire_timers(self) -> int:
        if self._calendar_checked is None or time.monotonic() - self._calendar_checked > 600:
            await self.plan_calendar()  # at start, and again now and then in case a digest row went missing
            self._calendar_checked = time.monotonic()
        async with self.deps.sessions() as session, session.begin():
            fired = await timers.fire_due(session, self.deps.clock.now())
        if fired:
            await self.deps.coord.wake("inbox")
        return fired

    async def process(self) -> int:
        n = await self.processor.run_once()
        if n:
            await self.deps.coord.wake("outbox")
        return n

    async def tick(self) -> int:
        """One pass of everything; tests call this directly with a fake clock."""
        return await self.fire_timers() + await self.process() + await self.sender.run_once()

    async def plan_calendar(self) -> None:
        """Make sure the next daily digest and retention pass are planned (once, whichever process gets there first)."""
        async with self.deps.sessions() as session, session.begin():
            await self.deps.handlers.plan_calendar(session, self.deps.config, self.deps.clock.now())

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(self._loop(stop, "inbox", self.process),
                             self._loop(stop, "outbox", self.sender.run_once, self.sender.idle_for),
                             self._loop(stop, "timers", self.fire_timers))

    async def _loop(self, stop: asyncio.Event, topic: str, work, idle_for=None) -> None:
        """Work while there is work; otherwise sleep until woken or until the next poll."""
        while not stop.is_set():
            try:
                busy = await work()
                # Inside the guard too: a PostgreSQL restart here killed the worker (bench/faults.py).
                timeout = 0 if busy else self.poll if idle_for is None else await idle_for(self.poll)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a database blip must not kill the worker
                log.warning("worker_loop_error", loop=topic, error=type(exc).__name__, detail=scrubbed(exc))
                timeout = 0
                await asyncio.sleep(self.poll)
            if timeout > 0:
                await self.deps.coord.wait(topic, timeout)

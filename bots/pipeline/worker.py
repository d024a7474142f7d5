"""The worker's loops: process the inbox, fire timers, send the outbox; polling is the fallback for wake-ups."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import structlog

from bots.pipeline.deps import Deps
from bots.pipeline.processor import Processor
from bots.pipeline.sender import Sender
from core import heartbeats, timers
from core.failure import scrubbed

log = structlog.get_logger()
BEAT = timedelta(seconds=15)  # at most one heartbeat write per loop per this long
FORGET_EVERY = timedelta(hours=1)  # how often a process deletes heartbeats older than a day


class Worker:
    def __init__(self, deps: Deps, *, poll: float = 1.0) -> None:
        self.deps = deps
        sqlite = deps.engine.dialect.name == "sqlite"
        self.processor = Processor(deps, concurrency=1 if sqlite else 8)
        self.sender = Sender(deps)
        self.poll = poll
        self._calendar_checked: float | None = None
        self._beaten: dict[str, datetime] = {}  # each loop's last heartbeat written (core/heartbeats.py)
        self._forgotten: datetime | None = None

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
        done = await self.fire_timers() + await self.process() + await self.sender.run_once()
        await self.beat(*heartbeats.LOOPS)
        return done

    async def beat(self, *loops: str) -> None:
        """Tell the database these loops just made a pass (at most once per BEAT each), for /metrics;
        a failure is only logged: the loop's work matters more than its heartbeat."""
        due: list[str] = []
        try:
            now = self.deps.clock.now()
            due = [loop for loop in loops if not timedelta(0) <= now - self._beaten.get(loop, now - BEAT) < BEAT]
            if not due:
                return
            forget = self._forgotten is None or not timedelta(0) <= now - self._forgotten < FORGET_EVERY
            async with self.deps.sessions() as session, session.begin():  # its own short transaction
                await heartbeats.beat(session, heartbeats.process_name(), due, now)
                if forget:
                    await heartbeats.forget_old(session, now)
            self._beaten.update(dict.fromkeys(due, now))
            self._forgotten = now if forget else self._forgotten
        except Exception as exc:  # noqa: BLE001 - logged; the next pass tries again
            log.warning("heartbeat_failed", loops=due, error=type(exc).__name__, detail=scrubbed(exc))

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
                await self.beat(topic)  # after a pass that worked: a loop failing every time reads as stopped
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

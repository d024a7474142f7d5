"""Coordination between workers: locks, shared rate limits and wake-ups; in-process when there is no Redis."""
from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Limit:
    """At most `count` sends per `window` seconds for `key` (e.g. one Telegram group). `platform`: the platform
    counts these sends too, so if the shared store loses its windows (Redis restarted without persistence) the
    platform's still run and the key is held back one window; our own abuse limits just start afresh."""

    key: str
    count: int
    window: float
    platform: bool = False


class Coordinator(Protocol):
    def lock(self, key: str, ttl: float) -> AbstractAsyncContextManager[bool]: ...
    async def take(self, limits: list[Limit], *, when_down: float = 1.0) -> float: ...
    async def wake(self, topic: str) -> None: ...
    async def wait(self, topic: str, timeout: float) -> None: ...
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...


class LocalCoordinator:
    """One process: asyncio locks, sliding-window logs in memory, asyncio events."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._logs: dict[str, deque[float]] = defaultdict(deque)
        self._events: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    @asynccontextmanager
    async def lock(self, key: str, ttl: float) -> AsyncIterator[bool]:
        lock = self._locks[key]
        if lock.locked():
            yield False
            return
        async with lock:
            yield True

    async def take(self, limits: list[Limit], *, when_down: float = 1.0) -> float:
        """Consume one slot in every limit, or consume none and return how long to wait. (`when_down`: what a
        shared implementation answers while its store is unreachable; in-process there is no such case.)"""
        now = time.monotonic()
        wait = 0.0
        for lim in limits:
            log = self._logs[lim.key]
            while log and log[0] <= now - lim.window:
                log.popleft()
            if len(log) >= lim.count:
                wait = max(wait, log[0] + lim.window - now)
        if wait > 0:
            return wait
        for lim in limits:
            self._logs[lim.key].append(now)
        return 0.0

    async def wake(self, topic: str) -> None:
        self._events[topic].set()

    async def wait(self, topic: str, timeout: float) -> None:
        event = self._events[topic]
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        event.clear()

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None

"""Group commit: webhook writes that arrive while a transaction commits share the next one, so a flood costs
one commit (one fsync on SQLite) and one INSERT per batch instead of one per update, and each delivery is
still acknowledged only after its own commit."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bots.pipeline.intake_gate import IntakeGate
from core import inbox

Write = Callable[[AsyncSession], Awaitable[int]]

MAX_BATCH = 200  # a batch commits in milliseconds: far inside a webhook's patience


@dataclass
class Pending:
    """One caller's write: an inbox row (`inbox.row`), or a function of the session that returns new rows."""

    row: dict[str, Any] | None = None
    write: Write | None = None
    done: asyncio.Future[int] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit:
    """Queue writes and run them in as few transactions as arrivals allow (no waiting to fill a batch)."""

    def __init__(self, sessions: async_sessionmaker, refused: Callable[[BaseException], bool],
                 gate: IntakeGate | None = None) -> None:
        self.sessions = sessions
        self.refused = refused  # the database refused a value (it is up): retry that batch one by one
        self.gate = gate  # the embedded shape: raised while a batch waits for SQLite's write lock
        self._queue: list[Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    async def insert(self, row: dict[str, Any]) -> int:
        """Store an inbox row unless its key is known; 1 when it is new, 0 for a re-delivery."""
        return await self._submit(Pending(row=row))

    async def run(self, write: Write) -> int:
        """Run `write(session)` in a committed transaction, perhaps shared; what it returned."""
        return await self._submit(Pending(write=write))

    async def _submit(self, pending: Pending) -> int:
        self._queue.append(pending)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._drain())
        return await asyncio.shield(pending.done)  # a caller that gives up does not cancel the others' commit

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            await self._commit(batch)

    async def _commit(self, batch: list[Pending]) -> None:
        try:
            with self.gate.raised() if self.gate else nullcontext():
                async with self.sessions() as session, session.begin():
                    results = await _apply(session, batch)
        except Exception as exc:  # noqa: BLE001 - handed to each caller, who sorts it (intake.store_or_park)
            if len(batch) > 1 and self.refused(exc):  # one bad value must not fail its neighbours
                for one in batch:
                    await self._commit([one])
                return
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        for pending, n in zip(batch, results, strict=True):
            if not pending.done.done():
                pending.done.set_result(n)


async def _apply(session: AsyncSession, batch: list[Pending]) -> list[int]:
    """Every row in one INSERT, then the other writes; a key twice in one batch is new only the first time."""
    rows = [p.row for p in batch if p.row is not None]
    new = await inbox.store_many(session, rows) if rows else set()
    results = []
    for pending in batch:
        if pending.row is not None:
            key = (pending.row["channel"], pending.row["external_id"])
            results.append(int(key in new))
            new.discard(key)
        else:
            assert pending.write is not None
            results.append(int(await pending.write(session)))
    return results

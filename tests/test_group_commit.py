"""Webhook writes that arrive together share one transaction and one INSERT, yet each caller learns its own
answer and a refused value fails nobody else; the embedded worker child yields SQLite's write lock to them."""
from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from sqlalchemy import event, func, select

from bots.pipeline.group_commit import GroupCommit
from bots.pipeline.intake import value_problem
from bots.pipeline.intake_gate import LONGEST_YIELD, IntakeGate
from core import inbox
from core.models import InboxItem

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def row(n: int, payload: dict | None = None) -> dict:
    return inbox.row(channel="telegram", external_id=str(n), conversation_key=f"telegram:{n}",
                     payload=payload if payload is not None else {"update_id": n}, now=NOW)


async def test_concurrent_deliveries_share_transactions_and_each_gets_its_own_answer(sessions):
    commits: list[int] = []

    def counted(_conn) -> None:
        commits.append(1)
    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "commit", counted)
    writes = GroupCommit(sessions, value_problem)
    answers = await asyncio.gather(*(writes.insert(row(n)) for n in [*range(50), 7, 8]))
    event.remove(engine, "commit", counted)
    assert answers[:50] == [1] * 50 and answers[50:] == [0, 0]  # a key twice in a burst is new only once
    assert len(commits) < 10  # 52 deliveries, a handful of commits (the first alone, the rest batched)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 50
    assert await writes.insert(row(3)) == 0  # a re-delivery later is known too


async def test_a_value_the_database_refuses_fails_only_its_own_delivery(sessions):
    writes = GroupCommit(sessions, value_problem)
    bad = row(99, {"text": "nul \x00 byte", "n": float("nan")})  # PostgreSQL's json refuses NaN; SQLite's TEXT takes it
    results = await asyncio.gather(writes.insert(row(1)), writes.insert(bad), writes.insert(row(2)),
                                   return_exceptions=True)
    assert results[0] == 1 and results[2] == 1
    async with sessions() as session:
        keys = set((await session.execute(select(InboxItem.external_id))).scalars())
    assert {"1", "2"} <= keys
    if isinstance(results[1], BaseException):  # refused (PostgreSQL): its caller sorts it, nobody else failed
        assert value_problem(results[1]) and "99" not in keys


async def test_the_worker_child_waits_while_the_web_stores_and_not_longer_than_its_bound(tmp_path):
    database = f"sqlite+aiosqlite:///{tmp_path / 'siaga.db'}"
    web, child = IntakeGate.beside(database), IntakeGate.beside(database)  # two processes' views of one file
    assert web is not None and child is not None
    assert IntakeGate.beside("postgresql+asyncpg://h/db") is None
    started = time.monotonic()
    await child.yield_to_intake()
    assert time.monotonic() - started < 0.01  # nothing stored: no wait

    async def store_for(seconds: float) -> None:
        with web.raised():
            await asyncio.sleep(seconds)
    storing = asyncio.create_task(store_for(0.05))
    await asyncio.sleep(0.005)
    started = time.monotonic()
    await child.yield_to_intake()
    assert 0.03 < time.monotonic() - started < LONGEST_YIELD  # went on as soon as the web had stored
    await storing
    with web.raised():  # a web that stores for long does not stop processing: bounded
        started = time.monotonic()
        await child.yield_to_intake()
        assert LONGEST_YIELD - 0.01 < time.monotonic() - started < LONGEST_YIELD + 0.1

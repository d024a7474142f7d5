"""Timers are rows with a due time; firing one turns it into an inbox event for its conversation."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import inbox
from core.db import dialect_insert
from core.models import Timer

CHANNEL = inbox.TIMERS  # the inbox rows of fired timers: a pseudo-channel no adapter writes


async def schedule(session: AsyncSession, *, kind: str, key: str, version: int, due_at: datetime,
                   payload: dict[str, Any]) -> None:
    """Arm the timer; the same (kind, key, version) again re-arms that one row instead of adding another."""
    stmt = dialect_insert(session, Timer).values(kind=kind, key=key, version=version, due_at=due_at, payload=payload,
                                                 status="pending")
    await session.execute(stmt.on_conflict_do_update(
        index_elements=["kind", "key", "version"],
        set_={"due_at": stmt.excluded.due_at, "payload": stmt.excluded.payload, "status": "pending",
              "fired_at": None}))


async def ensure(session: AsyncSession, *, kind: str, key: str, version: int, due_at: datetime,
                 payload: dict[str, Any]) -> None:
    """Arm the timer unless that (kind, key, version) exists already, fired or not: a step of a clock
    that several processes may plan must still happen once."""
    stmt = dialect_insert(session, Timer).values(kind=kind, key=key, version=version, due_at=due_at, payload=payload,
                                                 status="pending")
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["kind", "key", "version"]))


async def fire_due(session: AsyncSession, now: datetime, limit: int = 100) -> int:
    """Move due timers into the inbox in this transaction, so a crash neither loses nor doubles one."""
    stmt = (select(Timer).where(Timer.status == "pending", Timer.due_at <= now).order_by(Timer.due_at)
            .limit(limit).with_for_update(skip_locked=True))
    timers = list((await session.execute(stmt)).scalars())
    for timer in timers:
        await inbox.store(session, channel=CHANNEL, external_id=f"timer:{timer.id}:{timer.due_at.timestamp():.3f}",
                          conversation_key=timer.key,
                          payload={"kind": timer.kind, "key": timer.key, "payload": timer.payload},
                          now=now)
        timer.status, timer.fired_at = "fired", now
    return len(timers)

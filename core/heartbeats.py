"""Worker loops' signs of life in the database, so a web process (the only one Prometheus scrapes) can tell a
stopped loop: `beat` upserts one row per process and loop, `ages` reads the freshest beat of each loop."""
from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import dialect_insert, rows_affected
from core.models import Heartbeat

LOOPS = ("inbox", "outbox", "timers")
KEEP = timedelta(days=1)  # a process gone this long is forgotten: its loops then read as never beaten


def process_name() -> str:
    """This process as "host:pid" (no person in it)."""
    return f"{socket.gethostname()}:{os.getpid()}"[-100:]


async def beat(session: AsyncSession, process: str, loops: Iterable[str], now: datetime) -> None:
    """Record that these loops of this process just finished a pass. The caller commits."""
    for loop in loops:
        stmt = dialect_insert(session, Heartbeat).values(process=process, loop=loop, beat_at=now)
        await session.execute(stmt.on_conflict_do_update(index_elements=["process", "loop"],
                                                         set_={"beat_at": stmt.excluded.beat_at}))


async def forget_old(session: AsyncSession, now: datetime, keep: timedelta = KEEP) -> int:
    """Delete the rows of processes not heard from within `keep` (restarts leave one set of rows per pid)."""
    return rows_affected(await session.execute(delete(Heartbeat).where(Heartbeat.beat_at < now - keep)))


async def ages(session: AsyncSession, now: datetime) -> dict[str, float]:
    """Seconds since the freshest beat of each loop across all processes; a loop never beaten is left out."""
    rows = await session.execute(select(Heartbeat.loop, func.max(Heartbeat.beat_at)).group_by(Heartbeat.loop))
    return {loop: max(0.0, (now - at).total_seconds()) for loop, at in rows.all() if at is not None}

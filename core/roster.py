"""Who is on duty: shifts checked in and out from chat, a forgotten check-out ending by itself."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Shift

OPERATOR = "operator"


async def _open(session: AsyncSession, role: str, now: datetime, max_hours: float,
                person: str | None = None) -> list[Shift]:
    since = now - timedelta(hours=max_hours)
    stmt = select(Shift).where(Shift.role == role, Shift.ended_at.is_(None), Shift.started_at > since)
    if person is not None:
        stmt = stmt.where(Shift.person == person)
    return list((await session.execute(stmt.order_by(Shift.started_at))).scalars())


async def check_in(session: AsyncSession, person: str, role: str, now: datetime, max_hours: float) -> bool:
    """Start a shift; False when one is already running (checking in twice changes nothing)."""
    if await _open(session, role, now, max_hours, person):
        return False
    session.add(Shift(person=person, role=role, started_at=now))
    return True


async def check_out(session: AsyncSession, person: str, role: str, now: datetime, max_hours: float) -> bool:
    shifts = await _open(session, role, now, max_hours, person)
    for shift in shifts:
        shift.ended_at = now
    return bool(shifts)


async def on_duty(session: AsyncSession, role: str, now: datetime, max_hours: float) -> list[str]:
    """The people (`channel:id`) on duty in this role now, earliest first."""
    return list(dict.fromkeys(s.person for s in await _open(session, role, now, max_hours)))

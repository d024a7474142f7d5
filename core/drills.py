"""Drills (LATIHAN): while one runs, new reports from its testers (or every report) are marked as rehearsals.

One drill at a time: started by an admin (`siaga drill start`, or the dashboard's switch), it ends when stopped
or when its minutes are up. A drill case travels the whole chain with the marker and stays out of every figure.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Drill

MAX_MINUTES = 24 * 60
MAX_TESTERS = 50
TESTER = re.compile(r"^(telegram:-?\d{1,20}|whatsapp:\d{6,20}|web:[A-Za-z0-9_-]{1,64})$")


class DrillError(ValueError):
    """A refused start: `key` is the catalog key saying why, `params` its placeholders."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


async def active(session: AsyncSession, now: datetime) -> Drill | None:
    """The drill running now, if any."""
    stmt = (select(Drill).where(Drill.stopped_at.is_(None), Drill.started_at <= now,
                                or_(Drill.ends_at.is_(None), Drill.ends_at > now))
            .order_by(Drill.id.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


def check(minutes: int | None, testers: list[str]) -> list[str]:
    """The testers as stored (deduplicated), or DrillError for a bad duration or address."""
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
        raise DrillError("drill.bad_minutes")
    cleaned = list(dict.fromkeys(x.strip() for x in testers if x.strip()))
    if len(cleaned) > MAX_TESTERS:
        raise DrillError("drill.bad_tester", tester=f"> {MAX_TESTERS}")
    for tester in cleaned:
        if not TESTER.match(tester):
            raise DrillError("drill.bad_tester", tester=tester[:80])
    return cleaned


async def start(session: AsyncSession, *, by: str, now: datetime, minutes: int | None = None,
                testers: list[str] | None = None) -> Drill:
    """Start a drill for `testers` (none: every report) for `minutes` (none: until stopped)."""
    cleaned = check(minutes, testers or [])
    if await active(session, now) is not None:
        raise DrillError("drill.already")
    drill = Drill(started_at=now, ends_at=now + timedelta(minutes=minutes) if minutes else None, started_by=by[:100],
                  testers=cleaned or None)
    session.add(drill)
    await session.flush()
    return drill


async def stop(session: AsyncSession, now: datetime) -> Drill | None:
    """Stop the running drill; None when none ran."""
    drill = await active(session, now)
    if drill is not None:
        drill.stopped_at = now
    return drill


async def applies(session: AsyncSession, reporter_address: str, now: datetime) -> bool:
    """Whether a report from `reporter_address` (`channel:id`) made now is a drill report."""
    drill = await active(session, now)
    return drill is not None and (not drill.testers or reporter_address in drill.testers)

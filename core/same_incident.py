"""Reports that probably describe one incident: same type, close in place and time, case still open."""
from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cases import OPEN_STATES, CaseState
from core.config import Deployment
from core.models import Case

EARTH_RADIUS_M = 6_371_000


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): accurate to metres at the scale of a regency."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def _normal_address(text: str | None) -> str:
    return " ".join((text or "").lower().replace(",", " ").replace(".", " ").split())


def _same_address(a: str | None, b: str | None) -> bool:
    return bool(_normal_address(a)) and _normal_address(a) == _normal_address(b)


async def probable_duplicates(session: AsyncSession, case: Case, config: Deployment) -> list[tuple[Case, int | None]]:
    """Earlier open cases of the same type (and both drills or both real) within the configured distance and
    time, nearest first, with the distance in metres (None when matched on the typed address)."""
    rule = config.duplicates
    assert case.submitted_at is not None  # only a submitted case is compared
    since = case.submitted_at - timedelta(minutes=rule.window_minutes)
    stmt = select(Case).where(Case.id < case.id, Case.incident_type == case.incident_type,
                              Case.submitted_at >= since, Case.state.in_([s.value for s in OPEN_STATES]),
                              Case.drill.is_(bool(case.drill)))
    found: list[tuple[Case, int | None]] = []
    for other in (await session.execute(stmt.order_by(Case.id.desc()).limit(50))).scalars():
        if (case.latitude is not None and case.longitude is not None
                and other.latitude is not None and other.longitude is not None):
            metres = distance_m(case.latitude, case.longitude, other.latitude, other.longitude)
            if metres <= rule.radius_m:
                found.append((other, round(metres)))
        elif _same_address(case.address_text, other.address_text):
            found.append((other, None))
    return sorted(found, key=lambda pair: (pair[1] is None, pair[1] or 0))


# A report joins a case still waiting or being handled; once the crew is done a new report may be a new fire.
JOINABLE = frozenset(OPEN_STATES - {CaseState.RESOLVED})


async def cluster_for(session: AsyncSession, case: Case, config: Deployment) -> Case | None:
    """The open case a new report joins by itself: the nearest probable duplicate still being handled that
    this reporter does not already follow, locked (its report count changes with each join)."""
    for other, _ in await probable_duplicates(session, case, config):
        if other.state not in JOINABLE or await _follows(session, case, other):
            continue
        stmt = select(Case).where(Case.id == other.id).with_for_update().execution_options(populate_existing=True)
        locked = (await session.execute(stmt)).scalar_one()
        if locked.state in JOINABLE:  # still, now that no one else can change it
            return locked
    return None


async def _follows(session: AsyncSession, case: Case, other: Case) -> bool:
    """The reporter already reported `other` or joined it: a second report of theirs is for the operator to judge
    (one worried person reporting again is not a second witness)."""
    stmt = select(Case.id).where(Case.reporter_id == case.reporter_id, Case.id != case.id,
                                 or_(Case.id == other.id, Case.duplicate_of_id == other.id)).limit(1)
    return (await session.execute(stmt)).first() is not None


async def reporter_history(session: AsyncSession, reporter_id: int, before_case_id: int) -> tuple[int, int]:
    """(earlier reports, of which rejected as pranks) for the card."""
    stmt = select(func.count(), func.count().filter(Case.reject_reason == "hoax")).where(
        Case.reporter_id == reporter_id, Case.id < before_case_id)
    total, pranks = (await session.execute(stmt)).one()
    return int(total), int(pranks or 0)

"""Cases as other government systems and the public may see them: no name, phone, photo, text or exact place.

Coordinates are rounded to two decimals (about 1 km) and the reporter's own words are never included,
since a description can name people; the Open311 `description` is the incident type's name instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cases import OPEN_STATES
from core.config import Deployment
from core import casework
from core.models import Case

PUBLIC_STATES = [s.value for s in OPEN_STATES] + ["closed"]  # rejected pranks and merged reports stay inside
COARSE = 2  # decimals kept of a coordinate


@dataclass(frozen=True)
class PublicCase:
    ticket: str
    incident_type: str
    state: str
    agencies: tuple[str, ...]
    requested_at: datetime
    updated_at: datetime
    latitude: float | None
    longitude: float | None


def coarse(value: float | None) -> float | None:
    """A coordinate rounded to about 1 km: enough for figures, not enough to find a house."""
    return None if value is None else round(value, COARSE)


async def cases(session: AsyncSession, *, types: list[str] | None = None, start: datetime | None = None,
                end: datetime | None = None, open_only: bool | None = None, ticket: str | None = None,
                limit: int = 1000) -> list[PublicCase]:
    stmt = select(Case).where(Case.state.in_(PUBLIC_STATES), Case.submitted_at.is_not(None))
    if types:
        stmt = stmt.where(Case.incident_type.in_(types))
    if start is not None:
        stmt = stmt.where(Case.submitted_at >= start)
    if end is not None:
        stmt = stmt.where(Case.submitted_at < end)
    if open_only is not None:
        stmt = stmt.where(Case.state != "closed") if open_only else stmt.where(Case.state == "closed")
    if ticket is not None:
        stmt = stmt.where(Case.ticket == ticket)
    rows = list((await session.execute(stmt.order_by(Case.submitted_at.desc()).limit(limit))).scalars())
    agencies = await casework.agencies_by_case(session, [c.id for c in rows]) if rows else {}
    return [PublicCase(c.ticket, c.incident_type, c.state, tuple(agencies.get(c.id, [])),
                       c.submitted_at, c.updated_at, coarse(c.latitude), coarse(c.longitude)) for c in rows]


def georeport(case: PublicCase, config: Deployment, lang: str) -> dict:
    """One Open311 GeoReport v2 service request."""
    it = config.incident_type(case.incident_type)
    names = [config.agency(a).name.get(lang) for a in case.agencies if config.agency(a)]
    return {
        "service_request_id": case.ticket,
        "status": "closed" if case.state == "closed" else "open",
        "status_notes": case.state,
        "service_name": it.name.get(lang) if it else case.incident_type,
        "service_code": case.incident_type,
        "description": it.name.get(lang) if it else case.incident_type,
        "agency_responsible": ", ".join(names),
        "service_notice": "",
        "requested_datetime": case.requested_at.isoformat(),
        "updated_datetime": case.updated_at.isoformat(),
        "expected_datetime": None,
        "address": "",
        "address_id": "",
        "zipcode": "",
        "lat": case.latitude,
        "long": case.longitude,
        "media_url": "",
    }


def service(it, lang: str) -> dict:
    """One Open311 service: an incident type."""
    return {"service_code": it.code, "service_name": it.name.get(lang), "description": it.name.get(lang),
            "metadata": False, "type": "realtime", "keywords": "urgent" if it.urgent else "",
            "group": "emergency" if it.urgent else "incident"}

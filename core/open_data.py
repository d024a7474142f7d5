"""Cases as other government systems and the public may see them: no name, phone, photo, text or exact place.

A case the gazetteer places is published by its kecamatan (name and Kepmendagri code) with no coordinates;
otherwise coordinates are rounded to two decimals (about 1 km) and the reporter's own words are never included,
since a description can name people; the Open311 `description` is the incident type's name instead.
Only verified cases of types not marked `public: false` appear (never a drill, nor a call an operator classed
as information, ghost or prank), once `open_data.delay_minutes` have passed,
with times rounded down to the hour; date filters and the moment a case appears work on the hour too, so
polling cannot recover the exact time of a report.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import casework, gazetteer
from core.cases import OPEN_STATES, CaseState
from core.config import Deployment, IncidentType
from core.models import Case

# Not before verification; rejected pranks and merged reports stay inside.
PUBLIC_STATES = [*sorted(s.value for s in OPEN_STATES if s != CaseState.SUBMITTED), "closed"]
HOUR = timedelta(hours=1)
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
    kecamatan_code: str | None = None  # when known, published instead of the coordinates


def placed(case: PublicCase, config: Deployment) -> tuple[str, str, float | None, float | None]:
    """(address, address_id, lat, long): the kecamatan instead of coordinates when the gazetteer names it;
    otherwise the coarse coordinates, which are all there is."""
    places = gazetteer.for_config(config)
    name = places.kecamatan_name(case.kecamatan_code) if places is not None and case.kecamatan_code else None
    if name is None:
        return "", "", case.latitude, case.longitude
    return f"Kec. {name}, {config.region.name}", case.kecamatan_code or "", None, None


def coarse(value: float | None) -> float | None:
    """A coordinate rounded to about 1 km: enough for figures, not enough to find a house."""
    return None if value is None else round(value, COARSE)


def on_the_hour(at: datetime, config: Deployment) -> datetime:
    """A time rounded down to the local hour: when, but not the minute someone reported."""
    return at.astimezone(config.region.tz).replace(minute=0, second=0, microsecond=0)


def _next_hour(at: datetime, config: Deployment) -> datetime:
    """The first full local hour at or after `at`, so a bound filters whole hours only."""
    hour = on_the_hour(at, config)
    return hour if hour == at else (hour.astimezone(UTC) + HOUR).astimezone(config.region.tz)


def public_types(config: Deployment) -> list[str]:
    return [it.code for it in config.incident_types if it.is_public]


async def cases(session: AsyncSession, config: Deployment, now: datetime, *, types: list[str] | None = None,
                start: datetime | None = None, end: datetime | None = None, open_only: bool | None = None,
                ticket: str | None = None, limit: int = 1000) -> list[PublicCase]:
    """The publishable cases: verified, of a public type, submitted in an hour that ended `delay_minutes` ago."""
    allowed = [code for code in public_types(config) if not types or code in types]
    cutoff = on_the_hour(now - timedelta(minutes=config.open_data.delay_minutes), config)
    if end is not None:
        cutoff = min(cutoff, _next_hour(end, config))
    stmt = select(Case).where(Case.state.in_(PUBLIC_STATES), Case.verified_at.is_not(None),
                              Case.submitted_at.is_not(None), Case.submitted_at < cutoff,
                              Case.incident_type.in_(allowed), Case.drill.is_(False),
                              or_(Case.traffic_class.is_(None), Case.traffic_class == "emergency"))
    if start is not None:
        stmt = stmt.where(Case.submitted_at >= _next_hour(start, config))
    if open_only is not None:
        stmt = stmt.where(Case.state != "closed") if open_only else stmt.where(Case.state == "closed")
    if ticket is not None:
        stmt = stmt.where(Case.ticket == ticket)
    rows = list((await session.execute(stmt.order_by(Case.submitted_at.desc()).limit(limit))).scalars())
    agencies = await casework.agencies_by_case(session, [c.id for c in rows]) if rows else {}
    return [PublicCase(c.ticket, c.incident_type, c.state, tuple(agencies.get(c.id, [])),
                       on_the_hour(submitted, config), on_the_hour(max(c.updated_at, submitted), config),
                       coarse(c.latitude), coarse(c.longitude), c.kecamatan_code)
            for c in rows if (submitted := c.submitted_at) is not None]  # all of them: the query asked so


def georeport(case: PublicCase, config: Deployment, lang: str) -> dict[str, Any]:
    """One Open311 GeoReport v2 service request."""
    it = config.incident_type(case.incident_type)
    names = [agency.name.get(lang) for a in case.agencies if (agency := config.agency(a))]
    address, address_id, lat, long = placed(case, config)
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
        "address": address,
        "address_id": address_id,
        "zipcode": "",
        "lat": lat,
        "long": long,
        "media_url": "",
    }


def service(it: IncidentType, lang: str) -> dict[str, Any]:
    """One Open311 service: an incident type."""
    return {"service_code": it.code, "service_name": it.name.get(lang), "description": it.name.get(lang),
            "metadata": False, "type": "realtime", "keywords": "urgent" if it.urgent else "",
            "group": "emergency" if it.urgent else "incident"}

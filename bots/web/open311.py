"""Open311 GeoReport v2, read only: public incident types as services, cases as service requests (non-personal).

What is published, and when, is decided in `core.open_data` (verified cases only, delayed, on the hour).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from core import open_data

router = APIRouter(prefix="/open311/v2", tags=["open311"])
DEFAULT_DAYS = 90


def _lang(lang: str | None, request: Request) -> str:
    return "en" if (lang or "").lower().startswith("en") else request.app.state.deps.config.region.default_language


def _error(status: int, description: str) -> JSONResponse:
    """Open311 errors are a list of {code, description}."""
    return JSONResponse([{"code": status, "description": description}], status_code=status)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)  # Python 3.11 reads a trailing "Z" too
    if value.tzinfo is None:
        raise ValueError("a time zone is required (e.g. 2026-11-27T00:00:00+07:00)")
    return value


@router.get("/services.json")
async def services(request: Request, lang: str | None = None):
    """Every incident type a citizen can report, except those never published (`public: false`)."""
    language = _lang(lang, request)
    return [open_data.service(it, language) for it in request.app.state.deps.config.incident_types if it.is_public]


@router.get("/requests.json")
async def requests(request: Request, service_request_id: str | None = None, service_code: str | None = None,
                   start_date: str | None = None, end_date: str | None = None,
                   status: str | None = Query(None, pattern="^(open|closed)$"), lang: str | None = None):
    """Verified cases submitted between start_date and end_date (default: the last 90 days), newest first, at
    most 1000, from an hour that ended at least the configured delay ago; times on the hour, coordinates rounded
    to about 1 km, no reporter data."""
    deps = request.app.state.deps
    try:
        start, end = _when(start_date), _when(end_date)
    except ValueError as exc:
        return _error(400, f"start_date/end_date: {exc}")
    if start is None and service_request_id is None:
        start = (end or deps.clock.now()) - timedelta(days=DEFAULT_DAYS)
    tickets = [x.strip() for x in service_request_id.split(",")] if service_request_id else None
    async with deps.sessions() as session:
        found = await open_data.cases(session, deps.config, deps.clock.now(),
                                      types=service_code.split(",") if service_code else None,
                                      start=start, end=end, open_only=None if status is None else status == "open")
    language = _lang(lang, request)
    return [open_data.georeport(c, deps.config, language) for c in found if tickets is None or c.ticket in tickets]


@router.get("/requests/{request_id}.json")
async def one_request(request_id: str, request: Request, lang: str | None = None):
    """One case by its ticket number, as a one-element list (the GeoReport v2 shape)."""
    deps = request.app.state.deps
    async with deps.sessions() as session:
        found = await open_data.cases(session, deps.config, deps.clock.now(), ticket=request_id.upper())
    if not found:
        return _error(404, f"no service request {request_id}")
    return [open_data.georeport(found[0], deps.config, _lang(lang, request))]

"""The command-centre dashboard's list of open cases (a case is case_page.py, figures figures_page.py, sign-in
signin_pages.py, exports exports.py, the push that refreshes this list dashboard_stream.py).

Every page and file here needs a signed-in operator or leader; forms carry a CSRF token.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bots.web import auth, channel_banner, dashboard_stream
from bots.web.pages import language, render
from core import casework, gazetteer, inbox, sla, standards
from core.config import Deployment
from core.i18n import t
from core.models import Account, Case
from core.open_data import coarse
from workflows import cards, desk_order

router = APIRouter(prefix="/dashboard", include_in_schema=False)
LIMIT = 200  # rows on the page; urgent cases still waiting and reports still unverified are always among them
STANDARDS_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Row:
    """One open case as the table and the overview map show it."""

    case: Case
    agencies: str
    left: str  # minutes left or over, in words; "" without a running clock
    late: bool
    tier: desk_order.Tier
    alarm: bool  # urgent, untouched for ALARM_SECONDS
    needs_action: bool
    place: tuple[float, float] | None  # exact for operators, about 1 km for leaders
    kecamatan: str = ""  # from the gazetteer, "" when the case has none


@router.get("")
async def open_cases(request: Request):
    """The open cases in the order they need action; the list refreshes when the desk changes (dashboard.js)."""
    account, web_session = await auth.require(request)
    places = gazetteer.for_config(request.app.state.deps.config)
    return render(request, "cases.html", account=account, csrf=web_session.csrf,
                  region_bounds=request.app.state.deps.config.region.bounds,
                  kecamatans=places.kecamatans() if places else [], **await _rows(request, account))


@router.get("/rows")
async def open_case_rows(request: Request):
    """The live table's refresh: it does not count as activity, and an ended session sends the page to sign-in."""
    try:
        account, _ = await auth.require(request, page=False, touch=False)
    except auth.SignedOut:
        return Response(status_code=401, headers={"HX-Redirect": "/dashboard/login"})
    return render(request, "case_rows.html", **await _rows(request, account))


async def _rows(request: Request, account: Account) -> dict:
    deps = request.app.state.deps
    now, lang, exact = deps.clock.now(), language(request), auth.sees_exact_place(account)
    async with deps.sessions() as session:
        cases = desk_order.order(await casework.open_cases(session, limit=LIMIT, action_first=True), now)
        kecamatan = _kecamatan_filter(request, deps.config)
        if kecamatan:  # among the LIMIT rows, which hold every case still needing action first
            cases = [c for c in cases if c.kecamatan_code == kecamatan]
        agencies = await casework.agencies_by_case(session, [c.id for c in cases]) if cases else {}
        parked = await inbox.parked_count(session)  # deliveries and events set aside: someone should look
        answer, dispatch = await standards.load(session, now - STANDARDS_WINDOW, now, now)
        signature = await dashboard_stream.signature(session, now)
    problems = await channel_banner.problems(deps)  # a channel not delivering, agencies to phone
    places = gazetteer.for_config(deps.config)
    rows = [_row(deps.config, case, agencies.get(case.id, []), now, lang, exact, places) for case in cases]
    zone = cards.zone_label(deps.config, now)
    return {"problems": problems, "rows": rows, "parked": parked, "signature": signature,
            "standards": (answer, dispatch), "kecamatan": kecamatan, "need_count": sum(r.needs_action for r in rows),
            "alarms": [r for r in rows if r.alarm], "zone": zone, "alarm_seconds": standards.ALARM_SECONDS,
            "type_name": lambda code: cards.type_name(deps.config, code, lang),
            "local": lambda at: _local(deps.config, at, now, zone)}


def _kecamatan_filter(request: Request, config: Deployment) -> str:
    """The kecamatan code asked for in `?kecamatan=`, if the gazetteer knows it ("" shows every case)."""
    wanted, places = request.query_params.get("kecamatan", "")[:16], gazetteer.for_config(config)
    return wanted if places is not None and places.kecamatan_name(wanted) else ""


def _row(config: Deployment, case: Case, agencies: list[str], now: datetime, lang: str, exact: bool,
         places: gazetteer.Gazetteer | None = None) -> Row:
    left = sla.minutes_left(now, case.sla_due_at) if case.sla_due_at and sla.waiting(case.state) else None
    words = "" if left is None else (t(lang, "shift.minutes_left", minutes=left) if left > 0
                                     else t(lang, "shift.minutes_over", minutes=-left))
    place = None
    if case.latitude is not None and case.longitude is not None:
        place = (case.latitude, case.longitude) if exact else (coarse(case.latitude), coarse(case.longitude))
    return Row(case=case, agencies=", ".join(cards.agency_name(config, a, lang) for a in agencies), left=words,
               late=left is not None and left <= 0, tier=desk_order.tier(case, now),
               alarm=desk_order.alarm(case, now), needs_action=desk_order.needs_action(case, now), place=place,
               kecamatan=(places.kecamatan_name(case.kecamatan_code) or "")
               if places is not None and case.kecamatan_code else "")


def _local(config: Deployment, at: datetime | None, now: datetime, zone: str) -> str:
    """Today's times as hours and minutes, older ones with the date; always with the zone (WIB)."""
    if at is None:
        return "–"
    same_day = cards.local_time(config, at, "%Y%m%d") == cards.local_time(config, now, "%Y%m%d")
    return f"{cards.local_time(config, at, '%H:%M' if same_day else '%d-%m %H:%M')} {zone}"

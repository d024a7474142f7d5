"""The command-centre dashboard's list of open cases (a case is case_page.py, figures figures_page.py, sign-in
signin_pages.py, exports exports.py).

Every page and file here needs a signed-in operator or leader; forms carry a CSRF token.
"""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from bots.web import auth
from bots.web.pages import language, render
from core import casework, inbox, sla
from workflows import cards

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("")
async def open_cases(request: Request):
    """The open cases, newest first; the table reloads itself every few seconds (htmx)."""
    account, web_session = await auth.require(request)
    return render(request, "cases.html", account=account, csrf=web_session.csrf, **await _rows(request))


@router.get("/rows")
async def open_case_rows(request: Request):
    """The live table's refresh: it does not count as activity, and an ended session sends the page to sign-in."""
    try:
        await auth.require(request, page=False, touch=False)
    except auth.SignedOut:
        return Response(status_code=401, headers={"HX-Redirect": "/dashboard/login"})
    return render(request, "case_rows.html", **await _rows(request))


async def _rows(request: Request) -> dict:
    deps = request.app.state.deps
    now, lang = deps.clock.now(), language(request)
    async with deps.sessions() as session:
        cases = await casework.open_cases(session, limit=200)
        agencies = await casework.agencies_by_case(session, [c.id for c in cases]) if cases else {}
        parked = await inbox.parked_count(session)  # deliveries and events set aside: someone should look
    rows = []
    for case in cases:
        left = sla.minutes_left(now, case.sla_due_at) if case.sla_due_at and sla.waiting(case.state) else None
        rows.append((case, ", ".join(cards.agency_name(deps.config, a, lang) for a in agencies.get(case.id, [])), left))
    return {"rows": rows, "parked": parked, "type_name": lambda code: cards.type_name(deps.config, code, lang),
            "local": lambda at: cards.local_time(deps.config, at) if at else "–"}

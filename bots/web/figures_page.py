"""The dashboard's figures: charts of the last 30 days."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi import APIRouter, Request
from sqlalchemy import select

from bots.web import auth
from bots.web.pages import language, render
from core import figures
from core.i18n import t
from core.models import Case, Task
from workflows import cards, figures_text

router = APIRouter(prefix="/dashboard", include_in_schema=False)


@router.get("/figures")
async def figures_page(request: Request):
    """Charts of the last 30 days: reports per day and type, SLA compliance, time per stage, ratings, agencies."""
    account, web_session = await auth.require(request)
    deps = request.app.state.deps
    now, lang = deps.clock.now(), language(request)
    _, start, end = figures_text.period_window(deps.config, "bulan", now)
    async with deps.sessions() as session:
        cases = list((await session.execute(select(Case).where(Case.submitted_at >= start, Case.submitted_at < end)))
                     .scalars())
        by_agency = Counter(code for (code,) in await session.execute(
            select(Task.agency).join(Case, Case.id == Task.case_id).where(Case.submitted_at >= start)))
        total = await figures.load(session, start, end, now)
    days = [start.astimezone(deps.config.region.tz).date() + timedelta(days=i) for i in range(30)]
    daily = [figures.compute(cases, *figures_text.day_window(deps.config, d), now, 0) for d in days]
    types = [it for it in deps.config.incident_types if any(f.by_type.get(it.code) for f in daily)]
    data = {
        "days": [d.strftime("%d-%m") for d in days],
        "types": [{"label": it.name.get(lang), "data": [f.by_type.get(it.code, 0) for f in daily]} for it in types],
        "compliance": [None if f.compliance is None else round(f.compliance * 100) for f in daily],
        "stages": {"labels": [t(lang, f"stage.{name}") for name, _, _ in figures.STAGES],
                   "minutes": [None if total.median_seconds[name] is None else round(total.median_seconds[name] / 60, 1)
                               for name, _, _ in figures.STAGES]},
        "ratings": [sum(1 for c in cases if c.rating == n) for n in range(1, 6)],
        "agencies": {"labels": [cards.agency_name(deps.config, code, lang) for code in by_agency],
                     "data": list(by_agency.values())},
    }
    return render(request, "figures.html", account=account, csrf=web_session.csrf, total=total, data=data,
                  percent=lambda share: figures_text.percent(share, "–"))

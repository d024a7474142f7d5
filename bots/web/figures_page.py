"""The dashboard's figures: charts of the last 30 days, by channel and class, and the call-taking standards."""
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
    """Charts of the last 30 days: reports per day and type, SLA compliance, time per stage, ratings, agencies,
    channels and classes of traffic; the two call-taking standards against their 90 % goal. No drills."""
    account, web_session = await auth.require(request)
    deps = request.app.state.deps
    now, lang = deps.clock.now(), language(request)
    _, start, end = figures_text.period_window(deps.config, "bulan", now)
    async with deps.sessions() as session:
        cases = list((await session.execute(select(Case).where(
            Case.submitted_at >= start, Case.submitted_at < end, Case.drill.is_(False)))).scalars())
        by_agency = Counter(code for (code,) in await session.execute(
            select(Task.agency).join(Case, Case.id == Task.case_id).where(
                Case.submitted_at >= start, Case.submitted_at < end, Case.drill.is_(False),
                Case.id.in_([c.id for c in cases if figures.is_report(c)]))))
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
        "ratings": [sum(1 for c in cases if c.rating == n and figures.is_report(c)) for n in range(1, 6)],
        "agencies": {"labels": [cards.agency_name(deps.config, code, lang) for code in by_agency],
                     "data": list(by_agency.values())},
        "channels": {"labels": [figures_text.channel_name(code, lang) for code in total.by_channel],
                     "data": list(total.by_channel.values())},
        "classes": {"labels": [figures_text.class_name(code, lang) for code in total.by_class],
                    "data": list(total.by_class.values())},
        "labels": {"count": t(lang, "figures.web_count"), "minutes": t(lang, "figures.web_minutes"),
                   "percent": "%"},
    }
    standards = [(figures_text.standard_label(std, lang), std) for std in total.standards or ()]
    channels = [(figures_text.channel_name(code, lang), n) for code, n in total.by_channel.items()]
    classes = [(figures_text.class_name(code, lang), n) for code, n in total.by_class.items()]
    kecamatans = [(figures_text.kecamatan_name(deps.config, code, lang), n) for code, n in total.by_kecamatan.items()] \
        if figures_text.kecamatan_line(total, deps.config, lang) else []
    return render(request, "figures.html", account=account, csrf=web_session.csrf, total=total, data=data,
                  standards=standards, channels=channels, classes=classes, kecamatans=kecamatans,
                  sla_label=figures_text.sla_label(deps.config, lang),
                  percent=lambda share: figures_text.percent(share, "–"))

"""The public figures page: aggregated, anonymous numbers for citizens and the press, no sign-in.

Types marked `public: false` (crime by default) are left out of every figure here, totals included; drills
are left out by `core.figures`.
"""
from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Request

from bots.web.pages import language, render
from core import figures, open_data
from core.i18n import t
from workflows import figures_text

router = APIRouter(tags=["public"])


def _minutes(lang: str):
    """A median time in minutes, in the page's words ("3,5 menit")."""
    def words(seconds: float | None) -> str:
        if seconds is None:
            return "–"
        value = f"{seconds / 60:.1f}"
        return t(lang, "shift.minutes_left", minutes=value.replace(".", ",") if lang != "en" else value)
    return words


@router.get("/public", include_in_schema=False)
async def public(request: Request):
    deps = request.app.state.deps
    now, lang = deps.clock.now(), language(request)
    periods, shown = [], open_data.public_types(deps.config)
    async with deps.sessions() as session:
        for word in ("hari", "minggu", "bulan"):
            name, start, end = figures_text.period_window(deps.config, word, now)
            periods.append((name, await figures.load(session, start, end, now, types=shown)))
    month = periods[-1][1]
    rows = [(deps.config.incident_type(code).name.get(lang) if deps.config.incident_type(code) else code, n)
            for code, n in Counter(month.by_type).most_common()]
    channels = [(figures_text.channel_name(code, lang), n) for code, n in month.by_channel.items()]
    classes = [(figures_text.class_name(code, lang), n) for code, n in month.by_class.items()
               if n or code != figures.UNCLASSED]
    return render(request, "public.html", periods=periods, by_type=rows, channels=channels, classes=classes,
                  sla_label=figures_text.sla_label(deps.config, lang, shown),
                  percent=lambda share: figures_text.percent(share, "–"), minutes=_minutes(lang))

"""How a drill is described to staff (the `siaga drill` command and the dashboard's drill page)."""
from __future__ import annotations

from core.config import Deployment
from core.i18n import t
from core.models import Drill
from workflows.cards import local_time, zone_label


def describe(drill: Drill | None, config: Deployment, lang: str) -> str:
    """One line saying whether a drill runs, since and until when (local time with its zone), and for whom."""
    if drill is None:
        return t(lang, "drill.none")
    start = f"{local_time(config, drill.started_at)} {zone_label(config, drill.started_at)}"
    end = (f"{local_time(config, drill.ends_at)} {zone_label(config, drill.ends_at)}" if drill.ends_at
           else t(lang, "drill.until_stopped"))
    if drill.testers:
        return t(lang, "drill.running_testers", start=start, end=end, testers=", ".join(drill.testers))
    return t(lang, "drill.running_all", start=start, end=end)

"""The figures as a chat message: the daily digest and `/statistik`, in the command centre's language."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.clock import next_local_time
from core.config import Deployment
from core.figures import STAGES, Figures
from core.i18n import t

PERIODS = {"hari": 0, "day": 0, "minggu": 7, "week": 7, "bulan": 30, "month": 30}


def day_window(config: Deployment, day: date) -> tuple[datetime, datetime]:
    """Midnight to midnight of a local calendar day, as aware datetimes."""
    tz = ZoneInfo(config.region.timezone)
    start = datetime.combine(day, time(), tz)
    return start, start + timedelta(days=1)


def period_window(config: Deployment, word: str, now: datetime) -> tuple[str, datetime, datetime]:
    """`hari` is today since local midnight; `minggu` and `bulan` the last 7 and 30 days including today."""
    days = PERIODS[word]
    today = now.astimezone(ZoneInfo(config.region.timezone)).date()
    start, _ = day_window(config, today - timedelta(days=max(days - 1, 0)))
    name = {0: "day", 7: "week", 30: "month"}[days]
    return name, start, now


def next_digest_at(config: Deployment, now: datetime) -> datetime:
    """The next configured local time (07:00 by default) strictly after `now`."""
    return next_local_time(config.region.timezone, now, config.digest.time)


def _duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return t(lang, "figures.hm", hours=hours, minutes=minutes)
    return t(lang, "figures.ms", minutes=minutes, seconds=secs)


def percent(share: float | None, none: str = "-") -> str:
    return none if share is None else f"{share * 100:.0f}%"


def render(fig: Figures, config: Deployment, title: str, lang: str | None = None) -> str:
    lang = lang or config.region.default_language
    tz = ZoneInfo(config.region.timezone)
    fmt = "%d-%m-%Y %H:%M"
    lines = [t(lang, "figures.header", title=title, start=fig.start.astimezone(tz).strftime(fmt),
               end=fig.end.astimezone(tz).strftime(fmt)), t(lang, "figures.total", total=fig.total)]
    for code, count in fig.by_type.items():
        it = config.incident_type(code)
        lines.append(t(lang, "figures.line", name=it.name.get(lang) if it else code, value=count))
    if fig.by_state:
        lines.append(t(lang, "figures.by_state", states=", ".join(
            f"{t(lang, f'state.{s}')} {n}" for s, n in fig.by_state.items())))
    lines.append(t(lang, "figures.medians"))
    lines += [t(lang, "figures.line", name=t(lang, f"stage.{name}"), value=_duration(fig.median_seconds[name], lang))
              for name, _, _ in STAGES]
    decided = fig.urgent_met + fig.urgent_missed
    lines.append(t(lang, "figures.sla", met=fig.urgent_met, decided=decided, percent=percent(fig.compliance),
                   pending=fig.urgent_pending) if decided or fig.urgent_pending else t(lang, "figures.sla_none"))
    lines.append(t(lang, "figures.pranks", count=fig.pranks, percent=percent(fig.prank_share)))
    lines.append(t(lang, "figures.rating", average=f"{fig.average_rating:.1f}", count=fig.ratings)
                 if fig.ratings else t(lang, "figures.rating_none"))
    lines.append(t(lang, "figures.open", count=fig.open_now))
    return "\n".join(lines)


def digest_title(config: Deployment, day: date, lang: str | None = None) -> str:
    return t(lang or config.region.default_language, "figures.title_digest", region=config.region.name,
             date=day.strftime("%d-%m-%Y"))


def period_title(config: Deployment, name: str, lang: str | None = None) -> str:
    return t(lang or config.region.default_language, f"figures.title_{name}", region=config.region.name)

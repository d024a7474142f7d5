"""The figures as a chat message: the daily digest and `/statistik`, in the command centre's language."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core import gazetteer
from core.clock import next_local_time
from core.config import Deployment
from core.figures import NO_PLACE, STAGES, Figures
from core.i18n import t
from core.standards import Standard
from workflows.cards import zone_label

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


def deadline_minutes(config: Deployment, types: list[str] | None = None) -> int | None:
    """The urgent types' deadline when they share one (5 minutes in Sumenep), else None."""
    minutes = {it.sla_minutes for it in config.incident_types
               if it.urgent and it.sla_minutes and (types is None or it.code in types)}
    return minutes.pop() if len(minutes) == 1 else None


def sla_label(config: Deployment, lang: str, types: list[str] | None = None) -> str:
    """What the compliance figure counts: urgent cases a crew accepted within the deadline."""
    minutes = deadline_minutes(config, types)
    return t(lang, "figures.accepted_in_time") if minutes is None else t(lang, "figures.accepted_within",
                                                                         minutes=minutes)


def channel_name(code: str, lang: str) -> str:
    return t(lang, f"figures.channel.{code}")


def class_name(code: str, lang: str) -> str:
    return t(lang, f"figures.class.{code}")


def standard_label(std: Standard, lang: str) -> str:
    return t(lang, f"figures.standard.{std.name}", seconds=std.target_seconds)


def standard_line(std: Standard, lang: str) -> str:
    """`• label: 9 of 10 (90%, goal 90%) ✅`, or that nothing was measured."""
    if not std.measured:
        return t(lang, "figures.line", name=standard_label(std, lang), value=t(lang, "figures.standard_none"))
    return t(lang, "figures.standard_value", name=standard_label(std, lang), within=std.within,
             measured=std.measured, percent=percent(std.share), goal=percent(std.goal),
             mark="✅" if std.met else "⚠️")


def _traffic_lines(fig: Figures, lang: str) -> list[str]:
    """Every call and message by channel (those that had any) and by the ministry's classes."""
    channels = ", ".join(f"{channel_name(code, lang)} {n}" for code, n in fig.by_channel.items() if n) or "-"
    classes = ", ".join(f"{class_name(code, lang)} {n}" for code, n in fig.by_class.items()
                        if n or code != "unclassed")
    return [t(lang, "figures.traffic", count=fig.traffic), t(lang, "figures.channels", items=channels),
            t(lang, "figures.classes", items=classes)]


def kecamatan_name(config: Deployment, code: str, lang: str) -> str:
    """A kecamatan's name from the deployment's gazetteer; reports without one are "tanpa kecamatan"."""
    places = gazetteer.for_config(config)
    name = places.kecamatan_name(code) if places is not None and code else None
    return name or (t(lang, "place.no_kecamatan") if code == NO_PLACE else code)


def kecamatan_line(fig: Figures, config: Deployment, lang: str) -> list[str]:
    """"Per kecamatan: Kota Sumenep 3, Kalianget 1, tanpa kecamatan 2" when the deployment has a gazetteer."""
    if gazetteer.for_config(config) is None or not fig.by_kecamatan:
        return []
    items = ", ".join(t(lang, "place.by_kecamatan_line", kecamatan=kecamatan_name(config, code, lang), count=n)
                      for code, n in fig.by_kecamatan.items())
    return [f"{t(lang, 'place.by_kecamatan')}: {items}"]


def render(fig: Figures, config: Deployment, title: str, lang: str | None = None) -> str:
    lang = lang or config.region.default_language
    tz = ZoneInfo(config.region.timezone)
    fmt = "%d-%m-%Y %H:%M"
    zone = zone_label(config, fig.end)
    lines = [t(lang, "figures.header", title=title, start=fig.start.astimezone(tz).strftime(fmt),
               end=f"{fig.end.astimezone(tz).strftime(fmt)} {zone}"), *_traffic_lines(fig, lang),
             t(lang, "figures.total", total=fig.total)]
    for code, count in fig.by_type.items():
        it = config.incident_type(code)
        lines.append(t(lang, "figures.line", name=it.name.get(lang) if it else code, value=count))
    lines += kecamatan_line(fig, config, lang)
    if fig.by_state:
        lines.append(t(lang, "figures.by_state", states=", ".join(
            f"{t(lang, f'state.{s}')} {n}" for s, n in fig.by_state.items())))
    lines.append(t(lang, "figures.medians"))
    lines += [t(lang, "figures.line", name=t(lang, f"stage.{name}"), value=_duration(fig.median_seconds[name], lang))
              for name, _, _ in STAGES]
    decided = fig.urgent_met + fig.urgent_missed
    lines.append(t(lang, "figures.sla", label=sla_label(config, lang), met=fig.urgent_met, decided=decided,
                   percent=percent(fig.compliance), pending=fig.urgent_pending)
                 if decided or fig.urgent_pending else t(lang, "figures.sla_none"))
    if fig.standards is not None:
        lines.append(t(lang, "figures.standards"))
        lines += [standard_line(std, lang) for std in fig.standards]
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

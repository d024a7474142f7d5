"""A case's timeline and the open-case list as operators read them in the chat (`/kasus`)."""
from __future__ import annotations

from datetime import datetime

from core.config import Deployment
from core.i18n import t
from workflows.cards import agency_name, local_time, type_name


def _note(note: str, config: Deployment, lang: str) -> str:
    """Turn a stored note like `dispatch:damkar,pdam` into words."""
    kind, _, rest = note.partition(":")
    if kind == "dispatch":
        return t(lang, "timeline.dispatch", agencies=", ".join(agency_name(config, a, lang) for a in rest.split(",")))
    if kind in ("accepted", "on_scene", "done", "refused"):
        agency, _, extra = rest.partition(":")
        return t(lang, f"timeline.{kind}", agency=agency_name(config, agency, lang), extra=extra.replace("eta=", ""))
    if kind == "support":
        src, _, dst = rest.partition("->")
        return t(lang, "timeline.support", agency=agency_name(config, src, lang),
                 support=agency_name(config, dst, lang))
    return t(lang, "timeline.note", note=note) if note else ""


def timeline_text(ticket: str, events: list[tuple[datetime, str, str, str]], config: Deployment) -> str:
    """`events` are (at, actor name, state, note) in order."""
    lang = config.region.default_language
    lines = [t(lang, "timeline.header", ticket=ticket)]
    for at, actor, state, note in events:
        detail = _note(note, config, lang)
        lines.append(t(lang, "timeline.line", when=local_time(config, at, "%d-%m %H:%M:%S"),
                       state=t(lang, f"state.{state}"), actor=actor, detail=f" — {detail}" if detail else ""))
    return "\n".join(lines)


def open_cases_text(rows: list[tuple[str, str, str, datetime]], now: datetime, config: Deployment) -> str:
    """`rows` are (ticket, type code, state, submitted at)."""
    lang = config.region.default_language
    if not rows:
        return t(lang, "desk.no_open_cases")
    lines = [t(lang, "desk.open_header", count=len(rows))]
    for ticket, code, state, at in rows:
        minutes = int((now - at).total_seconds() // 60)
        lines.append(t(lang, "desk.open_line", ticket=ticket, type=type_name(config, code, lang),
                       state=t(lang, f"state.{state}"), minutes=minutes))
    return "\n".join(lines)

"""A case's timeline and the open-case list as operators read them in the chat (`/kasus`)."""
from __future__ import annotations

from datetime import datetime

from core.config import Deployment
from core.i18n import catalog, t
from workflows.cards import agency_name, local_time, type_name

STEP_NOTES = ("dispatch", "accepted", "on_scene", "done", "refused", "support")
TICKET_NOTES = {"duplicate_of": "casepage.note_duplicate_of", "merged": "casepage.note_merged",
                "closed_with": "casepage.note_closed_with"}
PLAIN_NOTES = {"calling_reporter": "casepage.note_calling_reporter", "called_back": "casepage.note_called_back",
               "auto_close": "casepage.note_auto_close", "rating_comment": "casepage.note_rating_comment",
               "made_from_draft": "timeline.made_from_draft"}
INTAKE_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp", "web": "Web"}


def intake_name(intake: str, lang: str) -> str:
    """How a report reached us, in words (chat apps by name; phone, radio, walk-in, relay translated)."""
    key = f"casepage.intake_{intake or 'chat'}"
    return INTAKE_NAMES.get(intake) or (t(lang, key) if key in catalog("id") else intake)


def note_words(note: str, config: Deployment, lang: str) -> str:
    """Turn a stored note like `dispatch:damkar,pdam` or `reason:hoax` into words (the chat and the page alike)."""
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
    if kind == "reason":
        return t(lang, "casepage.note_reason", reason=t(lang, f"reject.{rest}"))
    if kind == "entered":  # an operator typed in a phone, radio, walk-in or relayed report
        return t(lang, "casepage.note_entered", channel=intake_name(rest, lang))
    if kind == "for_crew":  # an operator entered a crew's step heard by radio
        return t(lang, "timeline.for_crew", crew=rest.partition(":")[2])
    if kind == "note":
        return t(lang, "casepage.note_text", text=rest)
    if kind == "rating":
        return t(lang, "casepage.note_rating", stars=rest)
    if kind in TICKET_NOTES:
        return t(lang, TICKET_NOTES[kind], ticket=rest)
    if kind in PLAIN_NOTES:
        return t(lang, PLAIN_NOTES[kind])
    return t(lang, "timeline.note", note=note) if note else ""


def timeline_text(ticket: str, events: list[tuple[datetime, str, str, str]], config: Deployment) -> str:
    """`events` are (at, actor name, state, note) in order."""
    lang = config.region.default_language
    lines = [t(lang, "timeline.header", ticket=ticket)]
    for at, actor, state, note in events:
        detail = note_words(note, config, lang)
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

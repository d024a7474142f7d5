"""What the command centre and the crews read: the report card and the task cards, as text.

Cards are rendered whole from a `CaseView` each time, so an edit always shows the latest state. What the
citizen typed (name, address, description) comes last, under its own header, each on one line between
quote marks, so it can never pass for a line of the system ("Status: selesai").
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from core import sla
from core.config import Deployment
from core.gazetteer import distance_label
from core.i18n import t
from core.messages import Priority


@dataclass(frozen=True)
class TaskView:
    """A task as its card shows it."""

    id: int
    agency: str
    state: str
    owner_name: str | None = None
    eta_minutes: int | None = None
    support_of: int | None = None
    refuse_reason: str | None = None
    note: str | None = None
    changed_at: datetime | None = None
    owner: str | None = None  # the crew member who accepted it, as `channel:id`


@dataclass(frozen=True)
class CaseView:
    """A case as the cards show it, read in the same transaction that changed it."""

    id: int
    ticket: str
    state: str
    incident_type: str
    urgent: bool
    submitted_at: datetime
    updated_at: datetime
    reporter_name: str
    channel: str
    contact: str
    latitude: float | None = None
    longitude: float | None = None
    address_text: str | None = None
    description: str | None = None
    photo_media_id: int | None = None
    operator_name: str | None = None
    reject_reason: str | None = None
    duplicate_of: str | None = None
    callback_requested: bool = False
    tasks: tuple[TaskView, ...] = field(default_factory=tuple)
    now: datetime | None = None
    sla_due_at: datetime | None = None
    accepted_at: datetime | None = None
    report_count: int = 1
    history: tuple[int, int] = (0, 0)  # the reporter's earlier reports, and how many were rejected as pranks
    similar: tuple[Similar, ...] = ()
    language: str = ""  # the reporter's language, for what the desk tells them
    drill: bool = False  # a rehearsal (LATIHAN): every card says so on its first line
    place: str = ""  # "Desa Pabian, Kec. Kota Sumenep" from the gazetteer (core.gazetteer.label), "" if unknown
    place_match: str | None = None  # pin_inside | pin_nearest | typed_confirmed | typed_unmatched
    place_distance_m: float | None = None  # from the desa's centre, for pin_nearest
    desk: str | None = None  # the operators' group showing its card (Case.desk_chat_id); None: the main one
    joined: tuple[Joined, ...] = ()  # the latest reports that joined it (workflows/cluster.py), newest first

    def task(self, task_id: int) -> TaskView | None:
        return next((x for x in self.tasks if x.id == task_id), None)


@dataclass(frozen=True)
class Joined:
    """Another report of the same incident, merged into this case: who reported it and how to reach them."""

    ticket: str
    submitted_at: datetime
    name: str
    contact: str


@dataclass(frozen=True)
class Similar:
    """An open case that probably is the same incident: same type, close in place and time."""

    id: int
    ticket: str
    metres: int | None
    minutes: int


CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp", "web": "Web"}


def mask(contact: str) -> str:
    """Show only the end of a phone number to those who do not handle the case."""
    digits = [c for c in contact if c.isdigit()]
    return "•••• " + "".join(digits[-3:]) if len(digits) >= 6 else "••••"


def local_time(config: Deployment, at: datetime, fmt: str = "%d-%m-%Y %H:%M") -> str:
    return at.astimezone(ZoneInfo(config.region.timezone)).strftime(fmt)


ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def zone_label(config: Deployment, at: datetime) -> str:
    """Indonesia's names for its three zones (WIB, WITA, WIT); elsewhere the UTC offset at `at`, e.g. UTC+5:30."""
    if config.region.timezone in ZONE_LABELS:
        return ZONE_LABELS[config.region.timezone]
    offset = at.astimezone(ZoneInfo(config.region.timezone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")


def drill_line(view: CaseView, lang: str) -> list[str]:
    """The LATIHAN marker heading every card of a drill case."""
    return [t(lang, "drill.marker")] if view.drill else []


def type_name(config: Deployment, code: str, lang: str) -> str:
    """An incident type as people read it: emoji and name in their language."""
    it = config.incident_type(code)
    return f"{it.emoji} {it.name.get(lang)}".strip() if it else code


def agency_name(config: Deployment, code: str, lang: str) -> str:
    agency = config.agency(code)
    return f"{agency.emoji} {agency.name.get(lang)}".strip() if agency else code


QUOTE_OPEN, QUOTE_CLOSE = "❝", "❞"
NAME_CHARS, QUOTE_CHARS = 64, 1000
# What Telegram would turn into a link, a mention or a tappable command inside someone else's words.
_LINKY = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?![a-z0-9-])|(?<!\w)[@/](?=\w)")
SAID = {"name": "card.said_name", "address": "card.said_address", "description": "card.said_description",
        "comment": "card.said_comment"}  # the label of each field a citizen fills in


def quoted(text: str, limit: int = QUOTE_CHARS) -> str:
    """Someone else's words on one line between quote marks: line breaks collapsed, control and direction
    characters dropped, its own quote marks, links, mentions and commands made inert, at most `limit` long."""
    one = " ".join(text.split())  # every kind of line break and space, Unicode's included
    one = "".join(ch for ch in one if ch == "\u200d" or unicodedata.category(ch) not in ("Cc", "Cf", "Co", "Cs"))
    one = one.replace(QUOTE_OPEN, '"').replace(QUOTE_CLOSE, '"')
    one = _LINKY.sub(_inert, one)
    if len(one) > limit:
        one = one[: limit - 1] + "…"
    return f"{QUOTE_OPEN}{one}{QUOTE_CLOSE}"


def _inert(match: re.Match[str]) -> str:
    """The same characters to the eye, but no link, mention or command: dots become U+2024, `://` U+2236,
    a leading @ or / their fullwidth and division-slash twins."""
    text = match.group()
    return {"@": "＠", "/": "∕"}.get(text) or text.replace("://", "∶//").replace(".", "․")


def citizen_lines(lang: str, **said: tuple[str | None, int]) -> list[str]:
    """The citizen's own words, after every line of the system: a header, then one quoted line per field."""
    lines = [t(lang, SAID[key], text=quoted(text, limit)) for key, (text, limit) in said.items()
             if text and text.strip()]
    return [t(lang, "card.citizen_header"), *lines] if lines else []


def _where(view: CaseView, lang: str) -> str:
    """The desa and kecamatan (with the distance when only the nearest), else the pin or the typed address."""
    if view.place:
        named = t(lang, "place.named", place=view.place)
        if view.place_match == "pin_nearest" and view.place_distance_m is not None:
            return f"{named} {t(lang, 'place.nearest', distance=distance_label(view.place_distance_m, lang))}"
        return f"{named} {t(lang, 'place.typed_confirmed')}" if view.place_match == "typed_confirmed" else named
    if view.latitude is not None:
        return t(lang, "place.pin", lat=f"{view.latitude:.5f}", lon=f"{view.longitude:.5f}")
    if view.place_match == "typed_unmatched":
        return t(lang, "place.typed_unmatched")
    return t(lang, "card.place_typed") if view.address_text and view.address_text.strip() else "-"


def map_link(view: CaseView) -> str:
    """A map link inside the card instead of a separate pin: one message per report in the busy operators' group."""
    if view.latitude is None:
        return ""
    return f"https://www.google.com/maps/search/?api=1&query={view.latitude:.5f},{view.longitude:.5f}"


def task_line(view: CaseView, task: TaskView, config: Deployment, lang: str) -> str:
    name = agency_name(config, task.agency, lang)
    if task.support_of is not None:
        parent = view.task(task.support_of)
        parent_name = agency_name(config, parent.agency, lang) if parent else "-"
        name = t(lang, "card.support_of", agency=name, parent=parent_name)
    status = t(lang, f"task.{task.state}", name=task.owner_name or "-", eta=task.eta_minutes or "-",
               reason=t(lang, f"refuse.{task.refuse_reason}") if task.refuse_reason else "-")
    when = f" · {local_time(config, task.changed_at, '%H:%M')}" if task.changed_at else ""
    return f"• {name}: {status}{when}"


def priority_of(view: CaseView, config: Deployment) -> int:
    """Urgent types, and any incident reported by several people, go to the front of every queue."""
    pressing = view.urgent or view.report_count >= config.duplicates.raise_priority_at
    return Priority.URGENT if pressing else Priority.NORMAL


def clock_line(view: CaseView, config: Deployment, lang: str) -> str:
    """Time left until the deadline while nobody has accepted; afterwards whether the target was met."""
    if view.sla_due_at is None or view.now is None:
        return ""
    kind = config.incident_type(view.incident_type)
    target = kind.sla_minutes if kind else None
    if view.accepted_at is not None:
        took = max(int((view.accepted_at - view.submitted_at).total_seconds() // 60), 0)
        key = "card.clock_met" if view.accepted_at <= view.sla_due_at else "card.clock_missed"
        return t(lang, key, minutes=took, target=target)
    if view.state not in sla.WAITING:
        return ""
    left, due = sla.minutes_left(view.now, view.sla_due_at), local_time(config, view.sla_due_at, "%H:%M")
    if left > 0:
        return t(lang, "card.clock_left", minutes=left, time=due)
    return t(lang, "card.clock_late", minutes=-left, time=due)


def _intake(view: CaseView, config: Deployment, lang: str) -> list[str]:
    """What helps judge a new report: how many reported it, the reporter's history, probable duplicates."""
    lines = []
    if view.report_count >= config.duplicates.raise_priority_at:
        lines.append(t(lang, "card.priority_raised", count=view.report_count))
    elif view.report_count > 1:
        lines.append(t(lang, "card.reports", count=view.report_count))
    lines += [t(lang, "cluster.card_reporter", ticket=j.ticket, when=local_time(config, j.submitted_at, "%H:%M"),
                contact=j.contact, name=quoted(j.name, NAME_CHARS)) for j in view.joined]
    if (more := view.report_count - 1 - len(view.joined)) > 0 and view.joined:
        lines.append(t(lang, "cluster.card_more", count=more))
    earlier, pranks = view.history
    lines.append(t(lang, "card.history", total=earlier, pranks=pranks) if earlier else t(lang, "card.history_new"))
    for other in view.similar:
        distance = (t(lang, "card.metres", metres=other.metres) if other.metres is not None
                    else t(lang, "card.same_address"))
        lines.append(t(lang, "card.similar", ticket=other.ticket, distance=distance, minutes=other.minutes))
    return lines


def _status(view: CaseView, config: Deployment, lang: str) -> str:
    lines = [t(lang, "card.status", state=t(lang, f"state.{view.state}"), when=local_time(config, view.updated_at,
                                                                                       "%H:%M"))]
    if clock := clock_line(view, config, lang):
        lines.append(clock)
    lines += _intake(view, config, lang)
    if view.operator_name:
        lines.append(t(lang, "card.operator", name=view.operator_name))
    if view.reject_reason:
        lines.append(t(lang, "card.rejected", reason=t(lang, f"reject.{view.reject_reason}")))
    if view.duplicate_of:
        lines.append(t(lang, "card.duplicate_of", ticket=view.duplicate_of))
    if view.callback_requested:
        lines.append(t(lang, "card.calling"))
    lines += [task_line(view, task, config, lang) for task in view.tasks]
    return "\n".join(lines)


def report_text(view: CaseView, config: Deployment) -> str:
    lang = config.region.default_language
    it = config.incident_type(view.incident_type)
    urgency = t(lang, "card.urgent", minutes=it.sla_minutes) if it and it.urgent else t(lang, "card.normal")
    head = t(lang, "card.head", ticket=view.ticket, type=type_name(config, view.incident_type, lang),
             urgency=urgency, when=local_time(config, view.submitted_at),
             channel=CHANNEL_NAMES.get(view.channel, view.channel), contact=view.contact,
             location=" ".join(filter(None, (_where(view, lang), map_link(view)))))
    said = citizen_lines(lang, name=(view.reporter_name, NAME_CHARS), address=(view.address_text, QUOTE_CHARS),
                         description=(view.description, QUOTE_CHARS))
    return "\n".join([*drill_line(view, lang), head, _status(view, config, lang), *said])


def task_text(view: CaseView, task: TaskView, config: Deployment) -> str:
    lang = config.region.default_language
    handling = task.support_of is None
    head = t(lang, "task.head", ticket=view.ticket, agency=agency_name(config, task.agency, lang),
             type=type_name(config, view.incident_type, lang), when=local_time(config, view.submitted_at),
             location=_where(view, lang), contact=view.contact if handling else mask(view.contact))
    if task.support_of is not None:
        parent = view.task(task.support_of)
        head = t(lang, "task.support_header", agency=agency_name(config, parent.agency, lang) if parent else "-") + \
            "\n" + head
    lines = [*drill_line(view, lang), head, task_line(view, task, config, lang)]
    if handling and task.state == "dispatched" and (clock := clock_line(view, config, lang)):
        lines.append(clock)
    lines += [task_line(view, x, config, lang) for x in view.tasks if x.support_of == task.id]
    lines += citizen_lines(lang, address=(view.address_text, QUOTE_CHARS), description=(view.description, QUOTE_CHARS))
    return "\n".join(lines)

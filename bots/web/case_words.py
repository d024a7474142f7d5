"""The case page in words: who acted, what each timeline note means, where a message went and how it fared,
times with the zone's label (WIB) — all through the catalogs, so the page reads Indonesian (or English)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.config import Deployment
from core.i18n import catalog, t
from core.messages import Address
from core.models import CaseEvent, Task
from workflows import cards
from workflows.timeline import _note as step_note  # dispatch, crew steps, support: the words /kasus uses

STEP_NOTES = ("dispatch", "accepted", "on_scene", "done", "refused", "support")
TICKET_NOTES = {"duplicate_of": "casepage.note_duplicate_of", "merged": "casepage.note_merged",
                "closed_with": "casepage.note_closed_with"}
PLAIN_NOTES = {"calling_reporter": "casepage.note_calling_reporter", "called_back": "casepage.note_called_back",
               "auto_close": "casepage.note_auto_close", "rating_comment": "casepage.note_rating_comment"}
INTAKE_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp", "web": "Web"}


@dataclass(frozen=True)
class Line:
    """One timeline row as the page shows it."""

    at: str
    who: str
    state: str
    detail: str


@dataclass
class Words:
    config: Deployment
    lang: str
    reporter_actor: str
    reporter_name: str
    staff: dict[str, str] = field(default_factory=dict)  # `dashboard:username` → the account's name

    def when(self, at: datetime | None, fmt: str = "%d-%m-%Y %H:%M:%S") -> str:
        """A time in the deployment's zone, with its label (WIB)."""
        if at is None:
            return "–"
        return f"{cards.local_time(self.config, at, fmt)} {cards.zone_label(self.config, at)}"

    def who(self, actor: str) -> str:
        if actor == self.reporter_actor:
            return t(self.lang, "timeline.reporter", name=self.reporter_name)
        if actor == "system":
            return t(self.lang, "timeline.system")
        channel, _, ident = actor.partition(":")
        if channel == "radio":
            return t(self.lang, "casepage.radio_crew", agency=cards.agency_name(self.config, ident, self.lang))
        return self.staff.get(actor) or self.config.person_name(channel, ident) or actor

    def note(self, note: str) -> str:
        """A stored note (`dispatch:damkar`, `reason:hoax`, `note:…`) in words."""
        kind, _, rest = note.partition(":")
        if kind in STEP_NOTES:
            return step_note(note, self.config, self.lang)
        if kind == "reason":
            return t(self.lang, "casepage.note_reason", reason=t(self.lang, f"reject.{rest}"))
        if kind == "entered":  # an operator typed in a phone, radio, walk-in or relayed report
            return t(self.lang, "casepage.note_entered", channel=self.intake(rest))
        if kind == "note":
            return t(self.lang, "casepage.note_text", text=rest)
        if kind == "rating":
            return t(self.lang, "casepage.note_rating", stars=rest)
        if kind in TICKET_NOTES:
            return t(self.lang, TICKET_NOTES[kind], ticket=rest)
        if kind in PLAIN_NOTES:
            return t(self.lang, PLAIN_NOTES[kind])
        return t(self.lang, "timeline.note", note=note) if note else ""

    def timeline(self, events: list[CaseEvent], tasks: list[Task]) -> list[Line]:
        """The rows in order; who typed in a crew's radio step is said on that step's row."""
        lines: list[Line] = []
        for e in events:
            kind, _, rest = e.note.partition(":")
            if kind == "for_crew" and lines:
                crew = rest.partition(":")[2]  # after the agency code
                entered = t(self.lang, "casepage.entered_for", operator=self.who(e.actor), crew=crew)
                last = lines[-1]
                lines[-1] = Line(last.at, last.who, last.state, f"{last.detail} — {entered}".lstrip(" —"))
                continue
            lines.append(Line(self.when(e.at), self.who(e.actor), t(self.lang, f"state.{e.to_state}"),
                              self.note(e.note)))
        return lines

    def task_status(self, task: Task) -> str:
        reason = t(self.lang, f"refuse.{task.refuse_reason}") if task.refuse_reason else "-"
        return t(self.lang, f"task.{task.state}", name=task.owner_name or "-", eta=task.eta_minutes or "-",
                 reason=reason)

    def agency(self, code: str) -> str:
        return cards.agency_name(self.config, code, self.lang)

    def type(self, code: str) -> str:
        return cards.type_name(self.config, code, self.lang)

    def intake(self, intake: str) -> str:
        key = f"casepage.intake_{intake or 'chat'}"
        return INTAKE_NAMES.get(intake) or (t(self.lang, key) if key in catalog("id") else intake)

    def recipient(self, to: Address) -> str:
        """Who a message about the case went to, in words: the reporter, a group, or a person by name."""
        if str(to) == self.reporter_actor:
            return t(self.lang, "web.to_reporter")
        if to.id == str(self.config.operators.telegram_chat_id):
            return t(self.lang, "web.to_operators")
        agency = self.config.agency_of_chat(to.id)
        if agency:
            return self.agency(agency.code)
        return self.config.person_name(to.channel, to.id) or INTAKE_NAMES.get(to.channel, to.channel)

    def delivery(self, status: str) -> str:
        key = f"casepage.delivery_{status}"
        return t(self.lang, key) if key in catalog("id") else status


def refusal_text(lang: str, key: str, params: dict[str, object]) -> str:
    """Why the desk refused, in the page's language (a case state in words, not its code)."""
    shown = dict(params)
    if isinstance(shown.get("state"), str):
        shown["state"] = t(lang, f"state.{shown['state']}")
    return t(lang, key, **shown)

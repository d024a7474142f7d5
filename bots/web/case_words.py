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
from workflows.timeline import INTAKE_NAMES, intake_name, note_words


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
        """A stored note (`dispatch:damkar`, `reason:hoax`, `note:…`) in words, as /kasus says it."""
        return note_words(note, self.config, self.lang)

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
        return intake_name(intake, self.lang)

    def recipient(self, to: Address) -> str:
        """Who a message about the case went to, in words: the reporter, a group, or a person by name."""
        if str(to) == self.reporter_actor:
            return t(self.lang, "web.to_reporter")
        if to.id == str(self.config.operators.telegram_chat_id):
            return t(self.lang, "web.to_operators")
        if desk := self.config.desk_of_chat(to.id):
            return t(self.lang, "desks.to_desk", desk=desk.name)
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

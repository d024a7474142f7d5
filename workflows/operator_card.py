"""What the command centre sees when a report is submitted: the operators' card and leadership's notice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.config import Deployment
from core.i18n import t
from core.messages import Address, Choice, GeoPoint, Outbound, Priority


@dataclass(frozen=True)
class SubmittedCase:
    case_id: int
    ticket: str
    incident_type: str
    urgent: bool
    channel: str
    reporter_name: str
    submitted_at: datetime
    latitude: float | None = None
    longitude: float | None = None
    address_text: str | None = None
    description: str | None = None
    photo_media_id: int | None = None


def operator_buttons(case_id: int, lang: str) -> tuple[Choice, ...]:
    return tuple(Choice(f"op:{action}:{case_id}", t(lang, f"button.op_{action}"))
                 for action in ("verify", "reject", "duplicate", "call"))


def on_submitted(case: SubmittedCase, config: Deployment) -> list[Outbound]:
    """The report card (photo, text, buttons) and pin for the operators, and a short notice to each leader."""
    lang = config.region.default_language
    it = config.incident_type(case.incident_type)
    when = case.submitted_at.astimezone(ZoneInfo(config.region.timezone)).strftime("%d-%m-%Y %H:%M")
    urgency = t(lang, "card.urgent", minutes=it.sla_minutes) if it.urgent else t(lang, "card.normal")
    if case.latitude is not None:
        where = t(lang, "summary.pin", lat=f"{case.latitude:.5f}", lon=f"{case.longitude:.5f}")
    else:
        where = case.address_text or "-"
    card = t(lang, "card.report", ticket=case.ticket, type=f"{it.emoji} {it.name.get(lang)}".strip(),
             urgency=urgency, when=when, reporter=case.reporter_name or "-", channel=case.channel.title(),
             location=where, description=case.description or "-")
    priority = Priority.URGENT if case.urgent else Priority.NORMAL
    ops = Address("telegram", str(config.operators.telegram_chat_id))
    out = [Outbound(to=ops, text=card, photo_media_id=case.photo_media_id, choices=operator_buttons(case.case_id, lang),
                    columns=2, priority=priority, ref=f"card:{case.case_id}", case_id=case.case_id)]
    if case.latitude is not None:
        out.append(Outbound(to=ops, location=GeoPoint(case.latitude, case.longitude), priority=priority,
                            case_id=case.case_id))
    notice = t(lang, "leader.new_report", ticket=case.ticket, type=it.name.get(lang), urgency=urgency, when=when)
    out += [Outbound(to=Address("telegram", str(m.telegram_user_id)), text=notice, priority=priority,
                     case_id=case.case_id)
            for m in config.leadership if m.telegram_user_id is not None]
    return out

"""An urgent report left unfinished: shown once to the operators so they can call back, and made a case if they do.

The timer is armed when an urgent type is chosen and re-armed by each message (one row per conversation);
when it fires with no message since, the draft is flagged and the operators' group gets a card with what is
known and a "Jadikan kasus" button (workflows/actions.py `draft:make`, bots/services/abandoned_drafts.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.config import Deployment
from core.i18n import t
from core.messages import Inbound, Outbound, Priority
from workflows import actions as A
from workflows.addresses import operators_address
from workflows.cards import NAME_CHARS, QUOTE_CHARS, citizen_lines, local_time, type_name, zone_label
from workflows.context import Context
from workflows.conversation_state import ConversationState, Draft
from workflows.effects import StartTimer, StepResult

KIND = "draft_abandoned"


@dataclass(frozen=True)
class ReportAbandoned:
    """Show this draft to the operators (the service adds the reporter's contact)."""

    draft: Draft


@dataclass(frozen=True)
class Reporter:
    """Who left the draft, as the operators' card shows them (personal data: the operators' group only)."""

    id: int
    channel: str
    external_id: str
    name: str
    phone: str | None


def arm(state: ConversationState, ctx: Context) -> list[StartTimer]:
    """(Re-)arm the timer while an unflagged draft of an urgent type is open; 0 minutes turns it off."""
    minutes, d = ctx.config.clock.abandoned_draft_minutes, state.draft
    it = ctx.config.incident_type(d.incident_type) if d and d.incident_type else None
    if not minutes or d is None or d.flagged or it is None or not it.urgent:
        return []
    return [StartTimer(KIND, timedelta(minutes=minutes), 0, {"touch": state.touch})]


def on_timer(s: ConversationState, event: Inbound, ctx: Context) -> StepResult:
    """Still open and untouched since the timer was armed (checked by the caller): flag it, once."""
    d = s.open_draft
    it = ctx.config.incident_type(d.incident_type) if d.incident_type else None
    if d.flagged or it is None or not it.urgent or not ctx.config.clock.abandoned_draft_minutes:
        return StepResult(s)
    flagged = replace(d, flagged=True)
    return StepResult(replace(s, draft=flagged), commands=[ReportAbandoned(flagged)])


def draft_key(draft: Draft) -> str:
    """The draft's identity on the button: its start time in whole seconds."""
    return str(int(datetime.fromisoformat(draft.started_at).timestamp()))


def contact(lang: str, who: Reporter) -> str:
    """How operators can reach the citizen: the WhatsApp number, the Telegram id, or nothing on the web chat."""
    if who.phone:
        return t(lang, "draft.contact_whatsapp", phone=who.phone)
    if who.channel == "telegram":
        return t(lang, "draft.contact_telegram", id=who.external_id)
    return t(lang, "draft.contact_web")


def card(config: Deployment, draft: Draft, who: Reporter) -> Outbound:
    """The operators' card: type, place if given, contact, and the button that makes it a case."""
    lang = config.region.default_language
    if draft.latitude is not None and draft.longitude is not None:
        where = f"https://www.google.com/maps/search/?api=1&query={draft.latitude:.5f},{draft.longitude:.5f}"
    else:
        where = t(lang, "draft.location_typed" if draft.address else "draft.location_none")
    started = datetime.fromisoformat(draft.started_at)
    since = f"{local_time(config, started, '%H:%M')} {zone_label(config, started)}"
    text = "\n".join([t(lang, "draft.card_head"), t(lang, "draft.card_body", since=since, location=where,
                                                           type=type_name(config, draft.incident_type or "", lang),
                                                           contact=contact(lang, who)),
                      *citizen_lines(lang, name=(who.name, NAME_CHARS), address=(draft.address, QUOTE_CHARS),
                                     description=(draft.description, QUOTE_CHARS))])
    button = A.DRAFT_MAKE.choice(who.id, t(lang, "draft.button_make"), draft_key(draft))
    return Outbound(to=operators_address(config), text=text, choices=(button,), priority=Priority.URGENT,
                    ref=card_ref(who.id, draft))


def card_ref(reporter_id: int, draft: Draft) -> str:
    return f"draft:{reporter_id}:{draft_key(draft)}"


def made(config: Deployment, draft: Draft, who: Reporter, ticket: str, operator: str) -> Outbound:
    """The card once an operator made it a case: the same text, the outcome, no button."""
    first = card(config, draft, who)
    lang = config.region.default_language
    return Outbound(to=first.to, text=f"{first.text}\n\n{t(lang, 'draft.made', ticket=ticket, name=operator)}",
                    edit_of=first.ref, priority=Priority.NORMAL)

"""Unfinished urgent reports: the operators' card with the reporter's contact, and "Jadikan kasus".

Making the case locks the citizen's conversation row, so it serializes with the citizen's own messages: a
report they finish first leaves no draft to make (the press is refused), and a draft made into a case is gone
when their next message arrives. Either way there is one case.
"""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from bots.services import submission
from core import casework, repository
from core.casework import NotAllowed
from core.config import Deployment
from core.i18n import t
from core.messages import Address, Outbound, Priority
from core.models import Reporter
from core.tickets import new_ticket
from workflows import abandoned_draft, notices
from workflows import actions as A
from workflows.citizen_prompts import safety_advice
from workflows.conversation_state import ConversationState, Draft, Step

if TYPE_CHECKING:
    from bots.services.desk import Desk

log = structlog.get_logger()
RNG = secrets.SystemRandom()


def who(reporter: Reporter) -> abandoned_draft.Reporter:
    return abandoned_draft.Reporter(reporter.id, reporter.channel, reporter.external_id, reporter.name,
                                    reporter.phone)


def card(config: Deployment, draft: Draft, reporter: Reporter) -> Outbound:
    """The operators' card of a draft just flagged."""
    return abandoned_draft.card(config, draft, who(reporter))


async def make_case(desk: Desk, pressed: A.Pressed) -> None:
    """An operator called back (or will): the draft becomes a case as it stands; the citizen gets the ticket."""
    s, config, now = desk.s, desk.config, desk.now
    reporter = await s.get(Reporter, pressed.target)
    if reporter is None:
        raise NotAllowed("draft.gone")
    key = f"{reporter.channel}:{reporter.external_id}"  # a private chat: the chat is the person
    conv = await repository.conversation_for_update(s, key)
    state = ConversationState.from_json(conv.state)
    d = state.draft
    it = config.incident_type(d.incident_type) if d and d.incident_type else None
    if d is None or it is None or not d.flagged or abandoned_draft.draft_key(d) != pressed.arg:
        raise NotAllowed("draft.gone")
    lang = state.lang or reporter.language or config.region.default_language
    case = await repository.create_case(
        s, reporter=reporter, chat=key, ticket=await _free_ticket(desk), incident_type=it.code, urgent=it.urgent,
        language=lang, latitude=d.latitude, longitude=d.longitude, address_text=d.address,
        description=d.description, photo_media_id=d.photo_media_id, started_at=datetime.fromisoformat(d.started_at),
        now=now)
    casework.record(s, case, desk.actor, now, note="made_from_draft")
    conv.state = replace(state, step=Step.IDLE, draft=None).to_json()
    conv.version, conv.updated_at = conv.version + 1, now
    log.info("draft_made_case", ticket=case.ticket)
    chat = Address.parse(key)
    text = t(lang, "draft.citizen_made", ticket=case.ticket, number=config.region.emergency_number)
    told = [Outbound(to=chat, text=notices.drill_marked(lang, text, case.drill), priority=Priority.URGENT,
                     case_id=case.id, template="status_update")]
    if advice := safety_advice(lang, it, config):
        told.append(Outbound(to=chat, text=advice, priority=Priority.URGENT, case_id=case.id,
                             template="status_update"))
    desk.out += [abandoned_draft.made(config, d, who(reporter), case.ticket, desk.name), *told,
                 *await submission.on_submitted(s, config, case, now)]
    desk.answer(t(desk.lang, "draft.made_answer", ticket=case.ticket))


async def _free_ticket(desk: Desk) -> str:
    for _ in range(20):
        ticket = new_ticket(desk.config.region.ticket_prefix, RNG)
        if not await repository.ticket_taken(desk.s, ticket):
            return ticket
    raise RuntimeError("could not allocate a ticket")

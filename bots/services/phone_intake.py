"""Reports an operator enters for a caller (phone, radio, walk-in, relay), from the dashboard or `/lapor`.

An emergency is stored as submitted at the time of the call (the 5-minute clock runs from the call), then
verified and dispatched by that operator through the very desk command a press of "verify" runs
(bots/services/operator_desk.py): the same task cards, leadership notices and timers. A call that needs no
crew (information, ghost call, prank) is stored rejected with its class: it counts in the figures and pages
nobody. A caller who agreed to follow-ups on WhatsApp becomes that WhatsApp reporter; any other caller is a
`phone:` reporter no message can reach (core/outbox.py drops them).
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bots.services import operator_desk, outgoing, submission, surge
from bots.services.live_channels import live_channels
from core import casework, drills, gazetteer, inbox, repository, sla
from core.config import Deployment
from core.i18n import t
from core.messages import Address, Inbound, Kind, Outbound, Priority
from core.models import Case, InboxItem, Reporter
from core.tickets import new_ticket
from workflows import notices, operator_card
from workflows.operator_desk import Verify
from workflows.operator_intake import NO_DISPATCH_REASON, OperatorReport

log = structlog.get_logger()
CHANNEL = "intake"  # inbox rows keyed by the form's id: a second submit of one form finds the first one's case
FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
RNG = secrets.SystemRandom()


@dataclass(frozen=True)
class Entered:
    """The case a form made (or had made already: `duplicate`)."""

    case_id: int
    ticket: str
    duplicate: bool = False


def operator_event(chat: Address, sender: Address, name: str, *, private: bool = False,
                   callback_id: str = "") -> Inbound:
    """The desk event the report is entered under: who acts, where the desk's answer goes."""
    return Inbound(kind=Kind.COMMAND, chat=chat, sender=sender, sender_name=name, command="lapor",
                   is_private=private, callback_id=callback_id)


async def reporter_of(session: AsyncSession, config: Deployment, report: OperatorReport,
                      now: datetime) -> tuple[Reporter, str]:
    """The caller as a reporter and the chat they hear progress in: WhatsApp when they agreed, else nowhere."""
    lang = config.region.default_language
    name = report.caller_name or ""
    if report.follow_up and report.caller_phone:
        reporter = await repository.reporter_for(session, "whatsapp", report.caller_phone, name, lang, now)
        reporter.phone = reporter.phone or "+" + report.caller_phone
        return reporter, f"whatsapp:{report.caller_phone}"
    # The same number calling again is the same caller (history, repeated pranks); no number: a fresh one.
    external = report.caller_phone or "x" + secrets.token_hex(8)
    reporter = await repository.reporter_for(session, "phone", external, name, lang, now)
    if report.caller_phone:
        reporter.phone = "+" + report.caller_phone
    return reporter, f"phone:{external}"


def name_place(case: Case, config: Deployment) -> None:
    """Name the pin or the typed address from the gazetteer, as the citizen's flow does; an operator's typing
    counts as confirmed only when it spells a desa exactly (no one was asked "Maksud Anda…?")."""
    places = gazetteer.for_config(config)
    if places is None:
        return
    if case.latitude is not None and case.longitude is not None:
        named = places.name_pin(case.latitude, case.longitude)
        if named is not None:
            case.desa_code, case.kecamatan_code = named.place.desa_code, named.place.kecamatan_code
            case.place_match = "pin_inside" if named.inside else "pin_nearest"
            case.place_distance_m = named.distance_m
    elif case.address_text and case.address_text.strip():
        found = places.match(case.address_text)
        if found is not None and found.score >= 1.0:
            case.desa_code = found.place.desa_code or None
            case.kecamatan_code, case.place_match = found.place.kecamatan_code, "typed_confirmed"
        else:
            case.place_match = "typed_unmatched"


async def create(session: AsyncSession, config: Deployment, report: OperatorReport, event: Inbound,
                 now: datetime, ticket: str, live: frozenset[str] | None = None) -> tuple[Case, list[Outbound]]:
    """Store the report and, for an emergency, verify and dispatch it as `event`'s sender; the messages to queue.
    Raises IntegrityError when the ticket is taken (draw another) and NotAllowed when the desk refuses."""
    from bots.services.desk import Desk  # the desk imports the /lapor flow, which imports this module

    if await repository.ticket_taken(session, ticket):
        raise IntegrityError("ticket", None, Exception("ticket taken"))
    desk = Desk(session, config, event, now, live=live)
    kind = config.incident_type(report.incident_type)
    assert kind is not None, "validated against the deployment"
    reporter, chat = await reporter_of(session, config, report, now)
    case = await repository.create_operator_case(
        session, reporter=reporter, chat=chat, ticket=ticket, incident_type=kind.code, urgent=kind.urgent,
        language=reporter.language, latitude=report.latitude, longitude=report.longitude,
        address_text=report.address_text, description=report.description, called_at=report.called_at, now=now,
        intake=report.intake, entered_by=desk.actor, caller_name=report.caller_name,
        caller_phone=report.caller_phone, traffic_class=report.traffic_class,
        drill=await drills.applies(session, desk.actor, now))
    name_place(case, config)
    structlog.contextvars.bind_contextvars(ticket=case.ticket)
    log.info("case_entered", intake=report.intake, traffic_class=report.traffic_class, incident_type=kind.code)
    if not report.emergency:
        casework.reject(session, case, desk.actor, NO_DISPATCH_REASON[report.traffic_class], now)
        case.traffic_class = report.traffic_class  # the reason is the nearest one; the class is the ministry's
        return case, []
    case.sla_due_at = sla.deadline(config, case.incident_type, case.submitted_at)
    if case.sla_due_at is not None:
        for due in sla.plan(config, case.submitted_at, case.sla_due_at):
            await sla.arm(session, case.id, due)
    case.desk_chat_id = await submission.choose_desk(session, config, case)  # by area like any report
    before = await desk.view(case)
    quiet = await surge.under_way(session, config, now)  # in a surge leaders get one summary instead
    out = operator_card.on_submitted(before, config, entered=True, leaders=not quiet)[1:]  # the card: with dispatch
    await operator_desk.carry_out(desk, case, before, Verify(report.agencies))
    own_chat = Address.parse(case.chat)
    out += [m for m in desk.out if m.to != own_chat]  # the caller hears one message, below, not "verified"
    if chat.startswith("whatsapp:"):
        names = notices.agencies_text(list(report.agencies), config, case.language)
        out.append(Outbound(to=own_chat, text=t(case.language, "intake.follow_up_first", ticket=case.ticket,
                                                agencies=names, number=config.region.emergency_number),
                            priority=Priority.URGENT if case.urgent else Priority.NORMAL,
                            template="status_update", case_id=case.id))
    return case, out


async def submit(deps, form_id: str, report: OperatorReport, username: str, name: str) -> Entered:
    """The dashboard's form: the case and its messages in one transaction with the form's inbox row, so a
    double submit (or a retry after a lost answer) makes no second case."""
    who = Address("dashboard", username)
    event = operator_event(who, who, name)
    for _ in range(5):
        try:
            async with deps.sessions() as session, session.begin():
                now = deps.clock.now()
                if not await inbox.store(session, channel=CHANNEL, external_id=form_id,
                                         conversation_key=f"{CHANNEL}:{username}", payload={}, now=now):
                    return await _earlier(session, form_id)
                case, out = await create(session, deps.config, report, event, now,
                                         new_ticket(deps.config.region.ticket_prefix, RNG),
                                         live=await live_channels(deps, session))
                item = (await session.execute(select(InboxItem).where(
                    InboxItem.channel == CHANNEL, InboxItem.external_id == form_id))).scalar_one()
                item.payload = {"case_id": case.id}
                await inbox.mark_done(session, item, now)
                await outgoing.queue(deps, session, out, now)
                entered = Entered(case.id, case.ticket)
            await deps.coord.wake("outbox")
            return entered
        except IntegrityError:
            log.warning("ticket_collision_retry")
    raise RuntimeError("could not allocate a ticket")


async def _earlier(session: AsyncSession, form_id: str) -> Entered:
    item = (await session.execute(select(InboxItem).where(
        InboxItem.channel == CHANNEL, InboxItem.external_id == form_id))).scalar_one()
    case = await session.get(Case, int(item.payload.get("case_id") or 0)) if item.payload else None
    if case is None:
        raise casework.NotAllowed("intake.err_busy")
    return Entered(case.id, case.ticket, duplicate=True)

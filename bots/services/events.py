"""Apply one inbox event: run its flow, then save state, cases, messages and timers in one transaction."""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from bots.pipeline.deps import Deps
from bots.services import abandoned_drafts, lapor_chat, outgoing, sla_timers, submission, web_hold
from bots.services.desk import Desk, finishing_task, is_crew_member, is_desk_event
from bots.services.live_channels import live_channels
from core import casework, gazetteer, inbox, repository, timers
from core.i18n import t
from core.messages import Address, Inbound, Kind, Outbound, Priority
from core.tickets import new_ticket
from workflows import abandoned_draft, citizen_report, notices
from workflows.context import CaseSummary, Context
from workflows.conversation_state import ConversationState
from workflows.effects import CommentRating, RateCase, SetLanguage, SetPhone, StepResult, SubmitCase

log = structlog.get_logger()
RNG = secrets.SystemRandom()


def timer_event(payload: dict) -> Inbound:
    """A fired timer, addressed to the conversation it was set for."""
    who = Address.parse(payload["key"])
    return Inbound(kind=Kind.TIMER, chat=who, sender=who, timer=payload["kind"], timer_payload=payload["payload"])


async def handle(deps: Deps, item_id: int, event: Inbound | None) -> bool:
    """Process one inbox item; False if another worker had already done it."""
    for _ in range(5):
        try:
            return await _handle_once(deps, item_id, event, ticket=new_ticket(deps.config.region.ticket_prefix, RNG))
        except IntegrityError:
            log.warning("ticket_collision_retry")  # two cases drew the same ticket: draw again
    raise RuntimeError("could not allocate a ticket")


async def _handle_once(deps: Deps, item_id: int, event: Inbound | None, ticket: str) -> bool:
    now = deps.clock.now()
    async with deps.sessions() as session, session.begin():
        item = await inbox.lock_pending(session, item_id)
        if item is None:
            return False
        if event is not None:
            result = await _run_flow(deps, session, item, event, now, ticket)
            await _save(deps, session, item.conversation_key, event, result, now)
        await inbox.mark_done(session, item, now)
    return True


async def _run_flow(deps: Deps, session, item, event: Inbound, now: datetime, ticket: str) -> StepResult:
    if event.kind == Kind.TIMER and sla_timers.is_clock_event(event):
        return StepResult(out=await sla_timers.handle(session, deps.config, event, now))
    if not event.is_private:
        return StepResult(out=await Desk(session, deps.config, event, now,
                                         live=await live_channels(deps, session)).handle())
    if await lapor_chat.takes(session, deps.config, event, now):  # an operator entering a call (/lapor)
        return StepResult(out=await lapor_chat.step(session, deps.config, event, now, ticket,
                                                      await live_channels(deps, session)))
    conv = await repository.conversation_for_update(session, item.conversation_key)
    state = ConversationState.from_json(conv.state)  # whatever shape an earlier version stored
    if event.kind != Kind.TIMER:
        conv.last_inbound_at = now  # opens WhatsApp's 24-hour window
    if is_desk_event(event, deps.config) or (
            is_crew_member(event, deps.config) and await finishing_task(session, str(event.sender), None)):
        return StepResult(state, await Desk(session, deps.config, event, now,
                                            live=await live_channels(deps, session)).handle())
    if event.kind != Kind.TIMER and (flooded := await _flooded(deps, session, item, event, state)) is not None:
        return flooded
    lang = state.lang or deps.config.region.default_language
    reporter = await repository.reporter_for(session, event.sender.channel, event.sender.id, event.sender_name,
                                             lang, now)
    if reporter.phone is None and event.sender.channel == "whatsapp" and event.sender.id.isdigit():
        reporter.phone = "+" + event.sender.id  # a wa_id is the number; a business-scoped id is not
    cases = await repository.recent_cases(session, reporter.id)
    ctx = Context(config=deps.config, now=now, ticket=ticket, blocked=reporter.blocked,
                  reports_last_hour=await repository.reports_since(session, reporter.id, now - timedelta(hours=1)),
                  cases=tuple(CaseSummary(c.ticket, c.incident_type, c.state, c.submitted_at) for c in cases),
                  phone_known=bool(reporter.phone), places=gazetteer.for_config(deps.config))
    result = citizen_report.step(state, event, ctx)
    for command in result.commands:
        if isinstance(command, SubmitCase):
            if await repository.ticket_taken(session, command.ticket):
                raise IntegrityError("ticket", None, Exception("ticket taken"))
            case = await repository.create_case(
                session, reporter=reporter, chat=str(event.chat), ticket=command.ticket,
                incident_type=command.incident_type, urgent=command.urgent, language=command.language,
                latitude=command.latitude, longitude=command.longitude, address_text=command.address_text,
                description=command.description, photo_media_id=command.photo_media_id,
                started_at=datetime.fromisoformat(command.started_at), now=now, desa_code=command.desa_code,
                kecamatan_code=command.kecamatan_code, place_match=command.place_match,
                place_distance_m=command.place_distance_m, location_accuracy_m=command.location_accuracy_m)
            structlog.contextvars.bind_contextvars(ticket=case.ticket)
            if case.drill:  # LATIHAN: the ticket message says so
                result.out = [replace(m, text=notices.drill_marked(command.language, m.text, True))
                              if m.to == event.chat and m.text else m for m in result.out]
            log.info("case_submitted", incident_type=case.incident_type, urgent=case.urgent)
            held = await web_hold.hold(session, deps.config, case, event.origin, now) if event.origin else None
            if held is None:
                result.out += await submission.on_submitted(session, deps.config, case, now)
            else:  # past the web chat's report limits: the ticket stands, operators see one summary card
                result.out += held + [Outbound(to=event.chat, text=t(
                    command.language, "report.held", ticket=case.ticket, number=deps.config.region.emergency_number))]
        elif isinstance(command, SetLanguage):
            reporter.language = command.language
        elif isinstance(command, SetPhone):  # the reporter's own call-back number (never logged)
            reporter.phone = command.phone
        elif isinstance(command, abandoned_draft.ReportAbandoned):
            log.info("draft_abandoned", incident_type=command.draft.incident_type)
            result.out.append(abandoned_drafts.card(deps.config, command.draft, reporter))
        elif isinstance(command, (RateCase, CommentRating)):
            await _rating(deps, session, reporter, command, result, now)
    conv.state, conv.version, conv.updated_at = result.state.to_json(), conv.version + 1, now
    return result


async def _flooded(deps: Deps, session, item, event: Inbound, state: ConversationState) -> StepResult | None:
    """A burst of messages from one citizen: answer once, then let the rest pass unprocessed until it calms."""
    limit = deps.config.limits.messages_per_minute
    count = await inbox.recent_count(session, item, 60)
    if count <= limit:
        return None
    log.info("flood_limited", count=count)
    lang = state.lang or deps.config.region.default_language
    out = [Outbound(to=event.chat, text=t(lang, "flood.messages", number=deps.config.region.emergency_number))]
    return StepResult(state, out if count == limit + 1 else [])


async def _rating(deps: Deps, session, reporter, command, result: StepResult, now: datetime) -> None:
    """Store a rating or its comment; refuse politely when the case is not theirs, open, or already rated."""
    case = await casework.load_case(session, command.case_id)
    actor = f"{reporter.channel}:{reporter.external_id}"
    try:
        if case is None or case.reporter_id != reporter.id:
            raise casework.NotAllowed("rating.not_open")
        if isinstance(command, RateCase):
            casework.rate(session, case, command.stars, actor, now)
            if command.stars <= deps.config.cases.low_rating_alert:
                result.out.append(notices.low_rating_alert(deps.config, case.ticket, command.stars,
                                                           desk=case.desk_chat_id))
        else:
            casework.comment(session, case, command.text, actor, now)
            if case.rating <= deps.config.cases.low_rating_alert:
                result.out.append(notices.low_rating_alert(deps.config, case.ticket, case.rating, command.text,
                                                           desk=case.desk_chat_id))
    except casework.NotAllowed as exc:
        lang = result.state.lang or deps.config.region.default_language
        chat = result.out[0].to if result.out else Address.parse(actor)
        result.out = [Outbound(to=chat, text=t(lang, exc.key))]
        result.state = replace(result.state, comment_for=None)


async def _save(deps: Deps, session, key: str, event: Inbound, result: StepResult, now: datetime) -> None:
    out = outgoing.deliverable(deps, result.out)
    if event.callback_id and not any(m.answer_callback for m in out):
        out.insert(0, Outbound(to=event.chat, answer_callback=event.callback_id, priority=Priority.CALLBACK))
    await outgoing.enqueue_all(deps, session, out, now)
    for timer in result.timers:
        await timers.schedule(session, kind=timer.kind, key=key, version=timer.version, due_at=now + timer.after,
                              payload=timer.payload)

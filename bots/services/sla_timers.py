"""Timers of the handling clock and the calendar: reminders, re-pings, leaders' alerts, card refreshes, digest.

Each runs in the processing transaction with the case locked, checks that the case still waits for what
the timer was set for (so a timer whose case has moved on does nothing), and writes a timeline note, so a
step happens at most once even if its timer were armed again.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.services import surge
from bots.services.case_view import case_view
from core import casework, figures, outbox, retention, roster, sla, timers
from core.casework import TaskState
from core.clock import next_local_time
from core.config import Deployment
from core.messages import Address, Inbound, Outbound, Priority
from core.models import Case, CaseEvent, Task
from workflows import card_messages, figures_text, notices, sla_notices
from workflows.addresses import desk_address

DIGEST_KEY, RETENTION_KEY = "system:digest", "system:retention"
STAGING_KEY, STAGING_EVERY = "system:staging", timedelta(minutes=15)
log = structlog.get_logger()
MAX_TICKS = 120


def is_clock_event(event: Inbound) -> bool:
    return event.timer.startswith("sla.") or event.timer in ("digest", "retention", retention.STAGING_TIMER,
                                                             surge.SUMMARY_TIMER)


async def plan_calendar(session: AsyncSession, config: Deployment, now: datetime) -> None:
    """The next daily digest, retention pass and staging sweep: planned once, whichever process gets there first."""
    await arm_digest(session, config, now)
    await arm_retention(session, config, now)
    await arm_staging(session, config, now)


async def arm_digest(session: AsyncSession, config: Deployment, now: datetime) -> None:
    """Plan the next digest; every process may call this, one row per day results."""
    due = figures_text.next_digest_at(config, now)
    await timers.ensure(session, kind="digest", key=DIGEST_KEY, version=int(due.strftime("%Y%m%d")), due_at=due,
                        payload={})


async def arm_retention(session: AsyncSession, config: Deployment, now: datetime) -> None:
    """Plan the next nightly pass of the retention job (03:00 local by default)."""
    due = next_local_time(config.region.timezone, now, config.privacy.sweep_time)
    await timers.ensure(session, kind="retention", key=RETENTION_KEY, version=int(due.strftime("%Y%m%d")),
                        due_at=due, payload={})


async def arm_staging(session: AsyncSession, config: Deployment, now: datetime) -> None:
    """Plan the next staging cleanup (unattached photos, old web-report counts) on the next quarter hour."""
    step = int(STAGING_EVERY.total_seconds())
    slot = int(now.timestamp()) // step + 1
    await timers.ensure(session, kind=retention.STAGING_TIMER, key=STAGING_KEY, version=slot,
                        due_at=datetime.fromtimestamp(slot * step, tz=UTC), payload={})


async def staging(session: AsyncSession, config: Deployment, now: datetime) -> list[Outbound]:
    await arm_staging(session, config, now)
    swept = await retention.sweep_staging(session, now, config.privacy.staging_minutes, config.web.window_minutes)
    drills = await retention.remove_drills(session, now, config.drills.keep_hours)  # rehearsals leave nothing
    log.info("staging_sweep", **vars(swept), drills=drills)
    return []


async def handle(session: AsyncSession, config: Deployment, event: Inbound, now: datetime) -> list[Outbound]:
    if event.timer == retention.STAGING_TIMER:
        return await staging(session, config, now)
    if event.timer == "digest":
        return await digest(session, config, now)
    if event.timer == surge.SUMMARY_TIMER:  # leaders' summary in a surge
        return await surge.on_summary(session, config, now)
    if event.timer == "retention":
        await arm_retention(session, config, now + timedelta(minutes=1))
        swept = await retention.sweep(session, now, config.privacy.retention_days,
                                      audit_days=config.privacy.audit_days)
        log.info("retention_sweep", **vars(swept))
        return []
    case = await casework.load_case(session, int(event.chat.id))
    if case is None or case.sla_due_at is None:
        return []
    handler = {"sla.verify": on_verify, "sla.reping": on_reping, "sla.escalate": on_escalate,
               "sla.tick": on_tick}[event.timer]
    return notices.for_drill(await handler(session, config, case, event.timer_payload, now), config, case.drill)


async def _once(session: AsyncSession, case: Case, note: str, now: datetime) -> bool:
    """True the first time this clock step is taken for the case, and records it on the timeline."""
    seen = (await session.execute(select(CaseEvent.id).where(CaseEvent.case_id == case.id,
                                                             CaseEvent.note == note))).first()
    if seen:
        return False
    casework.record(session, case, "system", now, note=note)
    return True


async def on_verify(session, config, case: Case, payload: dict, now: datetime) -> list[Outbound]:
    if case.state != "submitted":
        return []
    if (await outbox.edit_target(session, f"card:{case.id}"))[0] == "waiting":
        # In a surge the card itself still waits for the group's 20 messages a minute: a reminder about a
        # card nobody has seen would only take its place; the card shows the time left when it arrives.
        log.info("sla_verify_reminder_skipped", case_id=case.id, reason="card_not_shown_yet")
        return []
    if not await _once(session, case, "sla:verify_reminder", now):
        return []
    return [sla_notices.verify_reminder(await case_view(session, case, config, now), config, now)]


async def on_reping(session, config, case: Case, payload: dict, now: datetime) -> list[Outbound]:
    task = await session.get(Task, payload.get("task_id"))
    if task is None or task.state != TaskState.DISPATCHED or not sla.waiting(case.state):
        return []
    agency = config.agency(task.agency)
    if agency is None or agency.telegram_chat_id is None or \
            not await _once(session, case, f"sla:reping:{task.id}", now):
        return []
    duty = [config.person_name(*p.split(":", 1)) or p
            for p in await roster.on_duty(session, task.agency, now, config.roster.shift_max_hours)]
    return [sla_notices.reping(await case_view(session, case, config, now), task.agency, config, duty)]


async def on_escalate(session, config, case: Case, payload: dict, now: datetime) -> list[Outbound]:
    role = payload.get("role", "")
    if not sla.waiting(case.state) or not await _once(session, case, f"sla:escalate:{role}", now):
        return []
    view = await case_view(session, case, config, now)
    return [sla_notices.escalation(view, config, leader, now) for leader in config.leaders(role)
            if leader.hears("breach")]


async def on_tick(session, config, case: Case, payload: dict, now: datetime) -> list[Outbound]:
    """Refresh the time left on the operators' card and the waiting task cards, then plan the next refresh."""
    if not sla.waiting(case.state):
        return []
    elapsed = (now - case.submitted_at).total_seconds() / 60
    index = int(elapsed / config.clock.refresh_minutes) + 1
    if index <= MAX_TICKS:
        await sla.arm(session, case.id, sla.next_tick(config, now, index))
    if await outbox.waiting_cards(session, "telegram", desk_address(config, case.desk_chat_id).id):
        return []  # a surge: new cards wait for the group's 20 a minute; this refresh would only take a slot
    view = await case_view(session, case, config, now)
    shown = await outbox.shown_choices(session, f"card:{case.id}")  # a sub-menu an operator opened stays open
    card = card_messages.card_message(view, config, edit=True, choices=shown)
    out = [_background(card)]
    for task in view.tasks:
        if task.state == TaskState.DISPATCHED and task.support_of is None:
            out += [_background(m) for m in card_messages.task_messages(view, task, config, edit=True)]
    return out


def _background(message: Outbound) -> Outbound:
    return replace(message, priority=Priority.BACKGROUND)


async def digest(session: AsyncSession, config: Deployment, now: datetime) -> list[Outbound]:
    """Yesterday's figures to every leader and the configured chats, then plan tomorrow's."""
    await arm_digest(session, config, now + timedelta(minutes=1))
    local_day = now.astimezone(config.region.tz).date() - timedelta(days=1)
    start, end = figures_text.day_window(config, local_day)
    fig = await figures.load(session, start, end, now)
    lang = config.region.default_language
    text = figures_text.render(fig, config, figures_text.digest_title(config, local_day, lang), lang)
    targets = [notices.leader_address(leader) for leader in config.leadership if leader.hears("digest")]
    targets += [Address("telegram", str(chat)) for chat in config.digest.telegram_chat_ids]
    return [Outbound(to=to, text=text, template="status_update") for to in dict.fromkeys(targets)]

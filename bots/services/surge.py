"""A surge, as a submitted report and the leaders' summary timer meet it (core/surge.py says when there is one).

While the report's operators' group is saturated an urgent report's card also goes to the operators on duty in
private; in a surge leaders get one summary every `surge.leader_summary_minutes` (a timer armed while it
lasts, none when calm) instead of a notice per report, and the citizen is told many reports are coming in.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox, roster, surge, timers
from core.config import Deployment
from core.messages import Address, Outbound
from core.models import Case
from workflows import surge_notices
from workflows.cards import CaseView

SUMMARY_TIMER, SUMMARY_KEY = "surge.summary", "system:surge"
BUSY = 3  # messages already waiting for a person's chat: about three seconds of its allowance
log = structlog.get_logger()


async def first_eyes(session: AsyncSession, config: Deployment, case: Case, view: CaseView,
                     now: datetime) -> list[Outbound]:
    """Copies of an urgent report's card for the operators on duty while its group's queue is long."""
    if not (case.urgent and config.surge.private_copies):
        return []
    if not await surge.saturated(session, config, case.desk_chat_id, now):
        return []
    people = await roster.on_duty(session, roster.OPERATOR, now, config.roster.shift_max_hours)
    duty = [Address.parse(p) for p in people]
    chats = [a for a in duty if a.channel == "telegram" and config.is_operator(a.channel, a.id)]
    if not chats:  # nobody checked in: every operator on Telegram rather than nobody
        chats = [Address("telegram", str(m.telegram_user_id)) for m in config.operators.members
                 if m.telegram_user_id is not None]
    chats = await _with_room(session, chats)
    log.info("surge_first_eyes", case_id=case.id, copies=len(chats), on_duty=len(duty) > 0)
    return surge_notices.first_eyes(view, config, chats)


async def _with_room(session: AsyncSession, chats: list[Address]) -> list[Address]:
    """The chats with room in their allowance (about one message a second each); if every one is backed up, the
    least backed-up one: a copy that would wait behind a queue is not first eyes, and it would only add to it
    (the flash bench: three copies of every urgent card kept 250 messages waiting for three operators)."""
    waiting = {chat: await outbox.waiting_for(session, chat) for chat in chats}
    free = [chat for chat in chats if waiting[chat] < BUSY]
    return free or sorted(chats, key=lambda chat: waiting[chat])[:1]


async def under_way(session: AsyncSession, config: Deployment, now: datetime) -> bool:
    """Whether a surge is on now; if so the leaders' summary timer is armed (one per period, whoever arms it)."""
    if not await surge.surging(session, config, now):
        return False
    await arm_summary(session, config, now)
    return True


def citizen_word(case: Case, config: Deployment) -> list[Outbound]:
    """A report submitted in a surge: the citizen is told so with their ticket (drills: nothing)."""
    if case.drill:
        return []
    return [surge_notices.citizen_notice(case.chat, case.language, case.ticket, config, urgent=case.urgent,
                                         case_id=case.id)]


def _period(config: Deployment) -> float:
    return config.surge.leader_summary_minutes * 60


async def arm_summary(session: AsyncSession, config: Deployment, now: datetime) -> None:
    """The next summary at the next multiple of the period: every process arming it in one period makes one row."""
    slot = int(now.timestamp() // _period(config)) + 1
    await timers.ensure(session, kind=SUMMARY_TIMER, key=SUMMARY_KEY, version=slot % 2**31, payload={},
                        due_at=datetime.fromtimestamp(slot * _period(config), tz=UTC))


async def on_summary(session: AsyncSession, config: Deployment, now: datetime) -> list[Outbound]:
    """Summarise the last period for leaders; re-armed while the surge lasts, a last one when it has calmed."""
    calm = not await surge.surging(session, config, now)
    if not calm:
        await arm_summary(session, config, now)
    fig = await surge.summary(session, now - timedelta(seconds=_period(config)))
    if calm and fig.total == 0:
        return []
    unattended = not await roster.on_duty(session, roster.OPERATOR, now, config.roster.shift_max_hours)
    log.info("surge_summary", reports=fig.total, unverified=fig.unverified, calm=calm, unattended=unattended)
    return surge_notices.leader_summary(fig, config, now, calm=calm, unattended=unattended and not calm)

"""A surge: reports come faster than one operators' group can show them, so leaders, citizens and the first
pair of eyes are served differently (bots/services/surge.py); drills never make one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from core.cases import CaseState
from core.config import Deployment
from core.models import Case, OutboxItem
from core.outbox_lists import BATCHED

LIST_MODE = timedelta(minutes=1)  # Telegram's window for a group's 20 messages


async def saturated(session: AsyncSession, config: Deployment, desk_chat: str | None,
                    now: datetime | None = None) -> bool:
    """Whether an operators' group (`Case.desk_chat_id`; None: the main group) has `surge.batch_after` new
    cards waiting for its 20 messages a minute, or (given `now`) had to fold cards queued within the last
    minute into a list: its queue empties one list at a time, so the waiting count alone flickers."""
    chat = desk_chat or str(config.operators.telegram_chat_id)
    if await outbox.waiting_cards(session, "telegram", chat) >= config.surge.batch_after:
        return True
    if now is None:
        return False
    return (await session.execute(select(OutboxItem.id).where(
        OutboxItem.channel == "telegram", OutboxItem.group_chat == chat, OutboxItem.status == BATCHED,
        OutboxItem.created_at >= now - LIST_MODE).limit(1))).first() is not None


async def reports_since(session: AsyncSession, since: datetime) -> int:
    """Reports submitted since then (entered by phone, merged or held included), drills left out."""
    return int(await session.scalar(select(func.count()).select_from(Case).where(
        Case.submitted_at >= since, Case.drill.is_(False))) or 0)


async def surging(session: AsyncSession, config: Deployment, now: datetime) -> bool:
    """`surge.reports` reports within `surge.window_minutes`, or an operators' group saturated."""
    since = now - timedelta(minutes=config.surge.window_minutes)
    if await reports_since(session, since) >= config.surge.reports:
        return True
    for chat in config.desk_chats():
        if await saturated(session, config, chat, now):
            return True
    return False


@dataclass(frozen=True)
class Waiting:
    """The report that has waited longest for an operator's verification."""

    ticket: str
    incident_type: str
    submitted_at: datetime


@dataclass(frozen=True)
class Summary:
    """What a leader's surge summary says: the period's reports by type, and the backlog as it stands."""

    by_type: dict[str, int]
    urgent: int
    unverified: int  # every real report still waiting for verification, not only the period's
    oldest: Waiting | None

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


async def summary(session: AsyncSession, since: datetime) -> Summary:
    """The reports submitted since `since` and what still waits for verification now (drills left out)."""
    real = (Case.drill.is_(False), Case.submitted_at.is_not(None))
    rows = await session.execute(select(Case.incident_type, func.count(), func.count().filter(Case.urgent.is_(True)))
                                 .where(*real, Case.submitted_at >= since).group_by(Case.incident_type))
    by_type, urgent = {}, 0
    for code, count, urgent_count in rows.all():
        by_type[str(code)], urgent = int(count), urgent + int(urgent_count)
    waiting = (*real, Case.state == CaseState.SUBMITTED)
    unverified = int(await session.scalar(select(func.count()).select_from(Case).where(*waiting)) or 0)
    first = (await session.execute(select(Case.ticket, Case.incident_type, Case.submitted_at).where(*waiting)
                                   .order_by(Case.submitted_at, Case.id).limit(1))).first()
    oldest = Waiting(first[0], first[1], first[2]) if first is not None and first[2] is not None else None
    return Summary(dict(sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))), urgent, unverified, oldest)

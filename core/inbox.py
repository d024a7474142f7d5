"""The durable inbox: store an update once, then hand out each conversation's updates in order."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import InboxItem

MAX_ATTEMPTS = 5


def _insert(session: AsyncSession):
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    return dialect.insert(InboxItem)


async def store(session: AsyncSession, *, channel: str, external_id: str, conversation_key: str,
                payload: dict, now: datetime) -> bool:
    """Insert the update unless its key is known; True when it is new. The caller commits."""
    stmt = _insert(session).values(
        channel=channel, external_id=external_id, conversation_key=conversation_key,
        payload=payload, status="pending", attempts=0, received_at=now, not_before=now,
    ).on_conflict_do_nothing(index_elements=["channel", "external_id"])
    result = await session.execute(stmt)
    return result.rowcount == 1


async def pending_conversations(session: AsyncSession, now: datetime, limit: int) -> list[str]:
    """Conversations with work due, oldest first."""
    stmt = (select(InboxItem.conversation_key)
            .where(InboxItem.status == "pending", InboxItem.not_before <= now)
            .group_by(InboxItem.conversation_key)
            .order_by(func.min(InboxItem.id))
            .limit(limit))
    return list((await session.execute(stmt)).scalars())


async def next_item(session: AsyncSession, key: str, now: datetime) -> InboxItem | None:
    """The conversation's oldest pending update, or None while it waits for a retry."""
    stmt = (select(InboxItem).where(InboxItem.conversation_key == key, InboxItem.status == "pending")
            .order_by(InboxItem.id).limit(1))
    item = (await session.execute(stmt)).scalar_one_or_none()
    if item is None or item.not_before > now:
        return None
    return item


async def lock_pending(session: AsyncSession, item_id: int) -> InboxItem | None:
    """Re-read the item inside the processing transaction; None if someone else already did it."""
    stmt = select(InboxItem).where(InboxItem.id == item_id, InboxItem.status == "pending").with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def record_failure(session: AsyncSession, item_id: int, error: str, now: datetime) -> None:
    """Back off and retry; park the update as failed after MAX_ATTEMPTS so it stays visible."""
    item = await session.get(InboxItem, item_id)
    if item is None or item.status != "pending":
        return
    item.attempts += 1
    item.error = error[:500]
    if item.attempts >= MAX_ATTEMPTS:
        item.status = "failed"
    else:
        item.not_before = now + timedelta(seconds=2 ** item.attempts)


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(InboxItem.status, func.count()).group_by(InboxItem.status))
    return {status: n for status, n in rows}


async def mark_done(session: AsyncSession, item: InboxItem, now: datetime) -> None:
    await session.execute(update(InboxItem).where(InboxItem.id == item.id)
                          .values(status="done", processed_at=now, error=None))


async def recent_count(session: AsyncSession, item: InboxItem, seconds: float) -> int:
    """How many updates this conversation sent in the `seconds` up to and including this one (flood check)."""
    since = item.received_at - timedelta(seconds=seconds)
    stmt = select(func.count()).select_from(InboxItem).where(
        InboxItem.conversation_key == item.conversation_key, InboxItem.channel != "timer",
        InboxItem.received_at > since, InboxItem.id <= item.id)
    return (await session.execute(stmt)).scalar_one()


async def id_of(session: AsyncSession, channel: str, external_id: str) -> int:
    return (await session.execute(select(InboxItem.id).where(InboxItem.channel == channel,
                                                             InboxItem.external_id == external_id))).scalar_one()

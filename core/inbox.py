"""The durable inbox: store an update once, then hand out each conversation's updates in order."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import dialect_insert, rows_affected
from core.models import InboxItem

MAX_ATTEMPTS = 5
PARKED = "parked"  # kept for operators to look at, never retried: an unusable delivery or an event out of tries
PARKED_STATES = (PARKED, "failed")  # "failed" is what older versions called it
TIMERS = "timer"  # the channel of fired timers' rows (core/timers.py): never counted as a person's messages
GO, GONE = "go", "gone"  # begin_attempt's other answers


def row(*, channel: str, external_id: str, conversation_key: str, payload: dict[str, Any], now: datetime,
        parked_because: str | None = None) -> dict[str, Any]:
    """An inbox row as stored: pending, or parked (never processed) with its reason."""
    return dict(channel=channel, external_id=external_id, conversation_key=conversation_key, payload=payload,
                status="pending" if parked_because is None else PARKED, attempts=0, received_at=now,
                not_before=now, error=None if parked_because is None else parked_because[:500])


async def store(session: AsyncSession, *, channel: str, external_id: str, conversation_key: str,
                payload: dict[str, Any], now: datetime, parked_because: str | None = None) -> bool:
    """Insert the update unless its key is known; True when it is new. The caller commits.

    With `parked_because` the row is stored parked (never processed) with that reason: a delivery the
    platform will keep re-sending unless acknowledged, which the gateway cannot use."""
    stmt = dialect_insert(session, InboxItem).values(**row(
        channel=channel, external_id=external_id, conversation_key=conversation_key, payload=payload, now=now,
        parked_because=parked_because)).on_conflict_do_nothing(index_elements=["channel", "external_id"])
    result = await session.execute(stmt)
    return rows_affected(result) == 1


async def store_many(session: AsyncSession, rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """Insert the rows (from `row`) whose keys are not known, in one statement; the (channel, external_id) of
    the new ones. One round trip for a whole burst of webhooks (bots/pipeline/group_commit.py)."""
    stmt = (dialect_insert(session, InboxItem).values(rows)
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
            .returning(InboxItem.channel, InboxItem.external_id))
    return {(channel, external_id) for channel, external_id in (await session.execute(stmt)).all()}


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


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=2 ** max(1, min(attempts, 10)))


async def begin_attempt(session: AsyncSession, item_id: int, now: datetime) -> str:
    """Count an attempt before it is made, in its own committed transaction, so an event that kills the
    process (out of memory, a crash) still runs out of tries. GO: make the attempt; PARKED: it had no try
    left and is now parked; GONE: no longer pending (another worker did it). The item is also put back until
    the backoff has passed, which is where a killed attempt leaves it."""
    item = await session.get(InboxItem, item_id, with_for_update=True)
    if item is None or item.status != "pending":
        return GONE
    if item.attempts >= MAX_ATTEMPTS:
        item.status = PARKED
        item.error = (item.error or "the attempts did not finish (the process stopped)")[:500]
        return PARKED
    item.attempts += 1
    item.not_before = now + _backoff(item.attempts)
    return GO


async def record_failure(session: AsyncSession, item_id: int, error: str, now: datetime) -> None:
    """Back off and retry (the attempt was counted by begin_attempt); park the update after MAX_ATTEMPTS so
    it stays visible and is never retried again. `error` must already be scrubbed of citizen data."""
    item = await session.get(InboxItem, item_id)
    if item is None or item.status != "pending":
        return
    item.error = error[:500]
    if item.attempts >= MAX_ATTEMPTS:
        item.status = PARKED
    else:
        item.not_before = now + _backoff(item.attempts)


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(InboxItem.status, func.count()).group_by(InboxItem.status))
    return dict(rows.tuples().all())


async def parked_count(session: AsyncSession) -> int:
    """Deliveries and events set aside for a look (shown on the dashboard)."""
    stmt = select(func.count()).select_from(InboxItem).where(InboxItem.status.in_(PARKED_STATES))
    return (await session.execute(stmt)).scalar_one()


async def mark_done(session: AsyncSession, item: InboxItem, now: datetime) -> None:
    await session.execute(update(InboxItem).where(InboxItem.id == item.id)
                          .values(status="done", processed_at=now, error=None))


async def recent_count(session: AsyncSession, item: InboxItem, seconds: float) -> int:
    """How many updates this conversation sent in the `seconds` up to and including this one (flood check)."""
    since = item.received_at - timedelta(seconds=seconds)
    stmt = select(func.count()).select_from(InboxItem).where(
        InboxItem.conversation_key == item.conversation_key, InboxItem.channel != TIMERS,
        InboxItem.received_at > since, InboxItem.id <= item.id)
    return (await session.execute(stmt)).scalar_one()


async def id_of(session: AsyncSession, channel: str, external_id: str) -> int:
    return (await session.execute(select(InboxItem.id).where(InboxItem.channel == channel,
                                                             InboxItem.external_id == external_id))).scalar_one()

"""How every service queues what it says: joined where one message will do, only on the channels this process
has (crews' WhatsApp while it is off is skipped), and a group's messages paced as a group's."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from core.messages import Outbound
from workflows.effects import coalesce


def deliverable(deps, out: list[Outbound]) -> list[Outbound]:
    return coalesce([m for m in out if m.to.channel in deps.channels])


async def enqueue_all(deps, session: AsyncSession, out: list[Outbound], now: datetime) -> None:
    for message in out:
        await outbox.enqueue(session, message, now, group=deps.is_group(message.to))


async def queue(deps, session: AsyncSession, out: list[Outbound], now: datetime) -> None:
    await enqueue_all(deps, session, deliverable(deps, out), now)

"""Inbox, outbox and timers against real SQLite and PostgreSQL: de-duplication, order, leases, dead letters."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from core import inbox, outbox, timers
from core.db import utcnow
from core.messages import Address, Outbound, Priority
from core.models import InboxItem, OutboxItem


async def test_inbox_stores_an_update_once(sessions):
    now = utcnow()
    for expected in (True, False):
        async with sessions() as s, s.begin():
            assert await inbox.store(s, channel="telegram", external_id="42", conversation_key="telegram:1",
                                     payload={"update_id": 42}, now=now) is expected
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxItem)) == 1


async def test_inbox_hands_out_a_conversation_in_arrival_order_and_backs_off_failures(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        for i in (1, 2):
            await inbox.store(s, channel="telegram", external_id=str(i), conversation_key="telegram:1",
                              payload={"n": i}, now=now)
    async with sessions() as s:
        assert await inbox.pending_conversations(s, now, 10) == ["telegram:1"]
        first = await inbox.next_item(s, "telegram:1", now)
    assert first.payload == {"n": 1}
    async with sessions() as s, s.begin():
        await inbox.record_failure(s, first.id, "boom", now)
    async with sessions() as s:
        assert await inbox.next_item(s, "telegram:1", now) is None  # waits; the second must not overtake
        assert (await inbox.next_item(s, "telegram:1", now + timedelta(seconds=5))).id == first.id


def _msg(chat: str, text: str, priority: int = Priority.NORMAL) -> Outbound:
    return Outbound(to=Address("telegram", chat), text=text, priority=priority)


async def test_outbox_keeps_order_per_chat_and_puts_urgent_first(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        for m in (_msg("1", "a1"), _msg("1", "a2"), _msg("2", "b1"), _msg("3", "urgent", Priority.URGENT)):
            await outbox.enqueue(s, m, now)
    async with sessions() as s, s.begin():
        claimed = await outbox.claim(s, now, 10)
    assert [c.payload["text"] for c in claimed] == ["urgent", "a1", "b1"]
    async with sessions() as s, s.begin():
        assert await outbox.claim(s, now, 10) == []  # a2 waits behind a1, which is being sent
        await outbox.mark_sent(s, claimed[1].id, "100", now)
    async with sessions() as s, s.begin():
        assert [c.payload["text"] for c in await outbox.claim(s, now, 10)] == ["a2"]


async def test_an_expired_lease_comes_back_and_repeated_failures_go_to_dead_letter(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        await outbox.enqueue(s, _msg("1", "x"), now)
    async with sessions() as s, s.begin():
        [item] = await outbox.claim(s, now, 10)
    later = now + outbox.LEASE + timedelta(seconds=1)
    async with sessions() as s, s.begin():
        assert [i.id for i in await outbox.claim(s, later, 10)] == [item.id]  # the worker died mid-send
    for attempt in range(outbox.MAX_ATTEMPTS):
        async with sessions() as s, s.begin():
            status = await outbox.postpone(s, item.id, later, "timeout", count_attempt=True)
    assert status == "dead"
    async with sessions() as s:
        row = await s.get(OutboxItem, item.id)
        assert (row.status, row.attempts, row.last_error) == ("dead", outbox.MAX_ATTEMPTS, "timeout")


async def test_concurrent_claims_never_hand_out_the_same_message(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        for i in range(40):
            await outbox.enqueue(s, _msg(str(i), f"m{i}"), now)

    async def claimer():
        got = []
        while True:
            async with sessions() as s, s.begin():
                items = await outbox.claim(s, now, 3)
            if not items:
                return got
            got += [i.id for i in items]

    results = await asyncio.gather(*(claimer() for _ in range(4)))
    ids = [i for r in results for i in r]
    assert len(ids) == 40 and len(set(ids)) == 40


async def test_timers_fire_once_into_the_inbox(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        for touch in (2, 3):  # scheduling the same version again re-arms the one row
            await timers.schedule(s, kind="draft_reminder", key="telegram:1", version=0,
                                  due_at=now + timedelta(minutes=touch + 2), payload={"touch": touch})
    async with sessions() as s, s.begin():
        assert await timers.fire_due(s, now) == 0
    async with sessions() as s, s.begin():
        assert await timers.fire_due(s, now + timedelta(minutes=5)) == 1
    async with sessions() as s, s.begin():
        assert await timers.fire_due(s, now + timedelta(minutes=10)) == 0
    async with sessions() as s:
        [item] = (await s.execute(select(InboxItem))).scalars().all()
    assert (item.channel, item.conversation_key, item.payload["kind"]) == ("timer", "telegram:1", "draft_reminder")
    assert item.payload["payload"] == {"touch": 3}
    async with sessions() as s, s.begin():  # a fired timer can be armed again
        await timers.schedule(s, kind="draft_reminder", key="telegram:1", version=0,
                              due_at=now + timedelta(minutes=20), payload={"touch": 9})
    async with sessions() as s, s.begin():
        assert await timers.fire_due(s, now + timedelta(minutes=20)) == 1
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxItem)) == 2

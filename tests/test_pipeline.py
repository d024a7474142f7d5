"""Inbox, outbox and timers against real SQLite and PostgreSQL: de-duplication, order, leases, dead letters."""
from __future__ import annotations

import asyncio
from dataclasses import replace
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
    for _ in range(outbox.MAX_ATTEMPTS):
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


def _notice(chat: str, text: str, priority: int = Priority.NORMAL, merge: str = "new_reports") -> Outbound:
    return Outbound(to=Address("telegram", chat), text=text, priority=priority, merge=merge)


async def test_waiting_notices_of_one_kind_are_joined_into_one_message(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        first = await outbox.enqueue(s, _notice("2002", "SMP-1 baru"), now)
        joined = await outbox.enqueue(s, _notice("2002", "SMP-2 baru", Priority.URGENT), now)
        other_chat = await outbox.enqueue(s, _notice("2001", "SMP-2 baru"), now)
    assert joined.id == first.id and other_chat.id != first.id
    async with sessions() as s, s.begin():
        claimed = await outbox.claim(s, now, 10)
        assert {c.payload["text"] for c in claimed} == {"SMP-1 baru\n\nSMP-2 baru", "SMP-2 baru"}
        assert next(c for c in claimed if c.chat_id == "2002").priority == Priority.URGENT
    async with sessions() as s, s.begin():  # being sent: a new notice waits in a message of its own
        late = await outbox.enqueue(s, _notice("2002", "SMP-3 baru"), now)
        escalation = await outbox.enqueue(s, _notice("2002", "SMP-1 lewat batas", Priority.URGENT, merge=""), now)
        after = await outbox.enqueue(s, _notice("2002", "SMP-4 baru"), now)
        long = await outbox.enqueue(s, _notice("2002", "x" * outbox.MERGED_TEXT_LIMIT), now)
    assert len({first.id, late.id, escalation.id, after.id, long.id}) == 5  # nothing joins an escalation or overflows
    async with sessions() as s:
        texts = [r.payload["text"] for r in (await s.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars()]
    assert texts[-4:-1] == ["SMP-3 baru", "SMP-1 lewat batas", "SMP-4 baru"]


async def test_a_group_hands_out_one_message_at_a_time_the_most_urgent_first(sessions):
    """Several workers race for a group's free slot: only the most urgent due message of the group (new cards
    by priority, each card's edits in its own lane) can be claimed, and nothing else while it is in flight;
    answers to button presses pressed in the group never wait."""
    now = utcnow()
    async with sessions() as s, s.begin():
        for n in range(3):
            await outbox.enqueue(s, Outbound(to=Address("telegram", "-100"), text=f"edit {n}", edit_of=f"card:{n}",
                                             priority=Priority.NORMAL - 1), now, group=True)
        await outbox.enqueue(s, _msg("-100", "minor card"), now, group=True)
        await outbox.enqueue(s, _msg("-100", "urgent card", Priority.URGENT), now, group=True)
        await outbox.enqueue(s, Outbound(to=Address("telegram", "-100"), answer_callback="q1", text="ok",
                                         priority=Priority.CALLBACK), now, group=True)
        await outbox.enqueue(s, _msg("7", "private"), now)

    async def claim() -> list[str]:
        async with sessions() as s, s.begin():
            return [c.payload["text"] for c in await outbox.claim(s, now, 10)]
    first, second = await asyncio.gather(claim(), claim())  # two workers at once
    assert sorted(first + second) == ["ok", "private", "urgent card"]
    async with sessions() as s, s.begin():
        assert await outbox.claim(s, now, 10) == []  # the group's urgent card is in flight: the rest wait
        urgent = (await s.execute(select(OutboxItem).where(OutboxItem.payload["text"].as_string() == "urgent card")))
        await outbox.mark_sent(s, urgent.scalar_one().id, "1", now)
    assert await claim() == ["minor card"]


async def test_a_slow_send_keeps_its_lease_while_in_flight(sessions):
    from types import SimpleNamespace

    from bots.pipeline.sender import Sender
    from core.clock import SystemClock
    from core.coordination import LocalCoordinator

    class Slow:
        needs_window = False

        def limits(self, message):
            return []

        async def send(self, message, photo, target, *, window_open=True):
            await asyncio.sleep(outbox.LEASE.total_seconds() / 3 + 0.8)  # a photo on a bad network
            return "1"
    async with sessions() as s, s.begin():
        await outbox.enqueue(s, _msg("1", "photo"), utcnow())
    sender = Sender(SimpleNamespace(sessions=sessions, channels={"telegram": Slow()}, coord=LocalCoordinator(),
                                    clock=SystemClock()))
    claimed_at = utcnow()
    sending = asyncio.create_task(sender.run_once())
    await asyncio.sleep(outbox.LEASE.total_seconds() / 3 + 0.5)
    async with sessions() as s:
        row = (await s.execute(select(OutboxItem))).scalar_one()
    assert row.status == "sending" and row.lease_until > claimed_at + outbox.LEASE  # renewed while in flight
    assert await sending == 1
    async with sessions() as s:
        assert (await s.execute(select(OutboxItem.status))).scalar_one() == "sent"


async def test_in_a_group_an_urgent_card_does_not_queue_behind_a_minor_one_but_a_persons_chat_keeps_order(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        for m in (replace(_msg("-100", "minor card"), ref="card:1"), _msg("-100", "minor pin"),
                  replace(_msg("-100", "urgent card", Priority.URGENT), ref="card:2"),
                  _msg("7", "first"), _msg("7", "then urgent", Priority.URGENT)):
            await outbox.enqueue(s, m, now, group=m.to.id == "-100")
    async with sessions() as s, s.begin():
        claimed = [c.payload["text"] for c in await outbox.claim(s, now, 10)]
    assert claimed == ["urgent card", "first"]  # the minor card after the urgent one; "then urgent" after "first"
    async with sessions() as s, s.begin():
        assert await outbox.waiting_cards(s, "telegram", "-100")  # the minor card: a backlog
        await outbox.enqueue(s, _msg("-200", "a pin"), now, group=True)
        assert not await outbox.waiting_cards(s, "telegram", "-200")  # no card waiting there

"""A card's private copies (first eyes, an opened list line) follow the card's real changes, not its clock ticks,
and each copy waits in its own lane so an urgent one is not stuck behind others to the same person."""
from __future__ import annotations

from sqlalchemy import select

from core import outbox
from core.db import utcnow
from core.messages import Address, Outbound, Priority
from core.models import OutboxItem, Reporter
from core.repository import create_case

OPERATOR = Address("telegram", "1001")
GROUP = Address("telegram", "-1001000000001")


async def a_case(s) -> int:
    who = Reporter(channel="telegram", external_id="5001", name="Sari", language="id")
    s.add(who)
    await s.flush()
    case = await create_case(s, reporter=who, chat="telegram:5001", ticket="SMN-11-22-33", incident_type="fire",
                             urgent=True, language="id", latitude=-7.0, longitude=113.86, address_text=None,
                             description=None, photo_media_id=None, started_at=utcnow(), now=utcnow())
    return case.id


async def test_an_edit_reaches_every_copy_but_a_clock_tick_stays_in_the_group(sessions):
    now = utcnow()
    async with sessions() as s, s.begin():
        case_id = await a_case(s)
        ref = f"card:{case_id}"
        await outbox.enqueue(s, Outbound(to=GROUP, text="kartu", ref=ref, case_id=case_id), now, group=True)
        await outbox.enqueue(s, Outbound(to=OPERATOR, text="kartu", ref=outbox.copy_ref(ref, OPERATOR),
                                         case_id=case_id, priority=Priority.URGENT), now)
        await outbox.enqueue(s, Outbound(to=GROUP, text="⏱ Sisa 3 menit", edit_of=ref, case_id=case_id,
                                         priority=Priority.BACKGROUND), now, group=True)
    async with sessions() as s:
        edits = (await s.execute(select(OutboxItem.chat_id, OutboxItem.edit_of).where(
            OutboxItem.edit_of.is_not(None)))).all()
    assert edits == [(f"{GROUP.id}#{ref}", ref)]  # the tick: the group's card only

    async with sessions() as s, s.begin():
        await outbox.enqueue(s, Outbound(to=GROUP, text="✅ Diverifikasi", edit_of=ref, case_id=case_id,
                                         priority=Priority.NORMAL - 1), now, group=True)
    async with sessions() as s:
        edits = sorted((await s.execute(select(OutboxItem.chat_id, OutboxItem.edit_of).where(
            OutboxItem.edit_of.is_not(None), OutboxItem.status == "pending"))).all())
    copy = outbox.copy_ref(ref, OPERATOR)
    assert edits == sorted([(f"{GROUP.id}#{ref}", ref), (f"{OPERATOR.id}#{copy}", copy)])


async def test_each_copy_waits_in_its_own_lane():
    first = Outbound(to=OPERATOR, text="a", ref=outbox.copy_ref("card:1", OPERATOR))
    second = Outbound(to=OPERATOR, text="b", ref=outbox.copy_ref("card:2", OPERATOR), priority=Priority.URGENT)
    plain = Outbound(to=OPERATOR, text="Anda tercatat bertugas")
    assert len({outbox.lane(first), outbox.lane(second), outbox.lane(plain)}) == 3


async def test_first_eyes_skip_a_chat_whose_allowance_is_taken_and_keep_the_least_busy_one(sessions):
    from bots.services.surge import BUSY, _with_room
    now, other = utcnow(), Address("telegram", "1002")
    async with sessions() as s, s.begin():
        for n in range(BUSY):
            await outbox.enqueue(s, Outbound(to=OPERATOR, text=f"kartu {n}", ref=f"card:{n}@{OPERATOR}"), now)
    async with sessions() as s:
        assert await outbox.waiting_for(s, OPERATOR) == BUSY and await outbox.waiting_for(s, other) == 0
        assert await _with_room(s, [OPERATOR, other]) == [other]
    async with sessions() as s, s.begin():
        for n in range(BUSY + 1):
            await outbox.enqueue(s, Outbound(to=other, text=f"kartu {n}"), now)
    async with sessions() as s:
        assert await _with_room(s, [OPERATOR, other]) == [OPERATOR]  # every chat backed up: the least one

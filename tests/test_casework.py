"""Domain commands on real SQLite and PostgreSQL: the lifecycle rules behind the buttons."""
from __future__ import annotations

import pytest

from core import casework
from core.casework import NotAllowed, TaskState
from core.db import utcnow
from core.models import Media, Reporter
from core.repository import create_case


async def new_case(s, ticket="SMP-00-00-01"):
    reporter = Reporter(channel="telegram", external_id=ticket[-2:], name="Budi", language="id")
    s.add(reporter)
    await s.flush()
    now = utcnow()
    return await create_case(s, reporter=reporter, chat=f"telegram:{ticket[-2:]}", ticket=ticket, incident_type="fire",
                             urgent=True, language="id", latitude=-7.0, longitude=113.8, address_text=None,
                             description=None, photo_media_id=None, started_at=now, now=now)


async def test_a_crew_refusal_returns_the_case_to_the_operators(sessions):
    async with sessions() as s, s.begin():
        case = await new_case(s)
        [task] = await casework.verify(s, case, "telegram:1001", ["damkar"], utcnow())
        assert case.state == "dispatched"
        assert await casework.refuse(s, case, task, "telegram:3001", "busy", utcnow()) is True
        assert (case.state, task.state) == ("verified", TaskState.REFUSED)
        [again] = await casework.verify(s, case, "telegram:1001", ["psc119"], utcnow())
        assert case.state == "dispatched" and again.agency == "psc119"


async def test_finishing_needs_a_photo_and_resolves_then_closes(sessions):
    async with sessions() as s, s.begin():
        case = await new_case(s)
        [task] = await casework.verify(s, case, "telegram:1001", ["damkar"], utcnow())
        casework.accept(s, case, task, "telegram:3001", "Regu A", 10, utcnow())
        casework.start_finishing(s, case, task, "telegram:3001", utcnow())
        with pytest.raises(NotAllowed) as refused:
            await casework.finish(s, case, task, "telegram:3001", "", utcnow(), auto_close=True)
        assert refused.value.key == "crew.photo_needed"
        media = Media(sha256="a" * 64, mime="image/jpeg", size=1, width=1, height=1, original=b"x", clean=b"x")
        s.add(media)
        await s.flush()
        await casework.attach(s, case, task, media.id, "telegram:3001", utcnow())
        assert await casework.finish(s, case, task, "telegram:3001", "ok", utcnow(), auto_close=True) is True
        assert case.state == "closed"


async def _finished_by_damkar_while_psc_still_dispatched(s):
    """Two agencies on one case: the fire brigade finishes while the ambulance has not answered yet."""
    case = await new_case(s)
    damkar, psc = await casework.verify(s, case, "telegram:1001", ["damkar", "psc119"], utcnow())
    casework.accept(s, case, damkar, "telegram:3001", "Regu A", 10, utcnow())
    casework.start_finishing(s, case, damkar, "telegram:3001", utcnow())
    media = Media(sha256="b" * 64, mime="image/jpeg", size=1, width=1, height=1, original=b"x", clean=b"x")
    s.add(media)
    await s.flush()
    await casework.attach(s, case, damkar, media.id, "telegram:3001", utcnow())
    return case, damkar, psc


@pytest.mark.parametrize("order", ["finish_then_refuse", "refuse_then_finish"])
async def test_the_last_open_task_ending_resolves_the_case_in_either_order(sessions, order):
    """One crew finishes and the other agency refuses at the same moment: whichever is applied last, the
    case is resolved (and closed) — it must not wait forever with nobody left on it."""
    async with sessions() as s, s.begin():
        case, damkar, psc = await _finished_by_damkar_while_psc_still_dispatched(s)
        if order == "finish_then_refuse":
            assert await casework.finish(s, case, damkar, "telegram:3001", "ok", utcnow(), auto_close=True) is False
            assert case.state == "accepted"  # the ambulance might still come
            assert await casework.refuse(s, case, psc, "telegram:3101", "not_ours", utcnow()) is False
            assert await casework.resolve_if_done(s, case, "telegram:3101", utcnow(), auto_close=True) is True
        else:
            assert await casework.refuse(s, case, psc, "telegram:3101", "not_ours", utcnow()) is False
            assert await casework.finish(s, case, damkar, "telegram:3001", "ok", utcnow(), auto_close=True) is True
        assert case.state == "closed"


async def test_a_refusal_resolves_nothing_while_another_task_is_open_or_none_was_done(sessions):
    async with sessions() as s, s.begin():
        case, _damkar, psc = await _finished_by_damkar_while_psc_still_dispatched(s)
        assert await casework.refuse(s, case, psc, "telegram:3101", "busy", utcnow()) is False
        assert await casework.resolve_if_done(s, case, "telegram:3101", utcnow(), auto_close=True) is False
        assert case.state == "accepted"  # the fire brigade is still finishing


async def test_ratings_are_taken_once_and_only_when_closed(sessions):
    async with sessions() as s, s.begin():
        case = await new_case(s)
        with pytest.raises(NotAllowed):
            casework.rate(s, case, 5, "telegram:5001", utcnow())
        casework.close(s, case, "telegram:1001", utcnow())
        casework.rate(s, case, 4, "telegram:5001", utcnow())
        with pytest.raises(NotAllowed) as again:
            casework.rate(s, case, 1, "telegram:5001", utcnow())
        assert again.value.key == "rating.already" and case.rating == 4


async def test_only_the_owner_moves_a_task_and_a_duplicate_needs_an_open_target(sessions):
    async with sessions() as s, s.begin():
        case = await new_case(s)
        other = await new_case(s, "SMP-00-00-02")
        [task] = await casework.verify(s, case, "telegram:1001", ["damkar"], utcnow())
        casework.accept(s, case, task, "telegram:3001", "Regu A", 5, utcnow())
        with pytest.raises(NotAllowed) as refused:
            casework.arrive(s, case, task, "telegram:3002", utcnow())
        assert refused.value.params == {"name": "Regu A"}
        casework.close(s, other, "telegram:1001", utcnow())
        third = await new_case(s, "SMP-00-00-03")
        with pytest.raises(NotAllowed):
            await casework.mark_duplicate(s, third, other, "telegram:1001", utcnow())
        await casework.mark_duplicate(s, third, case, "telegram:1001", utcnow())
        assert [c.ticket for c in await casework.followers(s, case)] == ["SMP-00-00-01", "SMP-00-00-03"]

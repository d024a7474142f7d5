"""Same-incident detection and merging, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from core import casework
from core.db import utcnow
from core.models import Reporter
from core.repository import create_case
from core.same_incident import distance_m, probable_duplicates, reporter_history

BASE = (-7.0167, 113.8667)
METRE = 1 / 111_320  # degrees of latitude per metre


async def report(s, n: int, kind="fire", metres_north=0.0, minutes_ago=0, address=None, reporter=None):
    if reporter is None:
        reporter = Reporter(channel="telegram", external_id=str(8000 + n), name="Warga", language="id")
        s.add(reporter)
        await s.flush()
    at = utcnow() - timedelta(minutes=minutes_ago)
    lat = None if address else BASE[0] + metres_north * METRE
    return await create_case(s, reporter=reporter, chat=f"telegram:{8000 + n}", ticket=f"SMP-11-11-{n:02d}",
                             incident_type=kind, urgent=kind == "fire", language="id", latitude=lat,
                             longitude=None if address else BASE[1], address_text=address, description=None,
                             photo_media_id=None, started_at=at, now=at)


def test_distance_is_in_metres():
    assert abs(distance_m(*BASE, BASE[0] + 250 * METRE, BASE[1]) - 250) < 1


async def test_only_open_cases_of_the_same_type_near_in_place_and_time(sessions, config):
    async with sessions() as s, s.begin():
        near = await report(s, 1, metres_north=200, minutes_ago=20)
        await report(s, 2, metres_north=400, minutes_ago=5)              # too far (300 m by default)
        await report(s, 3, kind="flood", metres_north=10, minutes_ago=5)  # another type
        await report(s, 4, metres_north=10, minutes_ago=90)              # too long ago (60 min)
        closed = await report(s, 5, metres_north=5, minutes_ago=5)
        casework.close(s, closed, "telegram:1001", utcnow())
        typed = await report(s, 6, address="Jl. Trunojoyo No. 5, Sumenep", minutes_ago=3)
        new = await report(s, 7)
        found = await probable_duplicates(s, new, config)
        assert [(c.ticket, m) for c, m in found] == [(near.ticket, 200)]
        again = await report(s, 8, address="jl trunojoyo no 5 sumenep")
        assert [(c.ticket, m) for c, m in await probable_duplicates(s, again, config)] == [(typed.ticket, None)]


async def test_merging_moves_every_follower_and_counts_the_reports(sessions):
    async with sessions() as s, s.begin():
        first, second, third = [await report(s, n) for n in (1, 2, 3)]
        await casework.mark_duplicate(s, third, second, "telegram:1001", utcnow())  # 3 → 2
        await casework.mark_duplicate(s, second, first, "telegram:1001", utcnow())  # 2 (with 3) → 1
        assert [c.ticket for c in await casework.followers(s, first)] == [first.ticket, second.ticket, third.ticket]
        assert first.report_count == 3 and third.duplicate_of_id == first.id


async def test_the_card_shows_the_reporters_history(sessions):
    async with sessions() as s, s.begin():
        reporter = Reporter(channel="telegram", external_id="9000", name="Iseng", language="id")
        s.add(reporter)
        await s.flush()
        earlier = [await report(s, n, reporter=reporter, minutes_ago=100 - n) for n in (1, 2, 3)]
        for case in earlier[:2]:
            casework.reject(s, case, "telegram:1001", "hoax", utcnow())
        latest = await report(s, 4, reporter=reporter)
        assert await reporter_history(s, reporter.id, latest.id) == (3, 2)
        assert await reporter_history(s, reporter.id, earlier[0].id) == (0, 0)

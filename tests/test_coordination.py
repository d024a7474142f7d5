"""Locks and shared rate limits behave the same in-process and through Redis."""
from __future__ import annotations

import asyncio

import pytest

from bots.pipeline.redis_coordination import RedisCoordinator
from core.coordination import Limit, LocalCoordinator


@pytest.fixture(params=["local", "redis"])
async def coord(request, redis_url, unique):
    c = LocalCoordinator() if request.param == "local" else RedisCoordinator(redis_url, prefix=f"t{unique}")
    yield c
    await c.close()


async def test_a_lock_has_one_holder(coord):
    async with coord.lock("conv:1", 5) as first, coord.lock("conv:1", 5) as second:
        assert (first, second) == (True, False)
    async with coord.lock("conv:1", 5) as again:
        assert again


async def test_a_held_lock_outlives_its_ttl_and_a_dead_holder_frees_it_within_it(redis_url, unique):
    holder, other = RedisCoordinator(redis_url, prefix=f"t{unique}"), RedisCoordinator(redis_url, prefix=f"t{unique}")
    try:
        async with holder.lock("conv:1", 0.6) as got:
            await asyncio.sleep(1.5)  # longer than the ttl: renewed while held
            async with other.lock("conv:1", 0.6) as second:
                assert (got, second) == (True, False)
        await holder.redis.set(f"t{unique}:lock:conv:2", "dead-holder", px=600)  # a process killed while holding it
        async with other.lock("conv:2", 0.6) as taken:
            assert not taken
        await asyncio.sleep(0.7)
        async with other.lock("conv:2", 0.6) as taken:
            assert taken
    finally:
        await holder.close()
        await other.close()


async def test_rate_limit_allows_the_count_then_says_how_long_to_wait(coord):
    limits = [Limit("grp", 3, 0.5)]
    assert [await coord.take(limits) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = await coord.take(limits)
    assert 0 < wait <= 0.5
    await asyncio.sleep(wait + 0.02)
    assert await coord.take(limits) == 0.0


async def test_a_refused_take_consumes_nothing_in_any_limit(coord):
    wide, narrow = Limit("bot", 10, 1.0), Limit("chat", 1, 1.0)
    assert await coord.take([wide, narrow]) == 0.0
    assert await coord.take([wide, narrow]) > 0
    for _ in range(9):
        assert await coord.take([wide]) == 0.0  # the refused take did not use a slot of `bot`


async def test_wake_reaches_a_waiter(coord):
    waiter = asyncio.create_task(coord.wait("inbox", 5))
    await asyncio.sleep(0.2)
    started = asyncio.get_running_loop().time()
    await coord.wake("inbox")
    await waiter
    assert asyncio.get_running_loop().time() - started < 2


async def test_two_redis_clients_share_one_limit(redis_url, unique):
    a, b = RedisCoordinator(redis_url, prefix=unique), RedisCoordinator(redis_url, prefix=unique)
    try:
        lim = [Limit("group", 20, 60)]
        results = await asyncio.gather(*[(a if i % 2 else b).take(lim) for i in range(30)])
        assert sum(1 for r in results if r == 0.0) == 20
    finally:
        await a.close()
        await b.close()


async def test_a_burst_of_concurrent_takes_queues_for_a_connection_instead_of_failing(redis_url):
    """300 requests at once (a sign-in spray, a web-chat surge) must not look like "Redis is down": redis-py's
    default pool refused past 100 connections, and the sign-in limit then refused people who had tries left."""
    coord = RedisCoordinator(redis_url)
    try:
        waits = await asyncio.gather(*(coord.take([Limit(f"burst:{i}", 1, 60)], when_down=99.0) for i in range(300)))
    finally:
        await coord.close()
    assert waits == [0.0] * 300

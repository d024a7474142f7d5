"""Locks and shared rate limits behave the same in-process and through Redis."""
from __future__ import annotations

import asyncio
import shutil

import pytest
import redis.asyncio as aioredis

from bots.pipeline.redis_coordination import RedisCoordinator
from core.coordination import Limit, LocalCoordinator
from tests.harness import free_port


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


def in_any_window(times: list[float], window: float) -> int:
    """The most takes that fell within any `window` seconds."""
    return max((sum(1 for u in times if t <= u < t + window) for t in times), default=0)


async def forget_everything(coord: RedisCoordinator) -> None:
    """What a Redis restart without persistence (or a FLUSHDB) does to this coordinator's keys."""
    keys = [k async for k in coord.redis.scan_iter(f"{coord.prefix}:*")]
    if keys:
        await coord.redis.delete(*keys)


async def test_a_platform_limit_is_held_back_one_window_after_the_store_lost_its_windows(redis_url, unique):
    """bench/faults.py: after a Redis restart a group could be sent 20 more within the minute Telegram still
    counted, and got 429s. Now the first take after the loss waits out a whole window; our own abuse limits
    (sign-in tries) just start afresh."""
    coord = RedisCoordinator(redis_url, prefix=f"t{unique}")
    group, signin = Limit("tg:group:-1", 3, 1.5, platform=True), Limit("login:1.2.3.4", 3, 1.5)
    try:
        taken = []
        for _ in range(3):
            assert await coord.take([group]) == 0.0 and await coord.take([signin]) == 0.0
            taken.append(asyncio.get_running_loop().time())
        await forget_everything(coord)
        assert 1.3 < await coord.take([group]) <= 1.5  # the whole window again, not "3 free slots"
        assert await coord.take([signin]) == 0.0
        while len(taken) < 9:  # keep sending as the sender does; across the loss no window holds more than 3
            wait = await coord.take([group])
            if wait:
                await asyncio.sleep(wait)
            else:
                taken.append(asyncio.get_running_loop().time())
        assert in_any_window(taken, 1.45) <= 3  # (less a little: these are the test's clock, not Redis')
    finally:
        await coord.close()


async def test_a_process_that_starts_on_an_empty_store_is_not_held_back(redis_url, unique):
    """A fresh deployment (or the test's own FLUSHDB) is not a loss: only a process that saw the store before
    can tell it came back empty. Once one has, the hold applies to every process."""
    fresh = RedisCoordinator(redis_url, prefix=f"t{unique}")
    witness = RedisCoordinator(redis_url, prefix=f"t{unique}")
    group = Limit("tg:group:-2", 20, 62.0, platform=True)
    try:
        assert await witness.take([]) == 0.0  # a web process that took some other limit before the restart
        await forget_everything(witness)
        assert await fresh.take([group]) == 0.0  # a worker restarted at the same moment knows nothing yet
        assert await witness.take([Limit("tg:chat:7", 3, 3.3, platform=True)]) > 3.0  # the witness says: lost
        assert 60 < await fresh.take([group]) <= 62.0
    finally:
        await fresh.close()
        await witness.close()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server to start a private one")
async def test_after_a_real_redis_restart_a_group_gets_no_more_than_telegram_allows(tmp_path):
    """The bench's fault on a private redis-server (no persistence): 20 cards, restart, and the 21st waits."""
    port = free_port()
    start = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path)]

    async def up() -> asyncio.subprocess.Process:
        proc = await asyncio.create_subprocess_exec(*start, stdout=asyncio.subprocess.DEVNULL)
        await eventually_up(port)
        return proc
    server = await up()
    coord = RedisCoordinator(f"redis://127.0.0.1:{port}/0")
    limits = [Limit("tg:bot", 25, 1.0, platform=True), Limit("tg:group:-3", 20, 62.0, platform=True)]
    try:
        granted = 0
        while granted < 20:  # 25/s overall: a short wait now and then
            wait = await coord.take(limits)
            granted += wait == 0
            await asyncio.sleep(wait)
        server.terminate()  # SIGTERM: redis-server shuts down without saving (--save "")
        await server.wait()
        assert await coord.take(limits) == 1.0  # while it is down: send slowly, not over the limit
        server = await up()
        assert 55 < await coord.take(limits) <= 62.0
    finally:
        await coord.close()
        server.terminate()
        await server.wait()


async def eventually_up(port: int) -> None:
    client = aioredis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                if await client.ping():
                    return
            except aioredis.RedisError:
                await asyncio.sleep(0.05)
        raise AssertionError(f"redis-server on {port} did not start")
    finally:
        await client.aclose()

"""Coordination across processes through Redis; it only speeds things up, the database stays the truth."""
from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from core.coordination import Limit

POOL_SIZE = 64  # connections per process; many more concurrent requests queue for one

# Sliding-window logs over several keys at once, on Redis' clock so every process agrees. KEYS[1] is the store's
# epoch: a hash (id, born) made on first use, so a Redis that came back empty gets a new id. A process that saw
# another id before knows the windows were lost (`lost`): then each platform limit waits until one whole window
# has passed since the new epoch was born, because Telegram still counts what was sent just before the restart.
TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local n = #KEYS - 1
local known, token = ARGV[3 * n + 1], ARGV[3 * n + 2]
local epoch = redis.call('HMGET', KEYS[1], 'id', 'born', 'lost')
local id, born, lost = epoch[1], tonumber(epoch[2]), epoch[3]
if not id then
  id, born = token, now
  redis.call('HSET', KEYS[1], 'id', id, 'born', tostring(now))
end
if known ~= '' and known ~= id and not lost then
  lost = '1'
  redis.call('HSET', KEYS[1], 'lost', '1')
end
local wait = 0
for i = 1, n do
  local key, count, window = KEYS[i + 1], tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1])
  if lost and ARGV[3 * i] == '1' and now < born + window then
    wait = math.max(wait, born + window - now)
  end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= count then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + window - now)
  end
end
if wait > 0 then return {tostring(wait), id} end
for i = 1, n do
  local member = string.format('%.6f', now) .. ':' .. token
  redis.call('ZADD', KEYS[i + 1], now, member)
  redis.call('PEXPIRE', KEYS[i + 1], math.ceil(tonumber(ARGV[3 * i - 1]) * 1000) + 1000)
end
return {'0', id}
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class RedisCoordinator:
    """Locks with owner tokens, rate limits as Lua scripts, wake-ups over pub/sub with polling as the fallback."""

    def __init__(self, url: str, prefix: str = "siaga") -> None:
        # A burst past the pool's size waits up to 5 s for a free connection: redis-py's default pool refuses at
        # once (MaxConnectionsError at 100), which bench/abuse.py saw turn 200 sign-in tries into false refusals.
        pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=POOL_SIZE, timeout=5, socket_timeout=5,
                                                        socket_connect_timeout=5)
        self.redis = aioredis.Redis.from_pool(pool)
        self.prefix = prefix
        self._take = self.redis.register_script(TAKE)
        self._release = self.redis.register_script(RELEASE)
        self._renew = self.redis.register_script(RENEW)
        self._events: dict[str, asyncio.Event] = {}
        self._epoch = ""  # the store's epoch this process last saw (see TAKE); "" until its first take
        self._listener: asyncio.Task | None = None

    @asynccontextmanager
    async def lock(self, key: str, ttl: float) -> AsyncIterator[bool]:
        name, token = f"{self.prefix}:lock:{key}", secrets.token_hex(8)
        try:
            got = await self.redis.set(name, token, nx=True, px=int(ttl * 1000))
        except aioredis.RedisError:
            got = True  # Redis down: the database's version checks still keep state consistent
            token = ""
        keeper = asyncio.create_task(self._keep(name, token, ttl)) if got and token else None
        try:
            yield bool(got)
        finally:
            if keeper is not None:
                keeper.cancel()
            if got and token:
                try:
                    await self._release(keys=[name], args=[token])
                except aioredis.RedisError:
                    pass

    async def _keep(self, name: str, token: str, ttl: float) -> None:
        """Renew the lock every third of its life while the holder works, so the lifetime can be short: a
        holder killed mid-work frees its conversation within `ttl`, not after the longest piece of work."""
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await self._renew(keys=[name], args=[token, int(ttl * 1000)])
            except aioredis.RedisError:
                pass

    async def take(self, limits: list[Limit], *, when_down: float = 1.0) -> float:
        """Consume a slot in every limit or none; Redis down: `when_down` (sends wait a second rather than overrun a
        platform's limit; the public web chat passes 0, so citizens are not refused while Redis restarts)."""
        keys = [f"{self.prefix}:epoch", *(f"{self.prefix}:rate:{lim.key}" for lim in limits)]
        args: list = []
        for lim in limits:
            args += [lim.count, lim.window, int(lim.platform)]
        args += [self._epoch, secrets.token_hex(8)]
        try:
            wait, self._epoch = await self._take(keys=keys, args=args)
        except aioredis.RedisError:
            return when_down  # without shared counters, send slowly rather than over the limit
        return float(wait)

    async def wake(self, topic: str) -> None:
        try:
            await self.redis.publish(f"{self.prefix}:wake:{topic}", b"1")
        except aioredis.RedisError:
            pass

    async def wait(self, topic: str, timeout: float) -> None:
        self._ensure_listener()
        event = self._events.setdefault(topic, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        event.clear()

    def _ensure_listener(self) -> None:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        """Turn published wake-ups into local events; reconnect quietly when Redis restarts."""
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.psubscribe(f"{self.prefix}:wake:*")
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        topic = message["channel"].decode().rsplit(":", 1)[-1]
                        self._events.setdefault(topic, asyncio.Event()).set()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis away or a garbled message: listen again in a second
                await asyncio.sleep(1)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except aioredis.RedisError:
            return False

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - closing: how the listener ended is moot
                pass
        await self.redis.aclose()

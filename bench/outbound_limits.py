"""Outbound backlog against Telegram's limits: one busy group and many private chats, with injected 429s.

    .venv/bin/python bench/outbound_limits.py [--group 500] [--private 2000] [--workers 2] [--faults 20]

Production shape: PostgreSQL (database `siaga_bench`) and Redis (database 14), `--workers` worker
instances sharing the limits, the fake Bot API enforcing Telegram's limits (30/s overall, 20/min per group,
about 1/s per private chat) and answering 429 to any send that breaks them. The messages are put in the
outbox at once, as after a burst of reports; the script waits until every one has arrived and prints the
achieved rates, the busiest 60 s of the group, the limit violations the fake saw, lost and duplicate
messages, and how the injected 429s were honoured.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from core import outbox  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import Base, make_engine, make_sessionmaker, utcnow  # noqa: E402
from core.messages import Address, Outbound, Priority  # noqa: E402
from core.settings import load_settings  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.harness import SECRET_KEY, run_workers  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# SIAGA_BENCH_DB / SIAGA_BENCH_REDIS: another database, for two benches on one machine at once
PG_DB = os.environ.get("SIAGA_BENCH_DB", "siaga_bench")
REDIS = os.environ.get("SIAGA_BENCH_REDIS", "redis://127.0.0.1:6379/14")
FIRST_USER = 700_000


async def fresh_database(name: str = PG_DB, redis_url: str | None = REDIS) -> str:
    """An empty schema in PostgreSQL database `name` and an empty Redis database (None: no Redis): one bench's own."""
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    if redis_url is not None:
        client = aioredis.from_url(redis_url)
        await client.flushdb()
        await client.aclose()
    return url


async def fresh_sqlite(path: Path) -> str:
    """An empty schema in a new SQLite file at `path` (the embedded shape's benches)."""
    url = f"sqlite+aiosqlite:///{path}"
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    return url


def busiest_minute(times: list[float]) -> int:
    times, best, start = sorted(times), 0, 0
    for end, at in enumerate(times):
        while times[start] < at - 60.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run(group_n: int, private_n: int, workers: int, faults: int) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    ops = config.operators.telegram_chat_id
    url = await fresh_database()
    async with FakeTelegram() as fake:
        fake.group(ops, "Operator 112")
        for n in range(private_n):
            fake.user(FIRST_USER + n, f"Warga {n}")
            fake.start_private(FIRST_USER + n)
        settings = load_settings(database_url=url, redis_url=REDIS, telegram_bot_token=fake.token,
                                 telegram_api_base_url=fake.base_url, siaga_secret_key=SECRET_KEY)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        async with sessions() as s, s.begin():
            now = utcnow()
            for n in range(group_n):
                await outbox.enqueue(s, Outbound(to=Address("telegram", str(ops)), text=f"kartu {n}",
                                                 priority=Priority.URGENT), now, group=True)
            for n in range(private_n):
                await outbox.enqueue(s, Outbound(to=Address("telegram", str(FIRST_USER + n)), text=f"kabar {n}"), now)
        await engine.dispose()
        fake.fail_next("sendMessage", retry_after=3, count=faults // 2, chat_id=ops)
        fake.fail_next("sendMessage", retry_after=2, count=faults - faults // 2)
        arrivals: dict[str, float] = {}
        began = time.monotonic()
        async with run_workers(settings, config, None, workers):
            while True:
                now_t = time.monotonic() - began
                for chat in [ops, *range(FIRST_USER, FIRST_USER + private_n)]:
                    for m in fake.sent(chat):
                        arrivals.setdefault(f"{chat}:{m['message_id']}", now_t)
                group_done = len(fake.sent(ops)) >= group_n
                private_done = sum(len(fake.sent(FIRST_USER + n)) for n in range(private_n)) >= private_n
                if group_done and private_done:
                    break
                if now_t > group_n * 3.2 + 600:
                    print("gave up waiting")
                    break
                await asyncio.sleep(0.5)
        group_times = [t for k, t in arrivals.items() if k.startswith(f"{ops}:")]
        private_times = [t for k, t in arrivals.items() if not k.startswith(f"{ops}:")]
        group_texts = Counter(m["text"] for m in fake.sent(ops))
        private_texts = Counter(m["text"] for n in range(private_n) for m in fake.sent(FIRST_USER + n))
    print(f"{workers} workers, {group_n} messages to one group and {private_n} to distinct private chats, "
          f"{faults} injected 429s")
    if group_times:
        span = max(group_times) - min(group_times) or 1
        print(f"group: {len(group_times)} arrived in {max(group_times):.0f} s; achieved "
              f"{60 * (len(group_times) - 1) / span:.1f}/min (limit 20/min); busiest 60 s: "
              f"{busiest_minute(group_times)} messages")
    if private_times:
        span = max(private_times) - min(private_times) or 1
        print(f"private chats: {len(private_times)} arrived in {max(private_times):.0f} s; achieved "
              f"{len(private_times) / span:.1f}/s (limit 30/s overall, sampled every 0.5 s)")
    print(f"limit violations seen by the fake: {len(fake.limit_violations)}")
    kinds = Counter(v.split(":")[0] + ": " + v.split(";")[0].split(": ", 1)[-1] for v in fake.limit_violations)
    for line in kinds.most_common(5):
        print("   ", line)
    print(f"lost: group {group_n - len(group_texts)}, private {private_n - len(private_texts)}; duplicates: group "
          f"{sum(group_texts.values()) - len(group_texts)}, private {sum(private_texts.values()) - len(private_texts)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", type=int, default=500)
    parser.add_argument("--private", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--faults", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.group, args.private, args.workers, args.faults))


if __name__ == "__main__":
    main()

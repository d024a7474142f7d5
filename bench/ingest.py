"""Ingestion on the embedded shape: how fast one `siaga web` process (its worker inside) acknowledges a flood.

    .venv/bin/python bench/ingest.py [--rate 200] [--seconds 30] [--backend sqlite|postgres] [--seed 112]

One `siaga web` OS process with no REDIS_URL — the embedded default `make run` starts: the worker runs inside
it — on SQLite (a file under bench/runs/ingest/) or with `--backend postgres` on PostgreSQL (`siaga_ingest`,
or $SIAGA_BENCH_DB), behind the fake Bot API (40 connections, Telegram's limits enforced). The fake delivers
`--rate` updates a second for `--seconds`, a mix like a surge's: citizens' first messages, and each citizen's
next step as soon as the bot's answer has arrived (the type button, skip the photo, the pin, skip the
description, send) — the bot's answers leave at Telegram's pace, so most updates are new citizens. Printed:
the updates delivered and the achieved rate, the mix, webhook acknowledgement p50/p99/max (the fake's POST,
as Telegram would time it), each update's stored → processed time p50/p99, how long after the first delivery
every update was processed, and the 5xx answers. Figures only, nothing asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.citizens import pct, text_of, time_acks  # noqa: E402
from bench.cluster import Embedded  # noqa: E402
from bench.load import RUNS, register_people  # noqa: E402
from bench.outbound_limits import fresh_database  # noqa: E402
from core.config import load_config  # noqa: E402
from core.db import Base, make_engine  # noqa: E402
from tests.e2e_support import buttons  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

FIRST = 600_000
KINDS = ["fire", "medical", "crime", "flood", "water_outage"]


def empty_dir(run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    for old in run_dir.glob("siaga.db*"):
        old.unlink()


async def fresh_store(backend: str, run_dir: Path) -> str:
    """An empty schema: a new SQLite file, or the bench's own PostgreSQL database."""
    if backend == "sqlite":
        empty_dir(run_dir)
        url = f"sqlite+aiosqlite:///{run_dir / 'siaga.db'}"
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        await engine.dispose()
        return url
    return await fresh_database(os.environ.get("SIAGA_BENCH_DB", "siaga_ingest"), None)


async def inbox_figures(url: str) -> tuple[int, list[float]]:
    """(rows still pending, stored → processed seconds of the done ones), read without taking a write lock."""
    pending = "SELECT count(*) FROM inbox WHERE status = 'pending' AND channel = 'telegram'"  # not the timers it sets
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]

        def read() -> tuple[int, list[float]]:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
                left = db.execute(pending).fetchone()[0]
                spans = db.execute("SELECT (julianday(processed_at) - julianday(received_at)) * 86400 FROM inbox WHERE "
                                   "status = 'done' AND channel = 'telegram' AND processed_at IS NOT NULL").fetchall()
            return left, [s for (s,) in spans]
        return await asyncio.to_thread(read)
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        left = await conn.fetchval(pending)
        spans = await conn.fetch("SELECT extract(epoch FROM processed_at - received_at) FROM inbox "
                                 "WHERE status = 'done' AND channel = 'telegram' AND processed_at IS NOT NULL")
        return left, [float(s[0]) for s in spans]
    finally:
        await conn.close()


class Citizens:
    """Who does what next: a citizen answers the bot's latest message with the next step of a report."""

    def __init__(self, fake: FakeTelegram, seed: int) -> None:
        self.fake, self.rng = fake, random.Random(seed)
        self.ready: list[tuple[int, Callable]] = []
        self.next_uid = FIRST
        self.mix: Counter[str] = Counter()
        original = fake._send

        def send(p, method, content, *, counted=True):
            message = original(p, method, content, counted=counted)
            if FIRST <= message["chat"]["id"] < self.next_uid:
                self.answered(message)
            return message
        fake._send = send

    def answered(self, message: dict) -> None:
        """Queue the citizen's next step for the bot's message, if it asks for one."""
        uid, data, text = message["chat"]["id"], buttons(message), text_of(message)
        kind = KINDS[uid % len(KINDS)]
        stored = self.fake._messages[(uid, message["message_id"])]
        if f"type:{kind}" in data:
            self.ready.append((uid, lambda: self.press(uid, stored, f"type:{kind}")))
        elif "confirm:send" in data:
            self.ready.append((uid, lambda: self.press(uid, stored, "confirm:send")))
        elif "skip" in data:
            self.ready.append((uid, lambda: self.press(uid, stored, "skip")))
        elif "Di mana lokasinya" in text:
            spot = (-6.9 - (uid % 50) * 0.004, 113.6 + (uid - FIRST) // 50 % 60 * 0.004)
            self.ready.append((uid, lambda: self.step("location", self.fake.send_location(uid, *spot))))

    def press(self, uid: int, message: dict, data: str):
        return self.step("press", self.fake.press_button(uid, message, data))

    def step(self, kind: str, delivery):
        self.mix[kind] += 1
        return delivery

    def next(self):
        """A waiting citizen's step, else a new citizen's first message."""
        if self.ready:
            _, act = self.ready.pop(0)
            return act()
        uid, self.next_uid = self.next_uid, self.next_uid + 1
        self.fake.user(uid, f"Warga {uid - FIRST}")
        self.fake.start_private(uid)
        return self.step("first message", self.fake.send_text(uid, self.rng.choice(
            ["tolong ada kebakaran", "banjir di desa kami", "ada kecelakaan", "tolong cepat"])))


async def run(rate: float, seconds: float, backend: str, seed: int) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    run_dir = RUNS / "ingest"
    url = await fresh_store(backend, run_dir)
    acks: list[float] = []
    answers: Counter[int] = Counter()
    async with FakeTelegram(connections=40, webhook_max_attempts=50, webhook_retry_delay=0.5) as fake:
        time_acks(fake, acks, answers)
        register_people(fake, config, 0)
        citizens = Citizens(fake, seed)
        async with Embedded(fake, url, run_dir):
            deliveries: list[asyncio.Task] = []
            began = time.monotonic()
            n = 0
            while (due := began + n / rate) < began + seconds:
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                deliveries.append(asyncio.create_task(citizens.next()))
                n += 1
            fed = time.monotonic() - began
            await asyncio.gather(*deliveries)
            delivered = time.monotonic() - began
            print(f"embedded shape: one `siaga web` process and its worker child, {backend}, no Redis; "
                  f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} when all were delivered")
            print(f"updates: {n} fed in {fed:.1f} s = {n / fed:.1f}/s (asked {rate:g}/s), all delivered after "
                  f"{delivered:.1f} s; mix {dict(citizens.mix)}; answers {dict(answers)}")
            print(f"webhook acknowledgement: p50 {pct(acks, 50) * 1000:.0f} ms, p99 {pct(acks, 99) * 1000:.0f} ms, "
                  f"max {max(acks) * 1000:.0f} ms", flush=True)
            while (await inbox_figures(url))[0] > 0:  # noqa: ASYNC110 - another process's database
                await asyncio.sleep(0.5)
            processed = time.monotonic() - began
            _, spans = await inbox_figures(url)
    print(f"stored → processed: p50 {pct(spans, 50):.1f} s, p99 {pct(spans, 99):.1f} s; every update processed "
          f"{processed:.1f} s after the first delivery ({processed - fed:.1f} s after the last was fed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200, help="updates a second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=112)
    args = parser.parse_args()
    asyncio.run(run(args.rate, args.seconds, args.backend, args.seed))


if __name__ == "__main__":
    main()

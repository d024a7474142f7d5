"""Crashes during a surge: kill -9 of web and worker processes, Redis and PostgreSQL restarts.

    .venv/bin/python bench/faults.py [--citizens 400] [--arrivals 300] [--faults 12] [--seed 7] [--kinds web,worker,…]
                                     [--redis-port 6391]

Two `siaga web` and two `siaga worker` OS processes (bench/cluster.py) on PostgreSQL (`siaga_faults`, or
$SIAGA_BENCH_DB) and the bench's own `redis-server` on `--redis-port` (started, restarted and stopped here,
never the machine's Redis on 6379), behind the fake Bot API (40 connections, round-robin over the web
instances, retrying undelivered updates as Telegram does for 24 h). Citizens arrive over `--arrivals` seconds
and walk their report; an operator verifies every card as it shows. Meanwhile, at random moments, one fault at a time:
kill -9 of a web or a worker (a supervisor starts it again after 1-3 s, as systemd or a Procfile manager
would), a Redis restart (Redis here keeps nothing on disk: every lock, limit window and wake-up is lost), a
PostgreSQL crash and restart (`pg_ctlcluster … stop -m immediate`, then start). Prints acknowledged updates
lost (must be 0), verified cases whose task never reached their agency (must be 0), messages sent twice
(at most one per crash), limit violations, and per fault the time until an update is acknowledged and a
message sent again, and the sends answered 429 by the limit they broke and the kind of fault before them.
The `postgres` kind restarts the machine's PostgreSQL: it is not drawn unless named in `--kinds`, and then
nothing else may use that PostgreSQL meanwhile.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from bench.citizens import (  # noqa: E402
    FIRST_CITIZEN,
    Marks,
    citizen,
    crews_watch,
    duplicates,
    operator,
    pct,
    text_of,
)
from bench.cluster import Cluster  # noqa: E402
from bench.load import RUNS, register_people, wait_until  # noqa: E402
from bench.outbound_limits import fresh_database  # noqa: E402
from core.config import load_config  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.harness import SECRET  # noqa: E402
from tests.session_log import find_leaks  # noqa: E402

DATABASE = os.environ.get("SIAGA_BENCH_DB", "siaga_faults")
PG_VERSION = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True, check=True).stdout.split()[0]


async def sh(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    await proc.wait()


class OwnRedis:
    """The bench's own redis-server, keeping nothing on disk (`--save ""`, no AOF) like the worst production case."""

    def __init__(self, port: int) -> None:
        if port == 6379:
            raise SystemExit("--redis-port 6379 is the machine's shared Redis: pick another port")
        self.port, self.dir = port, tempfile.mkdtemp(prefix="siaga-faults-redis-")
        self.proc: asyncio.subprocess.Process | None = None
        self.url = f"redis://127.0.0.1:{port}/0"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", self.dir, "--logfile", f"{self.dir}/redis.log",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        client = aioredis.from_url(self.url)
        try:
            for _ in range(100):
                try:
                    if await client.ping():
                        return
                except aioredis.RedisError:
                    await asyncio.sleep(0.05)
        finally:
            await client.aclose()
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            await sh("redis-cli", "-p", str(self.port), "shutdown", "nosave")
            await self.proc.wait()

    async def restart(self) -> None:
        """Every lock, limit window and wake-up is lost, as when a Redis without persistence restarts."""
        await self.stop()
        await asyncio.sleep(1)
        await self.start()


async def restart_postgres() -> None:
    await sh("pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "stop", "-m", "immediate")
    await asyncio.sleep(1)
    await sh("pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "start")


class Faults:
    """Injects one fault at a time and keeps the processes up like a supervisor."""

    def __init__(self, cluster: Cluster, rng: random.Random, kinds: list[str], redis: OwnRedis) -> None:
        self.cluster, self.rng, self.kinds, self.redis = cluster, rng, kinds, redis
        self.log: list[tuple[str, float]] = []
        self.exits = 0
        self.down: set[str] = set()

    async def supervise(self, stop: asyncio.Event) -> None:
        """Start again any process that died on its own (counted), as `restart: always` does."""
        while not stop.is_set():
            for proc in self.cluster.procs:
                if proc.name not in self.down and not proc.alive:
                    self.exits += 1
                    self.cluster.spawn(proc)
            await asyncio.sleep(0.5)

    async def one(self) -> None:
        kind = self.rng.choice(self.kinds)
        at = time.monotonic()
        if kind in ("web", "worker"):
            proc = self.rng.choice([p for p in self.cluster.procs if p.kind == kind])
            self.down.add(proc.name)
            self.cluster.kill(proc)
            self.log.append((f"kill -9 {proc.name}", at))
            await asyncio.sleep(self.rng.uniform(1, 3))
            self.cluster.spawn(proc)
            self.down.discard(proc.name)
        elif kind == "redis":
            self.log.append(("Redis restart", at))
            await self.redis.restart()
        else:
            self.log.append(("PostgreSQL crash + restart", at))
            await restart_postgres()

    async def run(self, count: int, window: float) -> None:
        """`count` faults spread over `window` seconds."""
        for _ in range(count):
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * window / count)
            await self.one()


async def skips_phone(fake, uid: int) -> None:
    """Answers the optional call-back number question with "Lewati" (the shared walk waits for buttons only)."""
    answered = 0
    while True:
        sent = fake.sent(uid)
        if sent and sent[-1]["message_id"] > answered and "Nomor HP" in text_of(sent[-1]):
            answered = sent[-1]["message_id"]
            await fake.send_text(uid, "Lewati")
        await asyncio.sleep(0.25)


async def reporting(fake, uid: int, n: int, marks: Marks) -> str | None:
    skipper = asyncio.create_task(skips_phone(fake, uid))
    try:
        return await citizen(fake, uid, n, marks, timeout=1200)
    finally:
        skipper.cancel()


def recovery(at: float, acks: list[float], sends: list[float]) -> float:
    """Seconds from the fault until an update is acknowledged and a message is sent again (the later of the two)."""
    ack = next((t for t in acks if t > at), float("nan"))
    send = next((t for t in sends if t > at), float("nan"))
    return max(ack, send) - at


async def lost_updates(url: str, acked: set[str]) -> tuple[int, Counter]:
    """Acknowledged updates missing from the inbox, and the inbox by status."""
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch("SELECT external_id FROM inbox WHERE channel = 'telegram'")
        stored = {r["external_id"] for r in rows}
        status = Counter(dict(await conn.fetch("SELECT status, count(*) FROM inbox GROUP BY status")))
        return len(acked - stored), status
    finally:
        await conn.close()


async def never_dispatched(url: str, fake, config) -> tuple[int, int]:
    """Verified cases, and those whose every agency group still lacks the task message."""
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = await conn.fetch("SELECT c.ticket, t.agency FROM cases c JOIN tasks t ON t.case_id = c.id "
                                "WHERE c.verified_at IS NOT NULL AND t.support_of_id IS NULL")
        verified = await conn.fetchval("SELECT count(*) FROM cases WHERE verified_at IS NOT NULL")
    finally:
        await conn.close()
    texts = {a.code: " ".join(m.get("text") or m.get("caption") or "" for m in fake.sent(a.telegram_chat_id))
             for a in config.agencies}
    missing = {r["ticket"] for r in rows if r["ticket"] not in texts[r["agency"]]}
    return verified, len(missing)


def broken_limit(violation: str) -> str:
    """The fake's reason, short: which of Telegram's limits a refused send broke."""
    if "overall" in violation:
        return "bot 30/s"
    return "group 20/min" if "group" in violation else "private 1/s"


def fault_kind(name: str) -> str:
    """"kill -9 worker1" → "kill -9 worker"; the others as they are."""
    return name.rstrip("0123456789") if name.startswith("kill") else name


async def run(citizens: int, arrivals: float, count: int, seed: int, kinds: list[str], redis_port: int) -> None:
    redis = OwnRedis(redis_port)
    await redis.start()
    try:
        await faulty_run(citizens, arrivals, count, seed, kinds, redis)
    finally:
        await redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)


async def faulty_run(citizens: int, arrivals: float, count: int, seed: int, kinds: list[str], redis: OwnRedis) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    ops, crews = config.operators.telegram_chat_id, [a.telegram_chat_id for a in config.agencies]
    url = await fresh_database(DATABASE, redis.url)
    rng = random.Random(seed)
    acks: list[float] = []
    acked: set[str] = set()
    async with FakeTelegram(connections=40, webhook_max_attempts=100_000, webhook_retry_delay=0.5) as fake:
        original = fake._post_to_webhook

        async def timed(update):
            status = await original(update)
            if 200 <= status <= 299:
                acks.append(time.monotonic())
                acked.add(str(update["update_id"]))
            return status
        fake._post_to_webhook = timed
        refusals: list[tuple[float, str]] = []  # (when, which limit) of every send the fake answered 429
        take_slots = fake._take_send_slots

        def counted(chat, method, n):
            before = len(fake.limit_violations)
            try:
                take_slots(chat, method, n)
            finally:
                if len(fake.limit_violations) > before:
                    refusals.append((fake.clock(), broken_limit(fake.limit_violations[-1])))
        fake._take_send_slots = counted
        register_people(fake, config, citizens)
        marks, stop = Marks(), asyncio.Event()
        async with Cluster(fake, url, redis.url, RUNS / "faults", webs=2, workers=2) as cluster:
            faults = Faults(cluster, rng, kinds, redis)
            helpers = [asyncio.create_task(operator(fake, ops, marks, stop)),
                       asyncio.create_task(crews_watch(fake, crews, marks, stop)),
                       asyncio.create_task(faults.supervise(stop))]

            async def arrive(n: int):
                await asyncio.sleep(rng.uniform(0, arrivals))
                return await reporting(fake, FIRST_CITIZEN + n, n, marks)
            began = time.monotonic()
            injector = asyncio.create_task(faults.run(count, arrivals))
            tickets = [t for t in await asyncio.gather(*(arrive(n) for n in range(citizens))) if t]
            await injector
            walked = time.monotonic() - began
            # Cards keep arriving at the group's 20 a minute; give the tasks of what was verified time to land.
            await asyncio.sleep(90)
            await wait_until(lambda: all(t in marks.task for t in marks.verified), 600)
            stop.set()
            await asyncio.gather(*helpers)
            lost, inbox = await lost_updates(url, acked)
            verified, missing = await never_dispatched(url, fake, config)
            lines = cluster.log_lines()
        sends = sorted(c.at for c in fake.calls if c.method.startswith("send") and 200 <= c.status <= 299)
        dups = duplicates(fake, [ops, *crews, *range(FIRST_CITIZEN, FIRST_CITIZEN + citizens)])
        violations = Counter(v.split(" to ")[0] for v in fake.limit_violations)
        secrets = [fake.token, fake.token.split(":")[1], SECRET]
    crashes = sum(1 for name, _ in faults.log if name.startswith(("kill", "PostgreSQL")))
    print(f"{citizens} citizens over {arrivals:.0f} s, 2 web + 2 worker processes, {len(faults.log)} faults")
    print(f"updates acknowledged: {len(acked)} in {walked:.0f} s ({len(acked) / walked:.1f}/s); "
          f"acknowledged but lost: {lost}; inbox {dict(inbox)}")
    print(f"tickets: {len(tickets)} of {citizens}, stuck: {len(marks.failed)} {marks.failed[:3]}")
    print(f"walk p50 {pct(list(marks.walked.values()), 50):.1f} s, p99 {pct(list(marks.walked.values()), 99):.1f} s")
    print(f"verified cases: {verified}; task never reached the agency group: {missing}")
    print(f"messages sent twice: {dups} (crashes of a process or PostgreSQL: {crashes}); "
          f"processes that exited on their own: {faults.exits}")
    print(f"limit violations seen by the fake: {sum(violations.values())} {dict(violations)}")
    ends = [at for _, at in faults.log[1:]] + [float("inf")]
    before = Counter(why for t, why in refusals if not faults.log or t < faults.log[0][1])
    print(f"  before the first fault: {sum(before.values())} sends answered 429 {dict(before)}")
    by_kind: dict[str, Counter] = {}
    for (name, at), end in zip(faults.log, ends, strict=True):
        after = Counter(why for t, why in refusals if at <= t < end)
        by_kind.setdefault(fault_kind(name), Counter()).update(after)
        print(f"  {at - began:6.1f} s  {name:28s} recovered in {recovery(at, acks, sends):5.1f} s; "
              f"429s until the next fault: {sum(after.values())} {dict(after)}")
    for kind, refused in by_kind.items():
        times = sum(1 for name, _ in faults.log if fault_kind(name) == kind)
        print(f"  429s after {kind} ({times}×): {sum(refused.values())} {dict(refused)}")
    # A group's window is a minute: what a Redis restart lets through may land after the next fault.
    restarts = [at for name, at in faults.log if name == "Redis restart"]
    near = sum(1 for t, _ in refusals if any(0 <= t - at < 62 for at in restarts))
    print(f"  429s within 62 s of a Redis restart: {near}; others: {len(refusals) - near}")
    print(f"log lines: {len(lines)}, with a phone number, token or file URL: {len(find_leaks(lines, secrets))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=400)
    parser.add_argument("--arrivals", type=float, default=300)
    parser.add_argument("--faults", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kinds", default="web,web,worker,worker,redis",
                        help="faults to draw from (repeat one to make it likelier); `postgres` restarts the "
                             "machine's PostgreSQL, so it is only drawn when named")
    parser.add_argument("--redis-port", type=int, default=6391, help="port of the bench's own redis-server")
    args = parser.parse_args()
    asyncio.run(run(args.citizens, args.arrivals, args.faults, args.seed, args.kinds.split(","), args.redis_port))


if __name__ == "__main__":
    main()

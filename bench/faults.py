"""Crashes during a surge: kill -9 of web and worker processes, Redis and PostgreSQL restarts.

    .venv/bin/python bench/faults.py [--citizens 400] [--arrivals 300] [--faults 12] [--seed 7] [--kinds web,worker,…]

Two `siaga web` and two `siaga worker` OS processes (bench/cluster.py) on PostgreSQL (`siaga_faults`) and
Redis (db 11), behind the fake Bot API (40 connections, round-robin over the web instances, retrying
undelivered updates as Telegram does for 24 h). Citizens arrive over `--arrivals` seconds and walk their
report; an operator verifies every card as it shows. Meanwhile, at random moments, one fault at a time:
kill -9 of a web or a worker (a supervisor starts it again after 1-3 s, as systemd or a Procfile manager
would), a Redis restart (Redis here keeps nothing on disk: every lock, limit window and wake-up is lost), a
PostgreSQL crash and restart (`pg_ctlcluster … stop -m immediate`, then start). Prints acknowledged updates
lost (must be 0), verified cases whose task never reached their agency (must be 0), messages sent twice
(at most one per crash), limit violations, and per fault the time until an update is acknowledged and a
message sent again. It restarts the machine's Redis and PostgreSQL: run nothing else meanwhile.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.citizens import FIRST_CITIZEN, Marks, citizen, crews_watch, duplicates, operator, pct  # noqa: E402
from bench.cluster import Cluster  # noqa: E402
from bench.load import RUNS, register_people, wait_until  # noqa: E402
from bench.outbound_limits import fresh_database  # noqa: E402
from core.config import load_config  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.harness import SECRET  # noqa: E402
from tests.session_log import find_leaks  # noqa: E402

DATABASE, REDIS = "siaga_faults", "redis://127.0.0.1:6379/11"
PG_VERSION = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True, check=True).stdout.split()[0]
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


async def sh(*args: str) -> None:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.DEVNULL,
                                                stderr=asyncio.subprocess.DEVNULL)
    await proc.wait()


async def restart_redis() -> None:
    await sh("redis-cli", "-p", "6379", "shutdown", "nosave")
    await asyncio.sleep(1)
    await sh(*REDIS_START)


async def restart_postgres() -> None:
    await sh("pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "stop", "-m", "immediate")
    await asyncio.sleep(1)
    await sh("pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, "main", "start")


class Faults:
    """Injects one fault at a time and keeps the processes up like a supervisor."""

    def __init__(self, cluster: Cluster, rng: random.Random, kinds: list[str]) -> None:
        self.cluster, self.rng, self.kinds = cluster, rng, kinds
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
            await restart_redis()
        else:
            self.log.append(("PostgreSQL crash + restart", at))
            await restart_postgres()

    async def run(self, count: int, window: float) -> None:
        """`count` faults spread over `window` seconds."""
        for _ in range(count):
            await asyncio.sleep(self.rng.uniform(0.5, 1.5) * window / count)
            await self.one()


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


async def run(citizens: int, arrivals: float, count: int, seed: int, kinds: list[str]) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    ops, crews = config.operators.telegram_chat_id, [a.telegram_chat_id for a in config.agencies]
    url = await fresh_database(DATABASE, REDIS)
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
        register_people(fake, config, citizens)
        marks, stop = Marks(), asyncio.Event()
        async with Cluster(fake, url, REDIS, RUNS / "faults", webs=2, workers=2) as cluster:
            faults = Faults(cluster, rng, kinds)
            helpers = [asyncio.create_task(operator(fake, ops, marks, stop)),
                       asyncio.create_task(crews_watch(fake, crews, marks, stop)),
                       asyncio.create_task(faults.supervise(stop))]

            async def arrive(n: int):
                await asyncio.sleep(rng.uniform(0, arrivals))
                return await citizen(fake, FIRST_CITIZEN + n, n, marks, timeout=1200)
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
        refused = sorted(c.at for c in fake.calls if c.status == 429)
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
    before = sum(1 for t in refused if t < faults.log[0][1]) if faults.log else len(refused)
    print(f"  before the first fault: {before} sends answered 429")
    for (name, at), end in zip(faults.log, ends, strict=True):
        after = sum(1 for t in refused if at <= t < end)
        print(f"  {at - began:6.1f} s  {name:28s} recovered in {recovery(at, acks, sends):5.1f} s; "
              f"429s until the next fault: {after}")
    print(f"log lines: {len(lines)}, with a phone number, token or file URL: {len(find_leaks(lines, secrets))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=400)
    parser.add_argument("--arrivals", type=float, default=300)
    parser.add_argument("--faults", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kinds", default="web,web,worker,worker,redis,postgres",
                        help="faults to draw from (repeat one to make it likelier)")
    args = parser.parse_args()
    asyncio.run(run(args.citizens, args.arrivals, args.faults, args.seed, args.kinds.split(",")))


if __name__ == "__main__":
    main()

"""A surge of citizens against the production shape: throughput, acknowledgement and end-to-end latency.

    .venv/bin/python bench/load.py [--citizens 200] [--whatsapp 20] [--webs 2] [--workers 2] [--spread 60]

`--webs` `siaga web` and `--workers` `siaga worker` OS processes (bench/cluster.py) on PostgreSQL
(`siaga_bench`) and Redis (db 14); the fake Bot API enforces Telegram's limits and delivers webhooks over
40 connections (Telegram's default max_connections), each chat in order, round-robin over the web
instances. Citizens arrive at random within `--spread` seconds and walk the whole report (text, type button,
photo skipped or not asked, pin, description skipped, confirm), waiting for each answer like a person; an
operator verifies every card as soon as it shows. Prints sustained updates/s, p50/p99 webhook
acknowledgement, confirm → operators' card and verification → agency task, limit violations, messages sent
twice, what the database holds (every update stored and processed once) and the log check.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.citizens import (  # noqa: E402
    FIRST_CITIZEN,
    Marks,
    citizen,
    crews_watch,
    dashboard_watch,
    duplicates,
    operator,
    pct,
    wa_citizen,
)
from bench.cluster import Cluster  # noqa: E402
from bench.outbound_limits import REDIS, fresh_database  # noqa: E402
from core.config import load_config  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.whatsapp_api import FakeWhatsApp  # noqa: E402
from tests.harness import SECRET  # noqa: E402
from tests.images import phone_jpeg  # noqa: E402
from tests.session_log import find_leaks  # noqa: E402

RUNS = ROOT / "bench" / "runs"


async def run(citizens: int, whatsapp: int, webs: int, workers: int, spread: float, seed: int) -> None:
    """The report surge against OS processes; prints the issue's figures and the double-processing checks."""
    config = load_config(ROOT / "config" / "sumenep.yaml")
    ops = config.operators.telegram_chat_id
    crews = [a.telegram_chat_id for a in config.agencies]
    url = await fresh_database()
    acks: list[float] = []
    answers = Counter()
    rng = random.Random(seed)
    photo = phone_jpeg()
    async with FakeTelegram(connections=40, webhook_max_attempts=200, webhook_retry_delay=0.5) as fake, \
            FakeWhatsApp(webhook_max_attempts=200, webhook_retry_delay=0.5) as wa:
        original = fake._post_to_webhook

        async def timed(update):
            started = time.monotonic()
            status = await original(update)
            acks.append(time.monotonic() - started)
            answers[status] += 1
            return status
        fake._post_to_webhook = timed
        register_people(fake, config, citizens)
        for n in range(whatsapp):
            wa.user(wa_id(n), f"Warga WA {n}")
        marks, stop = Marks(), asyncio.Event()
        async with Cluster(fake, url, REDIS, RUNS / "load", webs=webs, workers=workers, wa=wa) as cluster:
            watchers = [asyncio.create_task(operator(fake, ops, marks, stop)),
                        asyncio.create_task(crews_watch(fake, crews, marks, stop)),
                        asyncio.create_task(dashboard_watch(cluster.public, url, marks, stop))]

            async def arrive(n: int):
                await asyncio.sleep(rng.uniform(0, spread))
                if n < citizens:
                    return await citizen(fake, FIRST_CITIZEN + n, n, marks)
                return await wa_citizen(wa, wa_id(n - citizens), n - citizens, marks, photo)
            began = time.monotonic()
            tickets = [t for t in await asyncio.gather(*(arrive(n) for n in range(citizens + whatsapp))) if t]
            walked, updates = time.monotonic() - began, len(acks) + len(wa.delivery_log)
            await wait_until(lambda: len(marks.task) >= len(tickets), 3600)
            stop.set()
            await asyncio.gather(*watchers)
            checks = await store_checks(url)
            lines = cluster.log_lines()
        violations = len(fake.limit_violations) + len(wa.limit_violations)
        dups = duplicates(fake, [ops, *crews, *range(FIRST_CITIZEN, FIRST_CITIZEN + citizens)])
        secrets = [fake.token, fake.token.split(":")[1], SECRET, wa.token, wa.app_secret]
    to_card = [marks.card[t] - marks.confirmed[t] for t in tickets if t in marks.card]
    to_dashboard = [marks.dashboard[t] - marks.confirmed[t] for t in tickets if t in marks.dashboard]
    to_task = [marks.task[t] - marks.verified[t] for t in tickets if t in marks.task]
    walks = list(marks.walked.values())
    print(f"{citizens} Telegram + {whatsapp} WhatsApp citizens arriving over {spread:.0f} s; {webs} web + {workers} "
          f"worker processes; PostgreSQL + Redis; platform limits enforced")
    print(f"walks: {len(tickets)} tickets, {len(marks.failed)} stuck; walk p50 {pct(walks, 50):.1f} s, "
          f"p99 {pct(walks, 99):.1f} s")
    print(f"updates: {updates} in {walked:.1f} s = {updates / walked:.1f} updates/s sustained; "
          f"Telegram answers {dict(answers)}")
    print(f"Telegram webhook acknowledgement: p50 {pct(acks, 50) * 1000:.0f} ms, p99 {pct(acks, 99) * 1000:.0f} ms, "
          f"max {max(acks) * 1000:.0f} ms")
    print(f"confirm → operators' card ({len(to_card)}): p50 {pct(to_card, 50):.1f} s, p99 {pct(to_card, 99):.1f} s")
    print(f"confirm → dashboard's open cases ({len(to_dashboard)}): p50 {pct(to_dashboard, 50):.1f} s, "
          f"p99 {pct(to_dashboard, 99):.1f} s")
    print(f"verification → agency task ({len(to_task)}): p50 {pct(to_task, 50):.1f} s, p99 {pct(to_task, 99):.1f} s")
    print(f"limit violations seen by the fakes: {violations}; Telegram messages sent twice: {dups}")
    print(f"store: {checks}")
    print(f"log lines: {len(lines)}, with a phone number, token or file URL: {len(find_leaks(lines, secrets))}")


def wa_id(n: int) -> str:
    return f"628990{n:07d}"


def register_people(fake, config, citizens: int, first: int = FIRST_CITIZEN) -> None:
    """The deployment's groups and staff, and the citizens, as the fake knows them."""
    fake.group(config.operators.telegram_chat_id, "Operator 112")
    for agency in config.agencies:
        fake.group(agency.telegram_chat_id, agency.code)
    for person in [*config.operators.members, *config.leadership, *(m for a in config.agencies for m in a.members)]:
        if person.telegram_user_id:
            fake.user(person.telegram_user_id, person.name)
            fake.start_private(person.telegram_user_id)
    for n in range(citizens):
        fake.user(first + n, f"Warga {n}")
        fake.start_private(first + n)


async def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def store_checks(url: str) -> dict:
    """What the database says: updates stored and processed once, cases, and sends left or sent twice."""
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return {
            "inbox": dict(await conn.fetch("SELECT status, count(*) FROM inbox GROUP BY status")),
            "inbox rows per update > 1": await conn.fetchval(
                "SELECT count(*) FROM (SELECT external_id FROM inbox"
                " GROUP BY channel, external_id HAVING count(*) > 1) x"),
            "cases": await conn.fetchval("SELECT count(*) FROM cases"),
            "reporters with more than one case": await conn.fetchval(
                "SELECT count(*) FROM (SELECT reporter_id FROM cases GROUP BY reporter_id HAVING count(*) > 1) x"),
            "outbox": dict(await conn.fetch("SELECT status, count(*) FROM outbox GROUP BY status")),
        }
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--whatsapp", type=int, default=0, help="more citizens, on WhatsApp, each with a photo")
    parser.add_argument("--webs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--spread", type=float, default=60, help="citizens arrive at random within these seconds")
    parser.add_argument("--seed", type=int, default=112)
    args = parser.parse_args()
    asyncio.run(run(args.citizens, args.whatsapp, args.webs, args.workers, args.spread, args.seed))


if __name__ == "__main__":
    main()

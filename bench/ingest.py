"""Ingestion on the embedded shape: how fast one `siaga web` process (its worker child beside it) acknowledges
a flood.

    .venv/bin/python bench/ingest.py [--rate 200] [--seconds 30] [--backend sqlite|postgres] [--seed 112]

One `siaga web` OS process with no REDIS_URL — the embedded default `make run` starts, its worker in one child
process — on SQLite (a file under bench/runs/ingest/) or with `--backend postgres` on PostgreSQL
(`siaga_ingest`, or $SIAGA_BENCH_DB), behind the fake Bot API (Telegram's limits enforced), which takes the
bot's answers. A feeder in its own OS process (as Telegram's servers are not on the gateway's machine, and so
that the fake's own work does not delay the timing) delivers `--rate` updates a second for `--seconds` over
up to 40 kept-alive connections (Telegram's max_connections): new citizens' first messages, each a new chat, a
non-2xx answer re-sent after 0.5 s. Printed: the updates delivered and the achieved rate, webhook
acknowledgement p50/p99/max as the feeder timed it (Telegram's view), the web's own histogram, each update's
stored → processed time p50/p99, how long after the first delivery every update was processed, and the
answers by status. Figures only, nothing asserted.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from bench.citizens import pct  # noqa: E402
from bench.cluster import Embedded  # noqa: E402
from bench.load import RUNS, register_people, wait_until  # noqa: E402
from bench.outbound_limits import fresh_database, fresh_sqlite  # noqa: E402
from core.config import load_config  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

FIRST, CONNECTIONS = 600_000, 40


def empty_dir(run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    for old in run_dir.glob("siaga.db*"):
        old.unlink()


async def fresh_store(backend: str, run_dir: Path) -> str:
    """An empty schema: a new SQLite file, or the bench's own PostgreSQL database."""
    if backend == "sqlite":
        empty_dir(run_dir)
        return await fresh_sqlite(run_dir / "siaga.db")
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


async def server_side(base: str) -> str:
    """p50/p99 of the web's own acknowledgement histogram (handler start → answer), as bucket upper bounds."""
    async with httpx.AsyncClient(timeout=10) as client:
        text = (await client.get(f"{base}/metrics")).text
    buckets = sorted((float(le), float(v)) for le, v in re.findall(
        r'siaga_webhook_seconds_bucket\{channel="telegram",le="([^"]+)"\} ([0-9.e+]+)', text) if le != "+Inf")
    found = re.search(r'siaga_webhook_seconds_count\{channel="telegram"\} ([0-9.e+]+)', text)
    total = float(found.group(1)) if found else 0.0

    def bound(q: float) -> str:
        hit = next((le for le, n in buckets if n >= q * total), None)
        return f"≤ {hit * 1000:.0f} ms" if hit is not None else "above the last bucket"
    return f"p50 {bound(0.5)}, p99 {bound(0.99)} of {total:.0f}"


WORDS = ["tolong ada kebakaran", "banjir di desa kami", "ada kecelakaan", "tolong cepat"]


def first_messages(fake: FakeTelegram, count: int, seed: int) -> list[dict]:
    """`count` new citizens (known to the fake, so the bot's answers reach them) and their first messages."""
    rng, now, updates = random.Random(seed), int(time.time()), []
    for n in range(count):
        uid = FIRST + n
        user = fake.user(uid, f"Warga {n}")
        fake.start_private(uid)
        chat = {"id": uid, "type": "private", "first_name": user["first_name"]}
        updates.append({"update_id": FIRST + n, "message": {"message_id": 1, "from": user, "chat": chat,
                                                             "date": now, "text": rng.choice(WORDS)}})
    return updates


async def feed(updates: list[dict], url: str, secret: str, rate: float, connections: int) -> None:
    """The feeder process: deliver `updates` at `rate` over `connections` kept-alive HTTP/1.1 connections, print
    one JSON line of timings. Plain asyncio streams: an HTTP client library cost ~4 ms of CPU a request here and
    the feeder, not the gateway, became what the timings measured."""
    target = urlsplit(url)
    head = (f"POST {target.path} HTTP/1.1\r\nHost: {target.netloc}\r\nContent-Type: application/json\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {secret}\r\n")
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    acks: list[float] = []
    answers: Counter[int] = Counter()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(target.hostname, target.port)
        while (body := await queue.get()) is not None:
            started = time.monotonic()
            for _ in range(50):  # a non-2xx answer is re-sent, as Telegram does
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                status = int((await reader.readline()).split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                if 200 <= status <= 299:
                    break
                await asyncio.sleep(0.5)
            acks.append(time.monotonic() - started)
            answers[status] += 1
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(connections)]
    began = time.monotonic()
    for n, update in enumerate(updates):
        await asyncio.sleep(max(0.0, began + n / rate - time.monotonic()))
        queue.put_nowait(json.dumps(update, ensure_ascii=False).encode())
    fed = time.monotonic() - began
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    delivered = time.monotonic() - began
    print(json.dumps({"fed": fed, "delivered": delivered, "acks": acks, "answers": answers}), flush=True)


async def run(rate: float, seconds: float, backend: str, seed: int) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    run_dir = RUNS / "ingest"
    url = await fresh_store(backend, run_dir)
    async with FakeTelegram(connections=CONNECTIONS) as fake:
        register_people(fake, config, 0)
        updates = first_messages(fake, int(rate * seconds), seed)
        batch = run_dir / "updates.json"
        batch.write_text(json.dumps(updates))
        async with Embedded(fake, url, run_dir) as cluster:
            if not await wait_until(lambda: fake.webhook is not None, 60):
                raise RuntimeError("the web did not set its webhook")
            target = fake.webhook_targets[0] if fake.webhook_targets else fake.webhook["url"]
            feeder = await asyncio.create_subprocess_exec(
                sys.executable, str(ROOT / "bench" / "ingest.py"), "--feed", str(batch), "--url", target,
                "--secret", fake.webhook["secret_token"], "--rate", str(rate), stdout=asyncio.subprocess.PIPE)
            began = time.monotonic()
            out, _ = await feeder.communicate()
            timing = json.loads(out.decode().strip().splitlines()[-1])
            acks, n = timing["acks"], len(updates)
            print(f"embedded shape: one `siaga web` process and its worker child, {backend}, no Redis; "
                  f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} when all were delivered")
            print(f"updates: {n} fed in {timing['fed']:.1f} s = {n / timing['fed']:.1f}/s (asked {rate:g}/s), "
                  f"all delivered after {timing['delivered']:.1f} s; answers {timing['answers']}")
            print(f"webhook acknowledgement (the feeder's POST): p50 {pct(acks, 50) * 1000:.0f} ms, "
                  f"p99 {pct(acks, 99) * 1000:.0f} ms, max {max(acks) * 1000:.0f} ms", flush=True)
            print(f"  the web's own view (siaga_webhook_seconds, bucket bounds): {await server_side(cluster.public)}",
                  flush=True)
            while (await inbox_figures(url))[0] > 0:  # noqa: ASYNC110 - another process's database
                await asyncio.sleep(0.5)
            processed = time.monotonic() - began
            _, spans = await inbox_figures(url)
    print(f"stored → processed: p50 {pct(spans, 50):.1f} s, p99 {pct(spans, 99):.1f} s; every update processed "
          f"{processed:.1f} s after the first delivery ({processed - timing['fed']:.1f} s after the last was fed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200, help="updates a second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--feed", type=Path, help=argparse.SUPPRESS)  # the feeder process: updates to deliver
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--secret", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.feed:
        import uvloop  # the feeder's own overhead stays out of the timings as far as it can
        uvloop.run(feed(json.loads(args.feed.read_text()), args.url, args.secret, args.rate, CONNECTIONS))
        return
    asyncio.run(run(args.rate, args.seconds, args.backend, args.seed))


if __name__ == "__main__":
    main()

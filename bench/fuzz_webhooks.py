"""Fuzz the HTTP surface: thousands of odd payloads at the webhooks and the web chat; count the answers.

    .venv/bin/python bench/fuzz_webhooks.py [--count 10000] [--seed 7] [--backend sqlite|postgres]
                                            [--database-url postgresql+asyncpg://…]

Runs the real app (SQLite or PostgreSQL — whose `json` type refuses NaN —, in-process worker) against the
fake Bot API and Graph API of
the test suite, then posts mutated copies of recorded Telegram updates and WhatsApp notifications (most
with a valid secret or signature, so they reach the parser), raw garbage, wrong content types, deep
nesting and oversized bodies. Prints the status codes, how many stored events failed in the processor,
and the 500s and unhandled errors — both must be 0. `--backend postgres` uses a fresh schema in the test
database (SIAGA_TEST_PG_DB, default siaga_test); `--database-url` any empty database you name.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bots.pipeline.metrics import EVENTS_FAILED  # noqa: E402
from core.config import load_config  # noqa: E402
from core.models import InboxItem  # noqa: E402
from tests.conftest import fresh_database_url  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.fakes.whatsapp_api import FakeWhatsApp  # noqa: E402
from tests.harness import SECRET, gateway  # noqa: E402

ODD = [None, True, False, 0, -1, 2**63, -2**70, 1.5e308, "", "x" * 5000, "🔥", "\u0000", [], {}, [[[]]],
       {"id": None}, "NaN", -7.0, "-7.0", [1, "a", None], float("nan"), float("inf"), "\ud800", {"id": {"id": 1}},
       "rate:1:99999999999", "x" * 70]


def mutate(value, rng: random.Random, depth: int = 0):
    """Change a recorded payload a little or a lot: drop keys, swap types, nest, duplicate."""
    if isinstance(value, dict):
        out = {}
        for key, inner in value.items():
            roll = rng.random()
            if roll < 0.08:
                continue
            out[key] = rng.choice(ODD) if roll < 0.2 else mutate(inner, rng, depth + 1)
        if rng.random() < 0.1:
            out[rng.choice(["from", "chat", "id", "text", "type", "entry", "messages"])] = rng.choice(ODD)
        return out
    if isinstance(value, list):
        items = [mutate(v, rng, depth + 1) for v in value]
        return items * rng.randint(0, 3) if rng.random() < 0.1 else items
    if rng.random() < 0.15:
        return rng.choice(ODD)
    return value


def recorded(kind: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((ROOT / "tests" / "data" / kind).glob("*.json"))]


async def run(count: int, seed: int, backend: str = "sqlite", database_url: str | None = None) -> None:
    rng = random.Random(seed)
    config = load_config(ROOT / "config" / "sumenep.yaml")
    telegram, whatsapp = recorded("telegram"), recorded("whatsapp")
    statuses: Counter = Counter()
    failures: list = []
    async with FakeTelegram() as fake, FakeWhatsApp() as wa:
        url = database_url or await fresh_database_url(backend, Path(tempfile.mkdtemp()))
        async with (gateway(fake, url, config=config, wa=wa, run_worker=True) as gw,
                    httpx.AsyncClient(base_url=gw.url) as client):
            await client.get("/chat")
            began = time.perf_counter()
            for n in range(count):
                roll = rng.random()
                if roll < 0.4:
                    body = mutate(rng.choice(telegram), rng)
                    if isinstance(body, dict) and rng.random() < 0.8:
                        body["update_id"] = 10_000_000 + n
                    raw = json.dumps(body).encode()
                    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET if rng.random() < 0.9 else "forged"}
                    path = "/webhooks/telegram"
                elif roll < 0.8:
                    raw = json.dumps(mutate(rng.choice(whatsapp), rng)).encode()
                    sig = hmac.new(wa.app_secret.encode(), raw, hashlib.sha256).hexdigest()
                    headers = {"X-Hub-Signature-256": "sha256=" + (sig if rng.random() < 0.9 else "0" * 64)}
                    path = "/webhooks/whatsapp"
                elif roll < 0.9:
                    raw = json.dumps(mutate({"id": f"f{n}", "kind": rng.choice(["text", "choice", "location"]),
                                             "text": "halo", "choice": "type:fire", "lat": -7.0, "lon": 113.9},
                                            rng)).encode()
                    headers, path = {}, "/chat/api/send"
                else:  # raw garbage, truncation, deep nesting, oversized
                    pick = rng.random()
                    raw = (rng.randbytes(rng.randint(0, 300)) if pick < 0.4 else
                           json.dumps(rng.choice(telegram)).encode()[:rng.randint(0, 80)] if pick < 0.7 else
                           b"[" * 5000 + b"]" * 5000 if pick < 0.85 else b"{" + b" " * 1_200_000 + b"}")
                    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
                    path = rng.choice(["/webhooks/telegram", "/webhooks/whatsapp", "/chat/api/send"])
                headers["Content-Type"] = rng.choice(
                    ["application/json", "text/plain", "application/x-www-form-urlencoded"])
                response = await client.post(path, content=raw, headers=headers)
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append((path, response.status_code, raw[:160]))
            elapsed = time.perf_counter() - began
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                async with gw.deps.sessions() as s:
                    pending = await s.scalar(select(func.count()).select_from(InboxItem).where(
                        InboxItem.status == "pending", InboxItem.attempts == 0))
                if not pending:
                    break
                await asyncio.sleep(1)
            async with gw.deps.sessions() as s:
                by_status = dict((await s.execute(
                    select(InboxItem.status, func.count()).group_by(InboxItem.status))).all())
                # every processed event has one attempt (counted before it is made); more means it failed
                retried = await s.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.attempts > 1))
                parked_on_arrival = await s.scalar(select(func.count()).select_from(InboxItem).where(
                    InboxItem.status == "parked", InboxItem.attempts == 0))
    print(f"{count} odd requests in {elapsed:.1f} s ({count / elapsed:.0f}/s), seed {seed}, {backend}")
    print("HTTP status codes:", dict(sorted(statuses.items())))
    print("5xx answers:", sum(v for k, v in statuses.items() if k >= 500))
    for path, status, raw in failures[:10]:
        print(f"  {status} {path}: {raw!r}")
    failed = sum(sample.value for metric in EVENTS_FAILED.collect() for sample in metric.samples
                 if sample.name.endswith("_total"))
    print("stored events by status:", by_status, "— events that failed at least once in the processor:", retried,
          f"(failed attempts counted by siaga_events_failed_total: {failed:.0f})")
    print("deliveries parked on arrival (unusable or not storable as sent, acknowledged 200):", parked_on_arrival)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", default=None, help="an empty database (its schema is not created)")
    args = parser.parse_args()
    backend = "postgres" if (args.database_url or "").startswith("postgresql") else args.backend
    asyncio.run(run(args.count, args.seed, backend, args.database_url))


if __name__ == "__main__":
    main()

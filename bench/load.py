"""Citizens reporting at once against the production shape; webhook acknowledgement and end-to-end latency.

    .venv/bin/python bench/load.py [--citizens 20] [--workers 2]

`web` (uvicorn) and `--workers` worker instances on PostgreSQL (`siaga_bench`) and Redis (db 14), in one
process, talking to the fake Bot API with Telegram's limits enforced. Each citizen walks the whole report
(text, type button, skip photo, pin, skip description, confirm) waiting for each answer like a person;
then an operator verifies every report. Prints sustained updates/s, p50/p99 webhook acknowledgement,
p50/p99 from the citizen's confirm to the operators' card, and from verification to the agency's task.
The fake delivers updates one at a time (as Telegram does per bot with one connection), so updates/s is
bounded by the acknowledgement time; card and task latencies are bounded by Telegram's 20 messages a
minute per group, which every report uses twice (card and pin).
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.outbound_limits import REDIS, fresh_database  # noqa: E402
from core.config import load_config  # noqa: E402
from tests.e2e_support import buttons, last_with_button  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.harness import eventually, gateway  # noqa: E402

FIRST = 800_000
OPERATOR, DAMKAR = 1001, -1001000000101


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


def with_text(fake, chat: int, fragment: str, since: int = 0):
    return next((m for m in fake.sent(chat)[since:] if fragment in (m.get("text") or m.get("caption") or "")), None)


async def citizen(fake, uid: int, n: int, confirmed: dict) -> str:
    wait = lambda f: eventually(f, timeout=600, interval=0.2)  # noqa: E731
    await fake.send_text(uid, "tolong ada kebakaran")
    await fake.press_button(uid, await wait(lambda: last_with_button(fake, uid, "type:fire")), "type:fire")
    await fake.press_button(uid, await wait(lambda: last_with_button(fake, uid, "skip")), "skip")
    await wait(lambda: with_text(fake, uid, "Di mana lokasinya"))
    since = len(fake.sent(uid))
    await fake.send_location(uid, -7.0 - n * 0.01, 113.8 + n * 0.01)  # apart: no same-incident flags
    ask = await wait(lambda: next((m for m in fake.sent(uid)[since:] if "skip" in buttons(m)), None))
    await fake.press_button(uid, ask, "skip")
    confirm = await wait(lambda: last_with_button(fake, uid, "confirm:send"))
    confirmed[uid] = time.monotonic()
    await fake.press_button(uid, confirm, "confirm:send")
    done = await wait(lambda: with_text(fake, uid, "Nomor tiket Anda"))
    return done["text"].split("Nomor tiket Anda: ")[1][:12]


async def run(citizens: int, workers: int) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    ops = config.operators.telegram_chat_id
    url = await fresh_database()
    acks: list[float] = []
    async with FakeTelegram() as fake:
        original = fake._post_to_webhook

        async def timed(update):
            started = time.monotonic()
            try:
                return await original(update)
            finally:
                acks.append(time.monotonic() - started)
        fake._post_to_webhook = timed
        fake.group(ops, "Operator 112")
        fake.group(DAMKAR, "Damkar")
        for person in [*config.operators.members, *config.leadership, *(m for a in config.agencies for m in a.members)]:
            if person.telegram_user_id:
                fake.user(person.telegram_user_id, person.name)
                fake.start_private(person.telegram_user_id)
        for n in range(citizens):
            fake.user(FIRST + n, f"Warga {n}")
            fake.start_private(FIRST + n)
        async with gateway(fake, url, redis_url=REDIS, config=config, run_worker=False, workers=workers):
            confirmed: dict[int, float] = {}
            began = time.monotonic()
            tickets = await asyncio.gather(*(citizen(fake, FIRST + n, n, confirmed) for n in range(citizens)))
            walked = time.monotonic() - began
            updates = len(acks)
            card_at: dict[str, float] = {}
            while len(card_at) < citizens:
                for ticket in tickets:
                    if ticket not in card_at and with_text(fake, ops, ticket):
                        card_at[ticket] = time.monotonic()
                await asyncio.sleep(0.2)
            to_card = [card_at[t] - confirmed[FIRST + n] for n, t in enumerate(tickets)]
            verified: dict[str, float] = {}
            for ticket in tickets:
                card = next(m for m in reversed(fake.sent(ops)) if ticket in (m.get("text") or m.get("caption") or "")
                            and any(b.startswith("op:verify") for b in buttons(m)))
                data = next(b for b in buttons(card) if b.startswith("op:verify"))
                verified[ticket] = time.monotonic()
                await fake.press_button(OPERATOR, card, data)
            task_at: dict[str, float] = {}
            while len(task_at) < citizens:
                for ticket in tickets:
                    if ticket not in task_at and with_text(fake, DAMKAR, ticket):
                        task_at[ticket] = time.monotonic()
                await asyncio.sleep(0.2)
            to_task = [task_at[t] - verified[t] for t in tickets]
    print(f"{citizens} citizens at once, web + {workers} workers, PostgreSQL + Redis, Telegram limits enforced")
    print(f"reports walked in {walked:.1f} s: {updates} updates, {updates / walked:.1f} updates/s sustained")
    print(f"webhook acknowledgement: p50 {pct(acks, 50) * 1000:.0f} ms, p99 {pct(acks, 99) * 1000:.0f} ms, "
          f"max {max(acks) * 1000:.0f} ms")
    print(f"confirm → operators' card: p50 {pct(to_card, 50):.1f} s, p99 {pct(to_card, 99):.1f} s")
    print(f"verification → agency task: p50 {pct(to_task, 50):.1f} s, p99 {pct(to_task, 99):.1f} s")
    print(f"limit violations seen by the fake: {len(fake.limit_violations)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.citizens, args.workers))


if __name__ == "__main__":
    main()

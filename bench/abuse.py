"""Abuse from the open internet (issue 12): what a stranger can do to the operators, the disk and the sign-in.

    .venv/bin/python bench/abuse.py [--backend sqlite|postgres] [--reports 50] [--photos 200] [--spray 300]

1. One address starts `--reports` web reports within a minute (many phones behind one CGNAT address).
2. `--photos` photo uploads from one address: half with no report in progress, half from chats at the photo step.
3. A sign-in spray: `--spray` wrong passwords against one operator account from 25 addresses, then the real
   operator signs in from another address.

Prints what reached the operators' group (cards, summary cards, leader notices, clocks), how the database grew,
what the sweep removes once the staging time has passed, and whether (and how fast) the operator got in.
The gateway is the real app over HTTP (`tests.harness.gateway`) with the fake Bot API; embedded on SQLite, or
PostgreSQL + Redis with two workers. Loopback addresses only (127.0.0.0/8).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import random
import re
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench import outbound_limits  # noqa: E402
from bench.load import register_people  # noqa: E402
from bots.logging import configure  # noqa: E402
from bots.web.auth import LOGIN_COOKIE  # noqa: E402
from core import accounts, retention  # noqa: E402
from core.config import load_config  # noqa: E402
from core.models import AuditEntry, Case, InboxItem, Media, OutboxItem, Timer  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.harness import gateway  # noqa: E402
from tests.images import noisy_jpeg  # noqa: E402

PG_DB = "siaga_abuse"
REDIS = "redis://127.0.0.1:6379/9"
CROWD = "203.0.113.7"  # the one address behind which the flood comes (X-Forwarded-For from 127.0.0.1)
SUMENEP = (-7.0167, 113.8667)
TICKET = re.compile(r"SMN-\d\d-\d\d-\d\d")
PASSWORD = "correct-horse-battery"


async def fresh_database(backend: str, workdir: Path) -> str:
    if backend == "postgres":
        return await outbound_limits.fresh_database(PG_DB, REDIS)
    return await outbound_limits.fresh_sqlite(workdir / "siaga.db")


async def database_bytes(deps, workdir: Path) -> int:
    if deps.engine.dialect.name == "sqlite":
        return sum(p.stat().st_size for p in workdir.glob("siaga.db*"))  # noqa: ASYNC240 - a benchmark's tally
    async with deps.engine.connect() as conn:
        return (await conn.execute(text("SELECT pg_database_size(current_database())"))).scalar_one()


class Phone:
    """One browser on the web chat, behind `address`."""

    def __init__(self, base_url: str, address: str) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, headers={"X-Forwarded-For": address}, timeout=60)
        self.n = 0
        self.statuses: collections.Counter = collections.Counter()

    async def open(self) -> int:
        response = await self.client.get("/chat")
        self.statuses[response.status_code] += 1
        return response.status_code

    async def send(self, **body) -> int:
        self.n += 1
        response = await self.client.post("/chat/api/send", json={"id": f"m{self.n}", "lang": "id", **body})
        self.statuses[response.status_code] += 1
        return response.status_code

    async def photo(self, data: bytes) -> int:
        self.n += 1
        response = await self.client.post(f"/chat/api/photo?id=p{self.n}&lang=id", content=data,
                                          headers={"Content-Type": "image/jpeg"})
        self.statuses[response.status_code] += 1
        return response.status_code

    async def said(self, fragment: str, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = (await self.client.get("/chat/api/messages?after=0")).json().get("messages", [])
            if any(fragment in m["text"] for m in messages):
                return True
            await asyncio.sleep(0.5)
        return False


async def flood_reports(gw, count: int, spread: float) -> dict:
    """`count` phones behind one address each send a whole medical report, starting over `spread` seconds."""
    phones = [Phone(gw.url, CROWD) for _ in range(count)]

    async def walk(i: int, phone: Phone) -> bool:
        await asyncio.sleep(spread * i / count)
        if await phone.open() != 200:
            return False
        for body in ({"kind": "text", "text": "tolong"}, {"kind": "choice", "choice": "type:medical"},
                     {"kind": "location", "lat": SUMENEP[0], "lon": SUMENEP[1]}, {"kind": "choice", "choice": "skip"},
                     {"kind": "choice", "choice": "confirm:send"}):
            if await phone.send(**body) != 200:
                return False
        return await phone.said("SMN-")

    started = time.monotonic()
    tickets = await asyncio.gather(*(walk(i, p) for i, p in enumerate(phones)))
    statuses = sum((p.statuses for p in phones), collections.Counter())
    for phone in phones:
        await phone.client.aclose()
    return {"seconds": time.monotonic() - started, "tickets": sum(tickets), "statuses": dict(statuses)}


async def what_reached_operators(gw, config) -> dict:
    ops = str(config.operators.telegram_chat_id)
    leaders = {str(p.telegram_user_id) for p in config.leadership if p.telegram_user_id}
    async with gw.deps.sessions() as s:
        rows = list((await s.execute(select(OutboxItem.ref, OutboxItem.edit_of, OutboxItem.payload)
                                     .where(OutboxItem.channel == "telegram"))).all())
        cases = (await s.execute(select(func.count()).select_from(Case))).scalar_one()
        clocks = (await s.execute(select(func.count()).select_from(Case).where(Case.sla_due_at.is_not(None))))\
            .scalar_one()
        timers = (await s.execute(select(func.count()).select_from(Timer).where(Timer.key.like("case:%"))))\
            .scalar_one()
    to_ops = [r for r in rows if r.payload["to"]["id"] == ops]
    notices = [r.payload.get("text") or "" for r in rows if r.payload["to"]["id"] in leaders]
    return {"cases": cases, "cards": sum(1 for r in to_ops if (r.ref or "").startswith("card:")),
            "summary cards": sum(1 for r in to_ops if (r.ref or "").startswith("held:")),
            "summary edits": sum(1 for r in to_ops if (r.edit_of or "").startswith("held:")),
            "leader messages": len(notices),
            "distinct reports named in them": len({m for text in notices for m in TICKET.findall(text)}),
            "cases with a clock": clocks, "case timers": timers}


async def photo_flood(gw, count: int) -> dict:
    """Half the uploads with no report in progress, half from chats waiting at the photo step."""
    jpegs = [noisy_jpeg(400_000) for _ in range(count)]  # distinct photos: the same bytes are stored once
    idle = [Phone(gw.url, "198.51.100.20") for _ in range(5)]
    for phone in idle:
        await phone.open()
    at_step = [Phone(gw.url, "198.51.100.21") for _ in range(5)]
    for phone in at_step:
        await phone.open()
        await phone.send(kind="text", text="tolong")
        await phone.send(kind="choice", choice="type:fire")
        await phone.said("foto")
    for phone in idle + at_step:
        phone.statuses.clear()
    started = time.monotonic()
    half = count // 2
    await asyncio.gather(*(idle[i % 5].photo(jpegs[i]) for i in range(half)))
    no_draft = sum((p.statuses for p in idle), collections.Counter())
    await asyncio.gather(*(at_step[i % 5].photo(jpegs[half + i]) for i in range(count - half)))
    at_photo_step = sum((p.statuses for p in at_step), collections.Counter())
    for phone in idle + at_step:
        await phone.client.aclose()
    return {"seconds": time.monotonic() - started, "no draft": dict(no_draft), "at the photo step": dict(at_photo_step),
            "photo bytes": sum(map(len, jpegs)) // count}


async def spray(gw, tries: int) -> dict:
    """Wrong passwords against op1 from 25 loopback addresses, then the operator from another one."""
    addresses = [f"127.0.0.{10 + i}" for i in range(25)]
    clients = [httpx.AsyncClient(base_url=gw.url, timeout=60,
                                 transport=httpx.AsyncHTTPTransport(local_address=a)) for a in addresses]
    statuses: collections.Counter = collections.Counter()

    async def attempt(client: httpx.AsyncClient, i: int) -> None:
        csrf = f"spray-{i}"
        client.cookies.set(LOGIN_COOKIE, csrf)  # the double-submit token a browser would carry
        response = await client.post("/dashboard/login", data={"username": "op1", "password": f"guess-{i:06d}-x",
                                                               "code": "", "csrf": csrf})
        statuses[response.status_code] += 1

    started = time.monotonic()
    per_client = tries // len(clients)
    await asyncio.gather(*(attempt(c, i * 1000 + j) for i, c in enumerate(clients) for j in range(per_client)))
    spray_seconds = time.monotonic() - started
    for client in clients:
        await client.aclose()
    async with httpx.AsyncClient(base_url=gw.url, timeout=60,
                                 transport=httpx.AsyncHTTPTransport(local_address="127.0.0.200")) as me:
        t0 = time.monotonic()
        await me.get("/dashboard/login")
        csrf = me.cookies.get(LOGIN_COOKIE) or ""
        response = await me.post("/dashboard/login", data={"username": "op1", "password": PASSWORD, "code": "",
                                                           "csrf": csrf})
        took = time.monotonic() - t0
        dashboard = (await me.get("/dashboard")).status_code if response.status_code == 303 else None
    async with gw.deps.sessions() as s:
        audit = dict((await s.execute(select(AuditEntry.action, func.count()).group_by(AuditEntry.action))).all())
    return {"tries": per_client * len(clients), "seconds": spray_seconds, "statuses": dict(statuses),
            "operator sign-in": response.status_code, "operator seconds": round(took, 2),
            "operator dashboard": dashboard, "audit entries": audit}


async def main(args) -> None:
    random.seed(args.seed)
    config = load_config(ROOT / "config" / "sumenep.yaml")
    workdir = Path(tempfile.mkdtemp(prefix="siaga-abuse-"))
    url = await fresh_database(args.backend, workdir)
    fake = FakeTelegram()
    await fake.start()
    register_people(fake, config, citizens=0)
    production = args.backend == "postgres"
    async with AsyncExitStack() as stack:
        gw = await stack.enter_async_context(gateway(fake, url, redis_url=REDIS if production else None,
                                                     run_worker=False if production else None,
                                                     workers=2 if production else 0))
        async with gw.deps.sessions() as s, s.begin():
            await accounts.create(s, "op1", PASSWORD, "operator", "Operator Satu")
        size0 = await database_bytes(gw.deps, workdir)
        print(f"# bench/abuse.py — {args.backend}{' + Redis, web + 2 workers' if production else ' (embedded)'}")

        flood = await flood_reports(gw, args.reports, args.spread)
        await asyncio.sleep(3)  # let the workers finish the last submissions
        reached = await what_reached_operators(gw, config)
        size1 = await database_bytes(gw.deps, workdir)
        print(f"\n## {args.reports} web reports from one address in {args.spread:.0f} s")
        print(f"walk time {flood['seconds']:.1f} s; tickets shown to the citizens: {flood['tickets']}/{args.reports}; "
              f"HTTP answers {flood['statuses']}")
        print("queued for Telegram: " + ", ".join(f"{k} {v}" for k, v in reached.items()))
        print(f"operators' group got from the fake Bot API so far: {len(fake.sent(config.operators.telegram_chat_id))} "
              f"messages (20 a minute is Telegram's limit)")
        print(f"database grew {(size1 - size0) / 1024:.0f} KiB")

        async with gw.deps.sessions() as s:
            media0 = (await s.execute(select(func.count()).select_from(Media))).scalar_one()
        photos = await photo_flood(gw, args.photos)
        async with gw.deps.sessions() as s:
            media1 = (await s.execute(select(func.count()).select_from(Media))).scalar_one()
        size2 = await database_bytes(gw.deps, workdir)
        for _ in range(120):  # the workers take the uploads' events first: a photo an event still holds is kept
            async with gw.deps.sessions() as s:
                if not (await s.execute(select(func.count()).select_from(InboxItem)
                                        .where(InboxItem.status == "pending"))).scalar_one():
                    break
            await asyncio.sleep(0.5)
        later = gw.deps.clock.now() + timedelta(minutes=config.privacy.staging_minutes + 61)
        async with gw.deps.sessions() as s, s.begin():
            swept = await retention.sweep_staging(s, later, config.privacy.staging_minutes, config.web.window_minutes)
        async with gw.deps.sessions() as s:
            media2 = (await s.execute(select(func.count()).select_from(Media))).scalar_one()
        print(f"\n## {args.photos} photo uploads from one address ({photos['photo bytes'] / 1024:.0f} KiB each)")
        print(f"{photos['seconds']:.1f} s; HTTP answers with no report in progress {photos['no draft']}, "
              f"from chats at the photo step {photos['at the photo step']}")
        print(f"media rows {media0} → {media1}; database grew {(size2 - size1) / 1024:.0f} KiB; "
              f"sweep after the staging time ({config.privacy.staging_minutes} min): {swept} → {media2} media rows")

        result = await spray(gw, args.spray)
        print(f"\n## sign-in spray against op1: {result['tries']} wrong passwords from 25 addresses")
        print(f"{result['seconds']:.1f} s; HTTP answers {result['statuses']}")
        print(f"the real operator from another address: HTTP {result['operator sign-in']} in "
              f"{result['operator seconds']} s, dashboard {result['operator dashboard']}")
        print(f"audit entries by action: {result['audit entries']}")
    await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--spread", type=float, default=60.0, help="seconds over which the reports start")
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--spray", type=int, default=300)
    parser.add_argument("--seed", type=int, default=12)
    configure("WARNING")
    asyncio.run(main(parser.parse_args()))

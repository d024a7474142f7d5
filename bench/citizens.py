"""Simulated citizens and an operator for the load and fault benchmarks, driving the fake Bot API like people do."""
from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from tests.e2e_support import buttons, last_with_button
from tests.harness import eventually

FIRST_CITIZEN = 800_000
OPERATOR = 1001
# One type per agency group, so tasks spread over five crew groups (photo optional or not asked at all).
KINDS = ["fire", "medical", "crime", "flood", "water_outage"]
TICKET = re.compile(r"\b[A-Z]{3}-\d{2}-\d{2}-\d{2}\b")


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))] if values else float("nan")


def text_of(message: dict) -> str:
    return message.get("text") or message.get("caption") or ""


def with_text(fake, chat: int, fragment: str, since: int = 0):
    return next((m for m in fake.sent(chat)[since:] if fragment in text_of(m)), None)


@dataclass
class Marks:
    """When each citizen confirmed and got a ticket; when each ticket's card and task appeared."""

    confirmed: dict[str, float] = field(default_factory=dict)
    tickets: dict[int, str] = field(default_factory=dict)
    walked: dict[int, float] = field(default_factory=dict)
    card: dict[str, float] = field(default_factory=dict)
    verified: dict[str, float] = field(default_factory=dict)
    task: dict[str, float] = field(default_factory=dict)
    dashboard: dict[str, float] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)


async def citizen(fake, uid: int, n: int, marks: Marks, timeout: float = 900) -> str | None:
    """One report from first message to ticket, waiting for each answer like a person would."""
    wait = lambda f: eventually(f, timeout=timeout, interval=0.25)  # noqa: E731
    kind = KINDS[n % len(KINDS)]
    began = time.monotonic()
    try:
        await fake.send_text(uid, "tolong ada kejadian")
        await fake.press_button(uid, await wait(lambda: last_with_button(fake, uid, f"type:{kind}")), f"type:{kind}")
        asked = await wait(lambda: last_with_button(fake, uid, "skip") or with_text(fake, uid, "Di mana lokasinya"))
        if "skip" in buttons(asked):
            await fake.press_button(uid, asked, "skip")
        await wait(lambda: with_text(fake, uid, "Di mana lokasinya"))
        since = len(fake.sent(uid))
        # Inside the service area, each at least 440 m from the next of the same type: no same-incident flags.
        await fake.send_location(uid, -6.9 - (n % 50) * 0.004, 113.6 + (n // 50) * 0.004)
        ask = await wait(lambda: next((m for m in fake.sent(uid)[since:] if "skip" in buttons(m)), None))
        await fake.press_button(uid, ask, "skip")
        confirm = await wait(lambda: last_with_button(fake, uid, "confirm:send"))
        at = time.monotonic()
        await fake.press_button(uid, confirm, "confirm:send")
        done = await wait(lambda: with_text(fake, uid, "Nomor tiket Anda"))
    except AssertionError:
        marks.failed.append(f"citizen {uid} stuck after {time.monotonic() - began:.0f} s")
        return None
    ticket = done["text"].split("Nomor tiket Anda: ")[1][:12]
    marks.confirmed[ticket], marks.tickets[uid], marks.walked[uid] = at, ticket, time.monotonic() - began
    return ticket


async def operator(fake, ops: int, marks: Marks, stop: asyncio.Event) -> None:
    """Verifies each card as soon as it shows in the operators' group, as a 112 operator on shift does."""
    pressed: set[str] = set()
    while not stop.is_set():
        for message in fake.sent(ops):
            data = next((b for b in buttons(message) if b.startswith("case:verify")), None)
            found = TICKET.search(text_of(message))
            ticket = found and found.group(0)
            if data and ticket and ticket not in pressed:
                marks.card.setdefault(ticket, time.monotonic())
                pressed.add(ticket)
                marks.verified[ticket] = time.monotonic()
                await fake.press_button(OPERATOR, message, data)
        await asyncio.sleep(0.25)


async def crews_watch(fake, groups: list[int], marks: Marks, stop: asyncio.Event) -> None:
    """Notes when each verified ticket's task reaches a crew group."""
    while not stop.is_set():
        for group in groups:
            for message in fake.sent(group):
                for ticket in TICKET.findall(text_of(message)):
                    if ticket in marks.verified and ticket not in marks.task:
                        marks.task[ticket] = time.monotonic()
        await asyncio.sleep(0.5)


async def dashboard_watch(base_url: str, db_url: str, marks: Marks, stop: asyncio.Event) -> None:
    """An operator signed in to the dashboard: when each ticket first shows in the open-cases table (the page
    reloads it every 5 s; this polls each second to see when the data is there)."""
    import httpx

    from core import accounts
    from core.db import make_engine, make_sessionmaker

    engine = make_engine(db_url)
    async with make_sessionmaker(engine)() as session, session.begin():
        await accounts.create(session, "bench_op", "bench-password-112", "operator", "Bench")
    await engine.dispose()
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        page = await client.get("/dashboard/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        await client.post("/dashboard/login", data={"username": "bench_op", "password": "bench-password-112",
                                                     "csrf": csrf})
        while not stop.is_set():
            try:
                rows = await client.get("/dashboard/rows")
            except httpx.HTTPError:
                rows = None
            seen = time.monotonic()
            for ticket in TICKET.findall(rows.text if rows is not None and rows.status_code == 200 else ""):
                marks.dashboard.setdefault(ticket, seen)
            await asyncio.sleep(1)


def duplicates(fake, chats: list[int]) -> int:
    """Messages sent twice to one chat (same method, text and buttons): what a crash between send and record costs."""
    count = 0
    for chat in chats:
        seen = Counter((m.get("_method"), text_of(m), str(m.get("reply_markup")), str(m.get("location")))
                       for m in fake.sent(chat) if m.get("_method") != "sendChatAction")
        count += sum(n - 1 for n in seen.values() if n > 1)
    return count


async def wa_citizen(wa, who: str, n: int, marks: Marks, photo: bytes, timeout: float = 900) -> str | None:
    """One report on WhatsApp with a phone photo (downloaded, checked and re-encoded by the worker)."""
    from tests.wa_support import body, option_ids

    def find(test, since: int = 0):
        return lambda: next((m for m in wa.sent(who)[since:] if test(m)), None)
    wait = lambda f: eventually(f, timeout=timeout, interval=0.25)  # noqa: E731
    began = time.monotonic()
    try:
        await wa.send_text(who, "tolong ada kebakaran")
        menu = await wait(find(lambda m: "type:fire" in option_ids(m)))
        await wa.pick_list_row(who, menu["_id"], "type:fire")
        await wait(find(lambda m: "Kirim foto kejadian" in body(m)))
        await wa.send_image(who, photo)
        await wait(find(lambda m: m.get("type") == "interactive"
                        and m["interactive"].get("type") == "location_request_message"))
        await wa.send_location(who, -7.2 + (n % 50) * 0.004, 113.9 + (n // 50) * 0.004)
        await wait(find(lambda m: "Ceritakan singkat" in body(m)))
        await wa.send_text(who, "api besar di rumah warga")
        confirm = await wait(find(lambda m: "confirm:send" in option_ids(m)))
        at = time.monotonic()
        await wa.press_button(who, confirm["_id"], "confirm:send")
        done = await wait(find(lambda m: "Nomor tiket Anda" in body(m)))
    except AssertionError:
        marks.failed.append(f"WhatsApp citizen {n} stuck after {time.monotonic() - began:.0f} s")
        return None
    ticket = body(done).split("Nomor tiket Anda: ")[1][:12]
    marks.confirmed[ticket], marks.walked[-1 - n] = at, time.monotonic() - began
    return ticket

"""Simulated citizens, operators and crews for the load and fault benchmarks, driving the fake APIs like people do.

`citizen` / `operator` / `crews_watch` are the simple ones (group cards only) the fault bench uses; `walk`,
`wa_walk`, `DeskTeam` and `CrewWatch` answer whatever the gateway shows (a card, a list of waiting reports,
a private copy) and note, per case and task id, when it first became something a person could act on.
"""
from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.e2e_support import buttons

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
    kinds: dict[str, str] = field(default_factory=dict)              # ticket → the type the citizen picked
    seen: dict[int, float] = field(default_factory=dict)             # case id → first time an operator could act
    how: dict[int, str] = field(default_factory=dict)                # case id → card | list | copy (that first time)
    changed: dict[int, list[float]] = field(default_factory=dict)    # case id → each time something showing it changed
    pressed: dict[int, float] = field(default_factory=dict)          # case id → first verify press
    task_seen: dict[int, float] = field(default_factory=dict)        # task id → first card or list line in its group
    opened: int = 0                                                  # list lines opened (case:open / task:open)

    def sight(self, case_id: int, at: float, how: str) -> None:
        if case_id not in self.seen:
            self.seen[case_id], self.how[case_id] = at, how
        self.changed.setdefault(case_id, []).append(at)


async def citizen(fake, uid: int, n: int, marks: Marks, timeout: float = 900) -> str | None:
    """One report from first message to ticket (five types in turn, pins 440 m apart: no same-incident joins)."""
    return await walk(fake, uid, Report(KINDS[n % len(KINDS)], *spread_pin(n, -6.9, 113.6)), marks, timeout)


def spread_pin(n: int, lat: float, lon: float) -> tuple[float, float]:
    """Inside the service area, each at least 440 m from the next of the same type."""
    return lat - (n % 50) * 0.004, lon + (n // 50) * 0.004


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


def duplicated(fake, chats: list[int]) -> list[str]:
    """Where messages were sent twice: one line per chat with the count and the first repeated text."""
    found = []
    for chat in chats:
        seen = Counter((m.get("_method"), text_of(m), str(m.get("reply_markup")), str(m.get("location")))
                       for m in fake.sent(chat) if m.get("_method") != "sendChatAction")
        twice = [(key, n) for key, n in seen.items() if n > 1]
        if twice:
            found.append(f"{chat}: {sum(n - 1 for _, n in twice)} ({twice[0][0][1][:50]!r})")
    return found


def duplicates(fake, chats: list[int]) -> int:
    """Messages sent twice to one chat (same method, text and buttons): what a crash between send and record costs."""
    count = 0
    for chat in chats:
        seen = Counter((m.get("_method"), text_of(m), str(m.get("reply_markup")), str(m.get("location")))
                       for m in fake.sent(chat) if m.get("_method") != "sendChatAction")
        count += sum(n - 1 for n in seen.values() if n > 1)
    return count


async def wa_citizen(wa, who: str, n: int, marks: Marks, photo: bytes, timeout: float = 900) -> str | None:
    """One fire report on WhatsApp with a phone photo (downloaded, checked and re-encoded by the worker)."""
    return await wa_walk(wa, who, Report("fire", *spread_pin(n, -7.2, 113.9)), marks, photo, timeout, key=-1 - n)


@dataclass(frozen=True)
class Report:
    """What one citizen reports: the type and the pin (and which of a scenario's incidents, -1 for none)."""

    kind: str
    lat: float
    lon: float
    incident: int = -1


def _ticket_after(messages: list[dict], first_id: Any, key: str, text) -> str | None:
    ids = [m.get(key) for m in messages]
    start = ids.index(first_id) if first_id in ids else 0
    return next((found.group(0) for m in messages[start:] if (found := TICKET.search(text(m)))), None)


async def walk(fake, uid: int, report: Report, marks: Marks, timeout: float = 900) -> str | None:
    """One Telegram report from first message to ticket, answering whatever the bot last asked, as a person does:
    the type (on the menu's second page if needed), a photo only where it is required, the pin, skip otherwise."""
    began, deadline = time.monotonic(), time.monotonic() + timeout
    answered, confirm_id = 0, None
    await fake.send_text(uid, "tolong ada kejadian")
    while time.monotonic() < deadline:
        messages = in_place(fake, uid)
        if confirm_id is not None:
            ticket = _ticket_after(messages, confirm_id, "message_id", text_of)
            if ticket:
                _confirmed(marks, uid, ticket)
                marks.tickets[uid], marks.kinds[ticket] = ticket, report.kind
                marks.walked[uid] = time.monotonic() - began
                return ticket
        elif messages and messages[-1]["message_id"] > answered:
            last = messages[-1]
            data, text = buttons(last), text_of(last)
            answered = last["message_id"]
            if f"type:{report.kind}" in data:
                await fake.press_button(uid, last, f"type:{report.kind}")
            elif "type:more" in data:
                await fake.press_button(uid, last, "type:more")
            elif "confirm:send" in data:
                confirm_id, at = last["message_id"], time.monotonic()
                await fake.press_button(uid, last, "confirm:send")
                marks.confirmed[_pending(uid)] = at
            elif "skip" in data:
                await fake.press_button(uid, last, "skip")
            elif skip := _reply_skip(last):  # the call-back number: a reply keyboard (share contact, or skip)
                await fake.send_text(uid, skip)
            elif "Di mana lokasinya" in text:
                await fake.send_location(uid, report.lat, report.lon)
            elif "Kirim foto" in text:
                from tests.images import phone_jpeg
                await fake.send_photo(uid, phone_jpeg())
        await asyncio.sleep(0.25)
    last = (in_place(fake, uid) or [{}])[-1]
    return _stuck(marks, f"citizen {uid} ({text_of(last)[:40]!r} {buttons(last)[:4]})", began, _pending(uid))


def in_place(fake, chat: int) -> list[dict]:
    """The bot's messages in a chat as the fake holds them: `fake.sent` copies each (photos too), which costs
    the bench's event loop, where the fake serves, more than the gateway's answers when hundreds walk at once."""
    return [m for i in list(fake._sent_ids.get(chat, [])) if (m := fake._messages.get((chat, i))) is not None]


def wa_in_place(wa, who: str) -> list[dict]:
    """`wa.sent` without the copies (see `in_place`)."""
    user = wa._find(who)
    return list(user.sent) if user else []


def _reply_skip(message: dict) -> str:
    """The text of the reply keyboard's button next to "share my number", if the message asks for it."""
    rows = (message.get("_reply_markup") or {}).get("keyboard") or []
    keys = [key if isinstance(key, dict) else {"text": key} for row in rows for key in row]
    if not any(key.get("request_contact") for key in keys):
        return ""
    return next((key["text"] for key in keys if not key.get("request_contact")), "lewati")


def _pending(who: Any) -> str:
    return f"pending:{who}"


def _stuck(marks: Marks, who: str, began: float, pending: str) -> None:
    marks.confirmed.pop(pending, None)
    marks.failed.append(f"{who} stuck after {time.monotonic() - began:.0f} s")
    return None


def _confirmed(marks: Marks, who: Any, ticket: str) -> None:
    marks.confirmed[ticket] = marks.confirmed.pop(_pending(who))


async def wa_walk(wa, who: str, report: Report, marks: Marks, photo: bytes, timeout: float = 900,
                  key: int = 0) -> str | None:
    """One WhatsApp report with a phone photo where one is asked, a pin and a few words, answering the last
    question each time like `walk`."""
    from tests.wa_support import body, choose, option_ids

    began, deadline = time.monotonic(), time.monotonic() + timeout
    answered, confirm_id = 0, None
    await wa.send_text(who, "tolong ada kejadian")
    while time.monotonic() < deadline:
        messages = wa_in_place(wa, who)
        if confirm_id is not None:
            ticket = _ticket_after(messages, confirm_id, "_id", body)
            if ticket:
                _confirmed(marks, who, ticket)
                marks.walked[key], marks.kinds[ticket] = time.monotonic() - began, report.kind
                return ticket
        elif len(messages) > answered:
            last, answered = messages[-1], len(messages)
            ids, text = option_ids(last), body(last)
            if f"type:{report.kind}" in ids:
                await choose(wa, who, last, f"type:{report.kind}")
            elif "type:more" in ids:
                await choose(wa, who, last, "type:more")
            elif "confirm:send" in ids:
                confirm_id, at = last["_id"], time.monotonic()
                await choose(wa, who, last, "confirm:send")
                marks.confirmed[_pending(who)] = at
            elif "Kirim foto kejadian" in text:
                await wa.send_image(who, photo)
            elif last.get("type") == "interactive" and last["interactive"].get("type") == "location_request_message":
                await wa.send_location(who, report.lat, report.lon)
            elif "Ceritakan singkat" in text:
                await wa.send_text(who, "tolong cepat, ada korban")
            elif "skip" in ids:
                await choose(wa, who, last, "skip")
        await asyncio.sleep(0.25)
    return _stuck(marks, f"WhatsApp citizen {key}", began, _pending(who))


def targets(message: dict, scope: str) -> list[tuple[str, int, str]]:
    """(action, case or task id, data) of each button of one scope ("case" or "task") on a message."""
    found = []
    for data in buttons(message):
        parts = data.split(":")
        if len(parts) >= 3 and parts[0] == scope and parts[2].isdigit():
            found.append((parts[1], int(parts[2]), data))
    return found


class Watched:
    """The bot's messages in chats, read in place (no copies of photos), each yielded when new or changed."""

    def __init__(self, fake) -> None:
        self.fake, self.shown = fake, {}

    def changes(self, chat: int):
        for message_id in list(self.fake._sent_ids.get(chat, [])):
            message = self.fake._messages.get((chat, message_id))
            if message is None:
                continue
            shown = (text_of(message), id(message.get("reply_markup")))  # an edit puts a new markup object
            if self.shown.get((chat, message_id)) != shown:
                self.shown[(chat, message_id)] = shown
                yield message

    def current(self, chat: int, message_id: int) -> dict | None:
        return self.fake._messages.get((chat, message_id))


Job = tuple[int, int, str]  # (chat, message id, button data)


class DeskTeam:
    """The operators on shift. Each presses Start in a private chat with the bot and checks in with /masuk in
    the operators' group, then they verify every report as soon as one of them can act on it: from its card in
    a group, from a list line (`case:open:ID` puts the card in the presser's private chat, verified there) or
    from a private copy. A person takes `think` seconds per press; a press not seen in the store after 60 s is
    made again. Also notes, per case id, when it first showed (card / list / copy) and every change after."""

    def __init__(self, fake, groups: list[int], people: list[int], marks: Marks, think: float = 1.0) -> None:
        self.fake, self.groups, self.people, self.marks, self.think = fake, groups, people, marks, think
        self.shared: dict[int, Job] = {}                                   # case id → its card or line in a group
        self.own: dict[int, dict[int, Job]] = {person: {} for person in people}  # private cards with a verify button
        self.opened: dict[int, float] = {}
        self.last_press: dict[int, float] = {}
        self.busy: set[int] = set()
        self.verified: set[int] = set()  # case ids the store says are verified (set by the bench's store watch)
        self.watched = Watched(fake)

    async def check_in(self, timeout: float = 60) -> int:
        """/start privately and /masuk in the first group; returns how many got an answer in time."""
        before = {person: len(self.fake.sent(person)) for person in self.people}
        group_before = len(self.fake.sent(self.groups[0]))
        for person in self.people:
            await self.fake.send_text(person, "/start")
            await self.fake.send_text(person, "/masuk", chat_id=self.groups[0])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answered = sum(len(self.fake.sent(p)) > before[p] for p in self.people)
            if answered == len(self.people) and len(self.fake.sent(self.groups[0])) >= group_before + len(self.people):
                break
            await asyncio.sleep(0.5)
        return sum(len(self.fake.sent(p)) > before[p] for p in self.people)

    def _scan(self) -> None:
        now = time.monotonic()
        for chat in self.groups:
            for message in self.watched.changes(chat):
                found = targets(message, "case")
                for case_id in {case_id for _, case_id, _ in found}:
                    self.marks.sight(case_id, now, "list" if any(a == "open" for a, c, _ in found if c == case_id)
                                     else "card")
                for action, case_id, data in found:
                    known = self.shared.get(case_id)
                    if action == "verify" or (action == "open" and (known is None or "verify" not in known[2])):
                        self.shared[case_id] = (chat, message["message_id"], data)
        for person in self.people:
            for message in self.watched.changes(person):
                found = targets(message, "case")
                for case_id in {case_id for _, case_id, _ in found}:
                    self.marks.sight(case_id, now, "copy")
                for action, case_id, data in found:
                    if action == "verify":
                        self.own[person][case_id] = (person, message["message_id"], data)

    def _done(self, case_id: int, now: float) -> bool:
        return (case_id in self.verified or case_id in self.busy
                or now - self.last_press.get(case_id, -1e9) < 60)

    def _next(self, person: int) -> tuple[int, Job] | None:
        now = time.monotonic()
        for case_id, job in self.own[person].items():
            if not self._done(case_id, now):
                return case_id, job
        for case_id, job in self.shared.items():
            if not self._done(case_id, now) and now - self.opened.get(case_id, -1e9) > 60:
                return case_id, job
        return None

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._scan()
            await asyncio.sleep(0.25)

    async def work(self, person: int, stop: asyncio.Event) -> None:
        """One operator: the next report they can act on, a moment to read it, the press."""
        while not stop.is_set():
            picked = self._next(person)
            if picked is None:
                await asyncio.sleep(0.1)
                continue
            case_id, (chat, message_id, data) = picked
            self.busy.add(case_id)
            try:
                await asyncio.sleep(self.think)
                message = self.watched.current(chat, message_id)
                if case_id in self.verified or message is None or data not in buttons(message):
                    (self.own[person] if chat == person else self.shared).pop(case_id, None)
                    continue
                if ":open:" in data:
                    self.opened[case_id] = time.monotonic()
                    self.marks.opened += 1
                else:
                    self.last_press[case_id] = time.monotonic()
                    self.marks.pressed.setdefault(case_id, self.last_press[case_id])
                await self.fake.press_button(person, message, data)
            finally:
                self.busy.discard(case_id)


async def crew_watch(fake, groups: list[int], marks: Marks, stop: asyncio.Event) -> None:
    """Notes when each task first shows in its crew group: its card or a line of a list (`task:…:ID` buttons)."""
    watched = Watched(fake)
    while not stop.is_set():
        now = time.monotonic()
        for group in groups:
            for message in watched.changes(group):
                for _, task_id, _ in targets(message, "task"):
                    marks.task_seen.setdefault(task_id, now)
        await asyncio.sleep(0.5)


def time_acks(fake, acks: list[float], answers: Counter) -> None:
    """Record how long each webhook delivery took to be acknowledged (seconds) and what it was answered."""
    original = fake._post_to_webhook

    async def timed(update):
        started = time.monotonic()
        status = await original(update)
        acks.append(time.monotonic() - started)
        answers[status] += 1
        return status
    fake._post_to_webhook = timed

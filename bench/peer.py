"""Siaga112 against the usual python-telegram-bot bot: the same citizens, the same fake Bot API, side by side.

    .venv/bin/python bench/peer.py [--citizens 100] [--only siaga|peer] [--seed 112] [--think 0]
                                   [--peer-concurrency N] [--workers 1]

Siaga112 runs in production shape: `siaga web` and one `siaga worker` as OS processes (bench/cluster.py) on
PostgreSQL (database `siaga_peer`) and Redis (db 13), every update stored in the durable inbox before the 200
and every answer sent from the durable outbox; the peer runs in its own process too.
The peer is the same conversation written the way most Telegram bots are:
a python-telegram-bot `Application` with a `ConversationHandler` (the shape of PTB's `conversationbot.py`),
state in memory, fed by a Starlette webhook in the shape of PTB's `customwebhookbot.py` (check the secret
header, put the Update on `application.update_queue`, answer 200), PTB's default `concurrent_updates`
(1: one update at a time) unless `--peer-concurrency` says otherwise. PTB's `AIORateLimiter` needs
`aiolimiter`; when it is not installed (as here) the peer gets a stand-in with AIORateLimiter's defaults
(30 calls a second to chats, a 429 waited out and retried, up to 5 times; without that a 429 loses the
answer and the citizen waits forever) and does not post the report to the operators' group (20 messages
a minute per group, which a bot without a group limiter floods), as the script prints. Siaga112's walk
does not wait for its card in the group either, so what is compared is the citizen's conversation.

Each side gets its own `FakeTelegram(connections=40)` (deliveries concurrent across chats, in order within
a chat, as Telegram's max_connections) enforcing Telegram's send limits (30/s overall, 20/min per group,
about 1/s per private chat with a burst of 3), and the same `--citizens` citizens starting at the same
moment. Each walks a fire report as the load bench's `walk()` does, answering the bot's latest message as soon
as it arrives (or after `--think` seconds): "tolong ada kejadian", `type:fire`, the pin (urgent: where first),
`skip` the photo, "⏭ Lewati" for the call-back number, `confirm:send`, until "Nomor tiket Anda"; pins spread
inside the service area. The peer asks the same questions in the same six messages. Printed for each side:
updates delivered, wall time, sustained updates/s, webhook acknowledgement p50/p99/max, a citizen's walk
(first message → ticket) p50/p99 and the limit violations the fake saw; then Siaga112/peer ratios.
Figures only, nothing asserted; the driver and the fakes share the bench's event loop, each bot has its own process.
"""
from __future__ import annotations

import argparse
import asyncio
import hmac
import json
import logging
import os
import random
import signal
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import structlog  # noqa: E402
import telegram  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, Update  # noqa: E402
from telegram.error import RetryAfter  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning  # noqa: E402

from bench.citizens import pct  # noqa: E402
from bench.cluster import Cluster  # noqa: E402
from bench.load import RUNS, register_people, wait_until  # noqa: E402
from bench.outbound_limits import fresh_database  # noqa: E402
from core.config import Deployment, load_config  # noqa: E402
from core.i18n import t  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402
from tests.harness import free_port, serve_app  # noqa: E402

try:  # PTB's own limiter needs the optional aiolimiter package
    import aiolimiter  # noqa: F401
    from telegram.ext import AIORateLimiter
except ImportError:
    AIORateLimiter = None

# SIAGA_BENCH_DB / SIAGA_BENCH_REDIS: another database, for two benches on one machine at once
PEER_DB = os.environ.get("SIAGA_BENCH_DB", "siaga_peer")
REDIS = os.environ.get("SIAGA_BENCH_REDIS", "redis://127.0.0.1:6379/13")
FIRST, CONNECTIONS, SECRET, LANG = 900_000, 40, "peer-secret_112", "id"
WALK_TIMEOUT = 600.0


# ---- the citizens ------------------------------------------------------------------------------


class Watch:
    """Wakes a citizen when the bot sends to their chat, so the walk measures the bot, not a polling loop."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.events: dict[int, asyncio.Event] = {}
        original = fake._send

        def send(p, method, content, *, counted=True):
            message = original(p, method, content, counted=counted)
            self.events.setdefault(message["chat"]["id"], asyncio.Event()).set()
            return message
        fake._send = send

    def messages(self, chat: int, since: int = 0) -> list[dict]:
        """The stored messages to a chat without the deep copies `fake.sent()` makes on every look."""
        ids = self.fake._sent_ids.get(chat, [])[since:]
        return [m for i in ids if (m := self.fake._messages.get((chat, i))) is not None]

    async def wait(self, chat: int, found, since: int = 0) -> dict:
        """The first message from `since` on for which `found(message)` holds, waiting for it if need be."""
        event = self.events.setdefault(chat, asyncio.Event())
        deadline = time.monotonic() + WALK_TIMEOUT
        while True:
            event.clear()
            hit = next((m for m in self.messages(chat, since) if found(m)), None)
            if hit is not None:
                return hit
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"chat {chat}: nothing new after {WALK_TIMEOUT:.0f} s "
                                     f"(last: {[m.get('text', '')[:40] for m in self.messages(chat)][-2:]})")
            try:
                await asyncio.wait_for(event.wait(), left)
            except TimeoutError:
                pass


def spot(n: int) -> tuple[float, float]:
    """A pin inside Sumenep's box, ≥ 1 km from every other citizen's pin: no same-incident flags."""
    return -7.0 - (n % 45) * 0.01, 113.8 + (n // 45) * 0.05 + (n % 45) * 0.01


def reply_skip(message: dict) -> str | None:
    """The reply keyboard's other button when the message asks for the phone number ("⏭ Lewati")."""
    rows = (message.get("_reply_markup") or {}).get("keyboard") or []
    keys = [key if isinstance(key, dict) else {"text": key} for row in rows for key in row]
    if not any(key.get("request_contact") for key in keys):
        return None
    return next((key["text"] for key in keys if not key.get("request_contact")), None)


async def walk(fake: FakeTelegram, watch: Watch, uid: int, pin: tuple[float, float], think: float) -> float:
    """A fire told in the citizen's own words (bench/citizens.py's walk): each step answers the bot's latest
    message the moment it arrives — the type, the pin, skip the photo, skip the number, send."""
    began, seen = time.monotonic(), 0
    await fake.send_text(uid, "tolong ada kejadian")
    while True:
        await watch.wait(uid, lambda m: True, since=seen)
        messages = watch.messages(uid)
        seen, last = len(messages), messages[-1]
        data, text = [b for row in (last.get("reply_markup") or {}).get("inline_keyboard", [])
                      for b in (x.get("callback_data") for x in row)], last.get("text") or ""
        if "Nomor tiket Anda: " in text:
            assert len(text.split("Nomor tiket Anda: ")[1][:12]) == 12
            return time.monotonic() - began
        if think:
            await asyncio.sleep(think)
        if "type:fire" in data or "type:more" in data:
            await fake.press_button(uid, last, "type:fire" if "type:fire" in data else "type:more")
        elif "confirm:send" in data:
            await fake.press_button(uid, last, "confirm:send")
        elif "skip" in data:
            await fake.press_button(uid, last, "skip")
        elif (skip := reply_skip(last)) is not None:
            await fake.send_text(uid, skip)
        elif "Di mana lokasinya" in text:
            await fake.send_location(uid, *pin)


@dataclass
class Figures:
    """What one side did with the same crowd."""

    name: str
    updates: int = 0
    wall: float = 0.0
    acks: list[float] = field(default_factory=list)
    walks: list[float] = field(default_factory=list)
    violations: int = 0
    calls: Counter[str] = field(default_factory=Counter)  # Bot API calls that succeeded, by method
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.updates / self.wall if self.wall else float("nan")


def time_acks(fake: FakeTelegram, figures: Figures) -> None:
    """Time every webhook delivery, retries included, as bench/load.py does."""
    original = fake._post_to_webhook

    async def timed(update):
        started = time.monotonic()
        try:
            return await original(update)
        finally:
            figures.acks.append(time.monotonic() - started)
    fake._post_to_webhook = timed


async def crowd(fake: FakeTelegram, watch: Watch, figures: Figures, citizens: int, seed: int, think: float) -> None:
    """All citizens at the same moment; the pins are dealt by `seed`, the same way for both sides."""
    pins = [spot(n) for n in range(citizens)]
    random.Random(seed).shuffle(pins)
    began = time.monotonic()
    figures.walks = list(await asyncio.gather(*(walk(fake, watch, FIRST + n, pins[n], think)
                                                for n in range(citizens))))
    figures.wall = time.monotonic() - began
    figures.updates = len(figures.acks)
    figures.violations = len(fake.limit_violations)
    figures.calls = Counter(call.method for call in fake.calls if call.status == 200 and call.method not in
                            ("getMe", "setWebhook", "deleteWebhook", "setMyCommands", "getWebhookInfo"))


# ---- Siaga112 ----------------------------------------------------------------------------------


async def run_siaga(config: Deployment, citizens: int, seed: int, think: float, workers: int = 1) -> Figures:
    """`siaga web` and `workers` `siaga worker` OS processes (the production shape, bench/cluster.py), PostgreSQL +
    Redis: every update stored before the 200, every answer via the outbox."""
    figures = Figures("Siaga112")
    url = await fresh_database(PEER_DB, REDIS)
    async with FakeTelegram(connections=CONNECTIONS) as fake:
        time_acks(fake, figures)
        watch = Watch(fake)
        register_people(fake, config, citizens, FIRST)
        async with Cluster(fake, url, REDIS, RUNS / "peer", webs=1, workers=workers, log_level="WARNING"):
            await wait_until(lambda: fake.webhook is not None, 60)  # set by the web instance after /readyz
            await crowd(fake, watch, figures, citizens, seed, think)
    figures.notes.append(f"`siaga web` + {workers} `siaga worker` processes, PostgreSQL `{PEER_DB}` + Redis "
                         f"{REDIS.rsplit('/', 1)[-1]}, durable inbox and outbox")
    return figures


# ---- the peer: a conversationbot.py-style PTB bot ----------------------------------------------

TYPE, LOCATION, PHOTO, PHONE, CONFIRM = range(5)


class StandInLimiter(BaseRateLimiter[int]):
    """AIORateLimiter's defaults without aiolimiter: calls to a chat go through a leaky bucket of 30 a second
    (aiolimiter's algorithm); a 429 pauses every call for retry_after + 0.1 s and the call is retried (its
    max_retries). Not its 20-a-minute group limiter: this peer sends nothing to groups."""

    def __init__(self, max_retries: int = 5, rate: float = 30.0) -> None:
        self.max_retries, self.rate = max_retries, rate
        self.waited = 0
        self._level, self._at = 0.0, time.monotonic()
        self._open = asyncio.Event()
        self._open.set()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def _acquire(self) -> None:
        """Wait until the bucket (capacity `rate`, leaking `rate` a second) has room for one more call."""
        while True:
            now = time.monotonic()
            self._level = max(0.0, self._level - (now - self._at) * self.rate)
            self._at = now
            if self._level + 1 <= self.rate:
                self._level += 1
                return
            await asyncio.sleep((self._level + 1 - self.rate) / self.rate)

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        for attempt in range(self.max_retries + 1):
            await self._open.wait()
            if data.get("chat_id") is not None:
                await self._acquire()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                self.waited += 1
                self._open.clear()
                await asyncio.sleep(exc._retry_after.total_seconds() + 0.1)  # as AIORateLimiter
                self._open.set()


class PeerBot:
    """The citizen's report as a ConversationHandler; drafts live in `context.user_data`, tickets in a set."""

    def __init__(self, config: Deployment, seed: int, group_message: bool) -> None:
        self.config = config
        self.rng = random.Random(seed)
        self.tickets: set[str] = set()
        self.group_message = group_message
        self.errors = 0
        rows = [InlineKeyboardButton(f"{it.emoji} {it.name.get(LANG)}".strip(), callback_data=f"type:{it.code}")
                for it in config.incident_types]
        self.types = InlineKeyboardMarkup([rows[i:i + 2] for i in range(0, len(rows), 2)])
        self.skip = InlineKeyboardMarkup([[InlineKeyboardButton(t(LANG, "button.skip"), callback_data="skip")]])
        self.confirm_buttons = InlineKeyboardMarkup([[
            InlineKeyboardButton(t(LANG, "button.send"), callback_data="confirm:send"),
            InlineKeyboardButton(t(LANG, "button.cancel"), callback_data="confirm:cancel")]])
        self.share = ReplyKeyboardMarkup([[KeyboardButton(t(LANG, "button.share_location"), request_location=True)]],
                                         resize_keyboard=True, one_time_keyboard=True)
        self.number = ReplyKeyboardMarkup([[KeyboardButton(t(LANG, "talk.button_my_number"), request_contact=True)],
                                           [KeyboardButton(t(LANG, "button.skip"))]],
                                          resize_keyboard=True, one_time_keyboard=True)

    def handler(self) -> ConversationHandler:
        """States mirroring Siaga112's for a fire: type → location (urgent: where first) → photo → phone → confirm."""
        text = filters.TEXT & ~filters.COMMAND
        with warnings.catch_warnings():  # per_message=False with CallbackQueryHandlers: what such bots do
            warnings.simplefilter("ignore", PTBUserWarning)
            return ConversationHandler(
                entry_points=[CommandHandler("start", self.start), MessageHandler(text, self.start)],
                states={
                    TYPE: [CallbackQueryHandler(self.pick_type, pattern=r"^type:")],
                    LOCATION: [MessageHandler(filters.LOCATION, self.location), MessageHandler(text, self.address)],
                    PHOTO: [CallbackQueryHandler(self.skip_photo, pattern=r"^skip$"),
                            MessageHandler(filters.PHOTO, self.photo)],
                    PHONE: [MessageHandler(filters.CONTACT | text, self.phone)],
                    CONFIRM: [CallbackQueryHandler(self.confirm, pattern=r"^confirm:")],
                },
                fallbacks=[CommandHandler("batal", self.cancel)],
            )

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        context.user_data.clear()
        context.user_data["description"] = (update.message.text or "").strip()  # the citizen's words are kept
        greeting = t(LANG, "report.greeting", region=self.config.region.name,
                     number=self.config.region.emergency_number)
        await update.message.reply_text(f"{greeting}\n\n{t(LANG, 'talk.type_unknown')}", reply_markup=self.types)
        return TYPE

    async def pick_type(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        await query.answer()
        it = self.config.incident_type(query.data.removeprefix("type:"))
        if it is None:
            return TYPE
        context.user_data["type"] = it
        await query.message.reply_text(t(LANG, "report.ask_location"), reply_markup=self.share)
        return LOCATION

    async def location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        pin = update.message.location
        lat_min, lon_min, lat_max, lon_max = self.config.region.bounds
        if not (lat_min <= pin.latitude <= lat_max and lon_min <= pin.longitude <= lon_max):
            await update.message.reply_text(t(LANG, "report.outside_region", region=self.config.region.name,
                                              number=self.config.region.emergency_number))
            return LOCATION
        context.user_data["where"] = t(LANG, "summary.pin", lat=f"{pin.latitude:.5f}", lon=f"{pin.longitude:.5f}")
        return await self.ask_photo(update, t(LANG, "talk.pin_received"))

    async def address(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if len(update.message.text.strip()) < 4:
            await update.message.reply_text(t(LANG, "report.hint_location"))
            return LOCATION
        context.user_data["where"] = update.message.text.strip()
        return await self.ask_photo(update, "")

    async def ask_photo(self, update: Update, before: str) -> int:
        ask = t(LANG, "report.ask_photo_optional")
        await update.message.reply_text(f"{before}\n\n{ask}" if before else ask, reply_markup=self.skip)
        return PHOTO

    async def skip_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        await update.callback_query.answer()
        return await self.ask_phone(update)

    async def photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        context.user_data["photo"] = update.message.photo[-1].file_id
        return await self.ask_phone(update)

    async def ask_phone(self, update: Update) -> int:
        await update.effective_message.reply_text(t(LANG, "talk.ask_phone"), reply_markup=self.number)
        return PHONE

    async def phone(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if update.message.contact is not None:
            context.user_data["phone"] = update.message.contact.phone_number
        return await self.summary(update, context)

    async def summary(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        d = context.user_data
        text = t(LANG, "report.summary", type=d["type"].name.get(LANG), location=d["where"],
                 photo=t(LANG, "summary.photo_yes" if d.get("photo") else "summary.photo_no"),
                 description=d.get("description") or "-")
        await update.effective_message.reply_text(f"{text}\n\n{t(LANG, 'talk.summary_add')}",
                                                  reply_markup=self.confirm_buttons)
        return CONFIRM

    async def confirm(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        query = update.callback_query
        await query.answer()
        if query.data != "confirm:send":
            context.user_data.clear()
            await query.message.reply_text(t(LANG, "report.cancelled"))
            return ConversationHandler.END
        ticket = self.new_ticket()
        it = context.user_data["type"]
        key = "report.submitted_urgent" if it.urgent else "report.submitted"
        await query.message.reply_text(t(LANG, key, ticket=ticket, number=self.config.region.emergency_number))
        if self.group_message:  # in the background: AIORateLimiter holds it up to 20 a minute
            card = f"{'🚨 DARURAT' if it.urgent else 'Laporan'} {ticket}\n{it.name.get(LANG)}\n" \
                   f"{context.user_data['where']}\nPelapor: {update.effective_user.full_name}"
            context.application.create_task(context.bot.send_message(self.config.operators.telegram_chat_id, card))
        context.user_data.clear()
        return ConversationHandler.END

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        context.user_data.clear()
        await update.message.reply_text(t(LANG, "report.cancelled"))
        return ConversationHandler.END

    def new_ticket(self) -> str:
        """`SMP-48-29-13`, drawn in memory and kept unique in a set (12 characters, as Siaga112's)."""
        while True:
            digits = f"{self.rng.randrange(10 ** 6):06d}"
            ticket = f"{self.config.region.ticket_prefix}-{digits[:2]}-{digits[2:4]}-{digits[4:]}"
            if ticket not in self.tickets:
                self.tickets.add(ticket)
                return ticket

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Count and log handler failures, as a deployed bot's error handler would."""
        self.errors += 1
        logging.getLogger("peer").warning("handler error: %r", context.error)


def webhook_app(application: Application) -> Starlette:
    """customwebhookbot.py's route: check the secret, queue the Update for the Application, answer 200."""
    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given, SECRET):
            return Response(status_code=403)
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return Response()
    return Starlette(routes=[Route("/webhooks/telegram", telegram_webhook, methods=["POST"])])


async def serve_peer(token: str, base_url: str, port: int, seed: int, concurrency: int | None,
                     rate: float) -> None:
    """The peer's own process (`--serve-peer`): the PTB Application behind uvicorn until SIGTERM, then one
    line of JSON with what the parent reports."""
    config = load_config(ROOT / "config" / "sumenep.yaml")
    limiter = (AIORateLimiter(max_retries=5) if AIORateLimiter is not None
               else StandInLimiter(max_retries=5, rate=rate))
    bot = PeerBot(config, seed, group_message=AIORateLimiter is not None)
    builder = Application.builder().token(token).base_url(f"{base_url}/bot").updater(None).rate_limiter(limiter)
    if concurrency is not None:
        builder = builder.concurrent_updates(concurrency)
    application = builder.build()
    application.add_handler(bot.handler())
    application.add_error_handler(bot.on_error)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with application:
        await application.start()
        async with serve_app(webhook_app(application), port):
            await application.bot.set_webhook(url=f"http://127.0.0.1:{port}/webhooks/telegram",
                                              secret_token=SECRET, allowed_updates=["message", "callback_query"])
            await stop.wait()
        await application.stop()
    print(json.dumps({"concurrent_updates": application.concurrent_updates, "errors": bot.errors,
                      "stand_in": isinstance(limiter, StandInLimiter), "rate": rate,
                      "waited": getattr(limiter, "waited", 0)}), flush=True)


async def run_peer(config: Deployment, citizens: int, seed: int, think: float, concurrency: int | None,
                   rate: float = 30.0) -> Figures:
    """The PTB Application in its own process (as Siaga112's web and worker are), webhook registered with its
    own fake; state in memory only."""
    figures = Figures("peer")
    async with FakeTelegram(connections=CONNECTIONS) as fake:
        time_acks(fake, figures)
        watch = Watch(fake)
        register_people(fake, config, citizens, FIRST)
        args = [sys.executable, str(ROOT / "bench" / "peer.py"), "--serve-peer", "--token", fake.token,
                "--base-url", fake.base_url, "--port", str(free_port()), "--seed", str(seed),
                "--peer-rate", str(rate)]
        if concurrency is not None:
            args += ["--peer-concurrency", str(concurrency)]
        peer = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE, cwd=ROOT)
        try:
            if not await wait_until(lambda: fake.webhook is not None, 60):
                raise RuntimeError("the peer did not set its webhook within 60 s")
            await crowd(fake, watch, figures, citizens, seed, think)
        finally:
            peer.send_signal(signal.SIGTERM)
            out, _ = await peer.communicate()
    report = json.loads(out.decode().strip().splitlines()[-1])
    figures.notes.append(f"python-telegram-bot {telegram.__version__}: Application + ConversationHandler in memory, "
                         f"concurrent_updates={report['concurrent_updates']}, Starlette webhook on uvicorn, "
                         "its own process")
    if report["stand_in"]:
        figures.notes.append(f"no aiolimiter, so no AIORateLimiter: a stand-in with its defaults "
                             f"({report['rate']:g} calls/s, 429s waited out: {report['waited']}); "
                             "no message to the operators' group")
    else:
        figures.notes.append("AIORateLimiter(max_retries=5); report posted to the operators' group in the background")
    figures.notes.append(f"handler errors: {report['errors']}")
    return figures


# ---- output ------------------------------------------------------------------------------------


def show(f: Figures) -> None:
    """One side's figures, in the same lines for both so they can be read against each other."""
    print(f"{f.name}: " + "; ".join(f.notes))
    print(f"  updates delivered: {f.updates} in {f.wall:.1f} s = {f.rate:.1f} updates/s sustained")
    print(f"  webhook acknowledgement: p50 {pct(f.acks, 50) * 1000:.0f} ms, p99 {pct(f.acks, 99) * 1000:.0f} ms, "
          f"max {max(f.acks) * 1000:.0f} ms")
    print(f"  citizen's walk (first message → ticket): p50 {pct(f.walks, 50):.2f} s, p99 {pct(f.walks, 99):.2f} s")
    print(f"  limit violations seen by the fake: {f.violations}")
    print("  bot calls: " + ", ".join(f"{method} {n}" for method, n in f.calls.most_common()))


async def run(citizens: int, only: str | None, seed: int, think: float, concurrency: int | None,
              rate: float, workers: int) -> None:
    config = load_config(ROOT / "config" / "sumenep.yaml")
    print(f"{citizens} citizens at once, each side on its own FakeTelegram(connections={CONNECTIONS}) with "
          f"Telegram's limits enforced; seed {seed}, think {think:g} s")
    results = {}
    if only in (None, "siaga"):
        results["siaga"] = await run_siaga(config, citizens, seed, think, workers)
        show(results["siaga"])
    if only in (None, "peer"):
        results["peer"] = await run_peer(config, citizens, seed, think, concurrency, rate)
        show(results["peer"])
    if len(results) == 2:
        s, p = results["siaga"], results["peer"]
        p50, p99 = pct(s.walks, 50) / pct(p.walks, 50), pct(s.walks, 99) / pct(p.walks, 99)
        print(f"Siaga112 / peer: updates/s ×{s.rate / p.rate:.2f} (above 1: Siaga112 sustains more); "
              f"walk p50 ×{p50:.2f}, p99 ×{p99:.2f} (below 1: Siaga112's citizens get their ticket sooner)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=100)
    parser.add_argument("--only", choices=("siaga", "peer"))
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--think", type=float, default=0.0, help="seconds a citizen takes before each answer")
    parser.add_argument("--peer-concurrency", type=int, default=None,
                        help="the peer's concurrent_updates (default: PTB's default)")
    parser.add_argument("--peer-rate", type=float, default=30.0,
                        help="the stand-in limiter's calls a second "
                             "(30: AIORateLimiter's default; 25: Siaga112's budget)")
    parser.add_argument("--workers", type=int, default=1, help="Siaga112's `siaga worker` processes")
    parser.add_argument("--serve-peer", action="store_true", help=argparse.SUPPRESS)  # the peer's own process
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_peer:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        asyncio.run(serve_peer(args.token, args.base_url, args.port, args.seed, args.peer_concurrency,
                               args.peer_rate))
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))  # no per-case lines
    asyncio.run(run(args.citizens, args.only, args.seed, args.think, args.peer_concurrency, args.peer_rate,
                    args.workers))


if __name__ == "__main__":
    main()

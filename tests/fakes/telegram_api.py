"""A fake Telegram Bot API server, so end-to-end tests can drive the real python-telegram-bot client.

The real ``telegram.Bot`` talks to it over HTTP::

    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, base_url=f"{fake.base_url}/bot", base_file_url=f"{fake.base_url}/file/bot")

and the fake plays the citizens and crews: ``send_text``/``send_photo``/``press_button``/... build real-shaped
updates and POST them to the webhook (or queue them for ``getUpdates``).

Methods served: the ones the product calls (getMe, sendMessage, sendPhoto, sendLocation, editMessageText,
editMessageCaption, answerCallbackQuery, getFile, setWebhook, deleteWebhook, getWebhookInfo, setMyCommands,
getUpdates). getWebhookInfo reports the webhook set, the updates awaiting delivery (queued or being retried)
and the last failed delivery, as the real server does.
Any other method answers 404 like an unknown method on the real server. Text is sent plain (the product
never uses ``parse_mode``): a ``parse_mode`` is refused with 400, as a bad one is on the real server.

Deliberate differences from the real server: webhook URLs may be plain ``http://`` (tests listen on
localhost); a webhook delivery that keeps failing is dropped after ``webhook_max_attempts`` instead of
being retried for 24 h; auto-detected entities are limited to bot commands, mentions, hashtags and
``http(s)://`` URLs.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
import math
import re
import secrets
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import uvicorn
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["Call", "FakeTelegram", "LocalServer"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_PHOTO_UPLOAD_BYTES = 10 * 1024 * 1024
GROUP_MESSAGES_PER_MINUTE = 20
PRIVATE_MESSAGES_PER_SECOND = 1.0
PRIVATE_BURST = 3
MESSAGES_PER_SECOND = 30
CALLBACK_QUERY_TTL = 15.0
WEBHOOK_TIMEOUT = 60.0
FIRST_UPDATE_ID = 100_000_001
NETWORK_FAILURE_STATUS = 599

DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_BOT_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SPACES = " \t\n\r\f\v"

# How PTB sends each parameter: strings raw, everything else json.dumps()'d; these tables undo that.
_INT_PARAMS = frozenset(
    {
        "chat_id", "message_id", "offset", "limit", "user_id", "message_thread_id", "reply_to_message_id",
        "max_connections", "cache_time", "live_period", "heading", "proximity_alert_radius",
    }
)
_FLOAT_PARAMS = frozenset({"latitude", "longitude", "horizontal_accuracy", "timeout"})
_BOOL_PARAMS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates", "has_spoiler",
        "show_caption_above_media", "allow_sending_without_reply", "disable_web_page_preview",
        "allow_paid_broadcast",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "allowed_updates", "commands", "scope",
        "link_preview_options", "reply_parameters", "media",
    }
)


@dataclass
class Call:
    """One Bot API request as the fake saw it, so tests can assert on what the bot did and when."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 0


class ApiError(Exception):
    """An error answer of the Bot API; raised inside a handler and turned into the JSON reply."""

    def __init__(self, code: int, description: str, *, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict:
        """Render the error exactly as the real server does."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class _StoredFile:
    """The bytes behind a file_id, so getFile and downloads serve what was uploaded."""

    content: bytes
    unique_id: str
    path: str


@dataclass
class _Fault:
    """An injected error waiting for its next matching call."""

    method: str
    chat_id: int | None
    error: ApiError
    remaining: int


# --------------------------------------------------------------------------------------------------
# Request decoding


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, bytes]]:
    """Split a multipart/form-data body into text fields and file parts (python-multipart isn't installed)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise ApiError(400, "Bad Request: can't parse multipart/form-data body")
    fields: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        disposition = next(
            (line for line in head.decode("utf-8", "replace").split("\r\n")
             if line.lower().startswith("content-disposition:")),
            "",
        )
        name = re.search(r'(?:^|[;\s])name="([^"]*)"', disposition)
        if not name:
            continue
        if re.search(r"filename\*?=", disposition):
            files[name.group(1)] = content
        else:
            fields[name.group(1)] = content.decode("utf-8")
    return fields, files


def _resolve_attachments(value: Any, files: dict[str, bytes]) -> Any:
    """Replace every ``attach://name`` reference, at any depth, with the uploaded bytes."""
    if isinstance(value, str) and value.startswith("attach://"):
        name = value.removeprefix("attach://")
        if name not in files:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return files[name]
    if isinstance(value, list):
        return [_resolve_attachments(item, files) for item in value]
    if isinstance(value, dict):
        return {key: _resolve_attachments(item, files) for key, item in value.items()}
    return value


def _coerce(name: str, value: Any) -> Any:
    """Turn one form-encoded parameter back into the type the Bot API documents for it."""
    if not isinstance(value, str):
        return value
    try:
        if name in _JSON_PARAMS:
            return json.loads(value)
        if name == "chat_id":
            return int(value) if re.fullmatch(r"-?\d+", value) else value
        if name in _INT_PARAMS:
            return int(value)
        if name in _FLOAT_PARAMS:
            return float(value)
        if name in _BOOL_PARAMS:
            return {"true": True, "false": False, "1": True, "0": False}[value.lower()]
    except (ValueError, KeyError) as exc:
        raise ApiError(400, f"Bad Request: can't parse {name}") from exc
    return value


async def _read_params(request: Request) -> dict[str, Any]:
    """Collect parameters from the query string and a JSON, urlencoded or multipart body."""
    raw: dict[str, Any] = dict(request.query_params)
    files: dict[str, bytes] = {}
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if body:
        if content_type.startswith("application/json"):
            try:
                data = json.loads(body)
            except ValueError as exc:
                raise ApiError(400, "Bad Request: can't parse JSON object") from exc
            if not isinstance(data, dict):
                raise ApiError(400, "Bad Request: can't parse JSON object")
            raw.update(data)
        elif content_type.startswith("multipart/form-data"):
            fields, files = _parse_multipart(body, content_type)
            raw.update(fields)
        else:
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    params = {name: _coerce(name, value) for name, value in raw.items()}
    if not files:
        return params
    params = {name: _resolve_attachments(value, files) for name, value in params.items()}
    referenced = {m for v in raw.values() if isinstance(v, str) for m in re.findall(r"attach://([\w.-]+)", v)}
    params.update({name: content for name, content in files.items() if name not in referenced})
    return params


# --------------------------------------------------------------------------------------------------
# Text and entities


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of every entity offset in the Bot API."""
    return len(text.encode("utf-16-le")) // 2


def _entity(kind: str, offset: int, length: int, **extra: Any) -> dict:
    """Build a MessageEntity dict."""
    return {"type": kind, "offset": offset, "length": length, **extra}


_AUTO_ENTITIES = (
    ("bot_command", re.compile(r"(?<![\w/<>])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/<>@])")),
    ("mention", re.compile(r"(?<!\w)@[a-zA-Z0-9_]{2,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d_]\w*(?![\w#])")),
    ("url", re.compile(r"(?<![\w@/])https?://[^\s<>\"']+")),
)


def _detect_entities(text: str) -> list[dict]:
    """Find the entities Telegram adds by itself (commands, mentions, hashtags, links)."""
    found: list[dict] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_ENTITIES:
        for match in pattern.finditer(text):
            value = match.group().rstrip(".,:;!?)]}") if kind == "url" else match.group()
            start = _u16(text[:match.start()])
            end = start + _u16(value)
            if any(start < stop and begin < end for begin, stop in taken):
                continue
            taken.append((start, end))
            found.append(_entity(kind, start, end - start))
    return found


def _sorted_entities(entities: list[dict]) -> list[dict]:
    """Order entities as the Bot API does: by offset, longer (outer) first."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def _format(text: str, parse_mode: Any) -> tuple[str, list[dict]]:
    """Trim like Telegram does and add the auto-detected entities; plain text only (see the module doc)."""
    if parse_mode:
        raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r}")
    text = text.strip(_SPACES)
    return text, _sorted_entities(_detect_entities(text))


# --------------------------------------------------------------------------------------------------
# Media


def _image_info(content: bytes) -> tuple[Image.Image, str] | None:
    """Open the bytes as an image (Pillow), or None when they are not one."""
    try:
        image = Image.open(io.BytesIO(content))
        image.load()
    except Exception:  # noqa: BLE001 - Pillow raises many types for "not an image"
        return None
    return image, (image.format or "jpeg").lower()


def _thumbnail(image: Image.Image, side: int) -> tuple[bytes, int, int]:
    """Make a JPEG no larger than side x side, like Telegram's smaller PhotoSizes."""
    thumb = image.copy()
    thumb.thumbnail((side, side))
    buffer = io.BytesIO()
    thumb.convert("RGB").save(buffer, format="JPEG", quality=80)
    return buffer.getvalue(), thumb.width, thumb.height


def _new_file_id() -> str:
    """A random file_id shaped like Telegram's (url-safe base64)."""
    return "AgACAgUAAxkBAAI" + secrets.token_urlsafe(48)


def _new_unique_id() -> str:
    """A random file_unique_id shaped like Telegram's."""
    return "AQAD" + secrets.token_urlsafe(12)


def _public(message: dict) -> dict:
    """The Bot API view of a stored message (without the fake's own ``_`` keys), safe to hand out."""
    return copy.deepcopy({key: value for key, value in message.items() if not key.startswith("_")})


def _update_type(update: dict) -> str:
    """The payload key of an Update ("message", "callback_query", ...)."""
    return next((key for key in update if key != "update_id"), "")


# --------------------------------------------------------------------------------------------------
# Rate limits


class _SendLimits:
    """Telegram's soft send limits: tells how long a send must wait, so floods get 429 like the real API.

    Counted: every message sent (not edits, chat actions or callback answers). Three rules:
    more than 30 messages within any 1 s overall; more than 20 within any 60 s to one group; and, per
    private chat, a token bucket refilled at 1 message/s holding at most 3, so a short burst of 3 passes but
    a sustained rate above 1/s is refused.
    """

    def __init__(self) -> None:
        self._recent: deque[float] = deque()
        self._groups: dict[int, deque[float]] = {}
        self._buckets: dict[int, tuple[float, float]] = {}

    def refusal(self, chat: dict, now: float, count: int) -> tuple[int, str] | None:
        """Return (retry_after, reason) when sending count messages now would break a limit."""
        _forget_before(self._recent, now - 1.0)
        if len(self._recent) + count > MESSAGES_PER_SECOND:
            return 1, f"more than {MESSAGES_PER_SECOND} messages per second overall"
        if chat["type"] == "private":
            tokens = self._tokens(chat["id"], now)
            if tokens < 1:
                wait = math.ceil((1 - tokens) / PRIVATE_MESSAGES_PER_SECOND)
                return wait, f"more than 1 message per second to private chat {chat['id']} (burst {PRIVATE_BURST})"
            return None
        window = self._groups.setdefault(chat["id"], deque())
        _forget_before(window, now - 60.0)
        if len(window) + count > GROUP_MESSAGES_PER_MINUTE:
            wait = max(1, math.ceil(window[0] + 60.0 - now)) if window else 60
            return wait, f"more than {GROUP_MESSAGES_PER_MINUTE} messages per minute to group {chat['id']}"
        return None

    def record(self, chat: dict, now: float, count: int) -> None:
        """Count messages that were let through."""
        self._recent.extend([now] * count)
        if chat["type"] == "private":
            self._buckets[chat["id"]] = (self._tokens(chat["id"], now) - 1, now)
        else:
            self._groups.setdefault(chat["id"], deque()).extend([now] * count)

    def _tokens(self, chat_id: int, now: float) -> float:
        tokens, at = self._buckets.get(chat_id, (float(PRIVATE_BURST), now))
        return min(float(PRIVATE_BURST), tokens + (now - at) * PRIVATE_MESSAGES_PER_SECOND)


def _forget_before(window: deque[float], cutoff: float) -> None:
    """Drop timestamps that left a sliding window."""
    while window and window[0] <= cutoff:
        window.popleft()


# --------------------------------------------------------------------------------------------------
# A uvicorn server inside the test's event loop


class _Server(uvicorn.Server):
    """uvicorn without signal handlers or its 0.1 s polling loop, so it runs as a quick task in pytest's loop."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.exit_requested = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self):  # same contract as the parent
        yield

    async def main_loop(self) -> None:  # same contract as the parent
        await self.on_tick(0)
        await self.exit_requested.wait()


class LocalServer:
    """Serve an ASGI app on 127.0.0.1 (free port) as a task in the running loop; for fakes and receivers."""

    def __init__(self, app: Callable) -> None:
        self.app = app
        self.base_url = ""
        self._server: _Server | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> str:
        """Start serving and return the base URL once connections are accepted."""
        # An explicit IPPROTO_TCP makes asyncio set TCP_NODELAY; without it every request waits ~40 ms.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.005)
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        """Stop serving and wait for the server task to end."""
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        self._server.exit_requested.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
        except TimeoutError:
            self._server.force_exit = True
            await self._task
        self._server = self._task = None

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


# --------------------------------------------------------------------------------------------------
# The fake


_HANDLERS: dict[str, tuple[str, Callable[..., Awaitable[Any]]]] = {}


def _api(name: str) -> Callable:
    """Register a coroutine method as the handler of one Bot API method (matched case-insensitively)."""

    def register(handler: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        _HANDLERS[name.lower()] = (name, handler)
        return handler

    return register


class FakeTelegram:
    """A Telegram Bot API server with people, chats, files, limits and webhooks, for end-to-end tests."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        enforce_limits: bool = True,
        webhook_retry_delay: float = 0.05,
        webhook_max_attempts: int = 5,
        connections: int = 1,
    ) -> None:
        self.token = token
        # Telegram's max_connections: with more than one, chats are delivered concurrently, each in order.
        self.connections = connections
        # A load balancer in front of several `web` instances: attempts go round these URLs when set.
        self.webhook_targets: list[str] = []
        self._next_target = 0
        self.enforce_limits = enforce_limits
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_timeout = WEBHOOK_TIMEOUT
        self.callback_query_ttl = CALLBACK_QUERY_TTL
        self.clock: Callable[[], float] = time.monotonic
        self.base_url = ""
        self.bot_user: dict = {
            "id": 999000,
            "is_bot": True,
            "first_name": "Siaga112",
            "username": "siaga112_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.calls: list[Call] = []
        self.limit_violations: list[str] = []
        self.webhook: dict | None = None
        self.webhook_last_error: tuple[int, str] | None = None  # (unix time, message) of the last failed delivery
        self._in_flight = 0  # webhook deliveries still being attempted: pending, like queued ones
        self.commands: list[dict] = []
        self.commands_by_scope: dict[tuple[str, str], list[dict]] = {}

        self._users: dict[int, dict] = {}
        self._chats: dict[int, dict] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._migrated: dict[int, int] = {}
        self._chat_instances: dict[int, str] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        self._last_message_id: dict[int, int] = {}
        self._sent_ids: dict[int, list[int]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._photo_sets: dict[str, list[dict]] = {}
        self._callback_queries: dict[str, float] = {}
        self._faults: list[_Fault] = []
        self._limits = _SendLimits()

        self._next_update_id = FIRST_UPDATE_ID
        self._allowed_updates: frozenset[str] | None = None
        self._queue: deque[dict] = deque()
        self._queue_changed = asyncio.Condition()
        self._poll_generation = 0
        self._closing = False
        self._delivery_lock = asyncio.Lock()
        self._chat_locks: dict[Any, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(max(1, connections))
        self.connections = max(1, connections)
        self._background: set[asyncio.Task] = set()
        self._http: httpx.AsyncClient | None = None
        self._server = LocalServer(
            Starlette(
                routes=[
                    Route("/bot{token}/{method}", self._handle_api, methods=["GET", "POST"]),
                    Route("/file/bot{token}/{file_path:path}", self._handle_download, methods=["GET"]),
                ]
            )
        )

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on a free localhost port; returns once connections are accepted."""
        self._closing = False
        # Webhooks and photo URLs are local test endpoints; verify=False also skips loading the CA bundle.
        # Telegram keeps up to max_connections connections to a webhook open; httpx would keep only 20 alive and
        # open a new one for every delivery past them.
        connections = self.connections
        self._http = httpx.AsyncClient(timeout=self.webhook_timeout, verify=False, limits=httpx.Limits(
            max_connections=connections, max_keepalive_connections=connections))
        self.base_url = await self._server.start()

    async def stop(self) -> None:
        """Release long polls, cancel background deliveries and stop serving."""
        self._closing = True
        async with self._queue_changed:
            self._queue_changed.notify_all()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self._server.stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ---- people and chats ---------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Warga",
        *,
        language_code: str | None = "id",
        last_name: str | None = None,
        username: str | None = None,
    ) -> dict:
        """Register (or update) a person and their private chat with the bot; returns the User dict."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        for key, value in (("last_name", last_name), ("username", username)):
            if value is not None:
                user[key] = chat[key] = value
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        self._chats[user_id] = chat
        return dict(user)

    def group(self, chat_id: int, title: str = "Grup") -> dict:
        """Register a group the bot is a member of ("-100…" ids are supergroups); returns the Chat dict."""
        if chat_id >= 0:
            raise ValueError(f"group chat ids are negative, got {chat_id}")
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        self._chats[chat_id] = {"id": chat_id, "type": kind, "title": title}
        return dict(self._chats[chat_id])

    def migrate_group(self, chat_id: int, new_chat_id: int) -> dict:
        """Upgrade a group to a supergroup: later sends to the old id fail with migrate_to_chat_id."""
        title = self._chats.pop(chat_id)["title"]
        self._migrated[chat_id] = new_chat_id
        return self.group(new_chat_id, title)

    def start_private(self, user_id: int) -> None:
        """Let the bot write to this person, as if they had pressed Start (also unblocks)."""
        if user_id not in self._users:
            self.user(user_id)
        self._started.add(user_id)
        self._blocked.discard(user_id)

    def block_bot(self, user_id: int) -> None:
        """Make every later send to this person fail with 403 "bot was blocked by the user"."""
        self._blocked.add(user_id)

    # ---- the user side ------------------------------------------------------------------------

    async def send_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> dict:
        """Deliver a text message from a person (commands get bot_command entities); returns the Update."""
        content: dict[str, Any] = {"text": text}
        if entities := _sorted_entities(_detect_entities(text)):
            content["entities"] = entities
        return await self._user_message(user_id, chat_id, content)

    async def send_photo(
        self, user_id: int, image: bytes, *, caption: str | None = None, chat_id: int | None = None
    ) -> dict:
        """Deliver a photo (three PhotoSizes, the last one the original bytes); returns the Update."""
        content: dict[str, Any] = {"photo": self._photo_sizes(image)}
        if caption is not None:
            content["caption"] = caption
            if entities := _sorted_entities(_detect_entities(caption)):
                content["caption_entities"] = entities
        return await self._user_message(user_id, chat_id, content)

    async def send_location(
        self, user_id: int, latitude: float, longitude: float, *, chat_id: int | None = None
    ) -> dict:
        """Deliver a shared location; returns the Update."""
        location = {"latitude": latitude, "longitude": longitude}
        return await self._user_message(user_id, chat_id, {"location": location})

    async def send_voice(self, user_id: int, *, chat_id: int | None = None) -> dict:
        """Deliver a 3-second voice note; returns the Update."""
        content = b"OggS\x00\x02" + secrets.token_bytes(2048)
        file_id, unique_id = self._store_file(content, "voice", "oga")
        voice = {"file_id": file_id, "file_unique_id": unique_id, "duration": 3, "mime_type": "audio/ogg",
                 "file_size": len(content)}
        return await self._user_message(user_id, chat_id, {"voice": voice})

    async def send_sticker(self, user_id: int, *, chat_id: int | None = None) -> dict:
        """Deliver a regular sticker; returns the Update."""
        content = b"RIFF\x00\x10\x00\x00WEBPVP8 " + secrets.token_bytes(1024)
        file_id, unique_id = self._store_file(content, "stickers", "webp")
        sticker = {"file_id": file_id, "file_unique_id": unique_id, "type": "regular", "width": 512,
                   "height": 512, "is_animated": False, "is_video": False, "emoji": "👍",
                   "set_name": "SiagaTest", "file_size": len(content)}
        return await self._user_message(user_id, chat_id, {"sticker": sticker})

    async def send_video(self, user_id: int, *, chat_id: int | None = None) -> dict:
        """Deliver a 5-second video; returns the Update."""
        content = b"\x00\x00\x00\x18ftypmp42" + secrets.token_bytes(4096)
        file_id, unique_id = self._store_file(content, "videos", "mp4")
        video = {"file_id": file_id, "file_unique_id": unique_id, "width": 640, "height": 360, "duration": 5,
                 "mime_type": "video/mp4", "file_size": len(content)}
        return await self._user_message(user_id, chat_id, {"video": video})

    async def send_document(
        self,
        user_id: int,
        content: bytes,
        *,
        file_name: str = "file.pdf",
        mime_type: str = "application/pdf",
        chat_id: int | None = None,
    ) -> dict:
        """Deliver a document; returns the Update."""
        extension = file_name.rsplit(".", 1)[-1] if "." in file_name else ""
        file_id, unique_id = self._store_file(content, "documents", extension)
        document = {"file_id": file_id, "file_unique_id": unique_id, "file_name": file_name,
                    "mime_type": mime_type, "file_size": len(content)}
        return await self._user_message(user_id, chat_id, {"document": document})

    async def send_contact(self, user_id: int, phone_number: str, *, chat_id: int | None = None,
                           of_user_id: int | None = None) -> dict:
        """Deliver the person's own contact (as a "share my phone number" button does), or with `of_user_id` a
        card of someone else picked from the address book; returns the Update."""
        user = self._users.get(user_id) or self.user(user_id)
        contact = {"phone_number": phone_number, "first_name": user["first_name"], "user_id": of_user_id or user_id}
        if "last_name" in user:
            contact["last_name"] = user["last_name"]
        return await self._user_message(user_id, chat_id, {"contact": contact})

    async def press_button(self, user_id: int, message: dict, callback_data: str) -> dict:
        """Press an inline button of a message the bot sent (as seen in that copy); returns the Update."""
        buttons = [b for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
        if not any(button.get("callback_data") == callback_data for button in buttons):
            raise ValueError(f"message {message.get('message_id')} has no button with data {callback_data!r}")
        user = self._users.get(user_id) or self.user(user_id)
        chat_id = message["chat"]["id"]
        current = self._messages.get((chat_id, message["message_id"]), message)
        query_id = str(secrets.randbits(63))
        self._callback_queries[query_id] = self.clock()
        instance = self._chat_instances.setdefault(chat_id, str(secrets.randbits(62)))
        query = {"id": query_id, "from": dict(user), "message": _public(current), "chat_instance": instance,
                 "data": callback_data}
        return await self._deliver_new({"callback_query": query})

    async def deliver(self, update: dict) -> int:
        """Deliver an Update (update_id assigned when missing): the webhook's final HTTP status, 0 if queued.

        Deliveries are sequential, so updates reach the bot in order. Updates excluded by allowed_updates
        are dropped (0). A delivery whose last attempt got no HTTP answer returns 599.
        """
        if "update_id" not in update:
            update["update_id"] = self._next_update_id
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        async with self._delivery_slot(update):
            if not self._wants(_update_type(update)):
                return 0
            if self.webhook is None:
                async with self._queue_changed:
                    self._queue.append(copy.deepcopy(update))
                    self._queue_changed.notify_all()
                return 0
            return await self._post_to_webhook(update)

    @contextlib.asynccontextmanager
    async def _delivery_slot(self, update: dict):
        """One delivery at a time, or up to `connections` at once with each chat's updates kept in order."""
        if self.connections <= 1:
            async with self._delivery_lock:
                yield
            return
        body = next((v for v in update.values() if isinstance(v, dict)), {})
        chat = (body.get("chat") or (body.get("message") or {}).get("chat") or body.get("from") or {}).get("id")
        async with self._chat_locks.setdefault(chat, asyncio.Lock()), self._slots:
            yield

    def redeliver(self, update: dict) -> Awaitable[int]:
        """Deliver the same Update again (same update_id), as Telegram does after a failed delivery."""
        return self.deliver(copy.deepcopy(update))

    # ---- files --------------------------------------------------------------------------------

    def add_file(self, content: bytes, *, file_unique_id: str | None = None) -> tuple[str, str]:
        """Store bytes under a new file_id (images under photos/, the rest under documents/)."""
        info = _image_info(content)
        if info:
            return self._store_file(content, "photos", "jpg" if info[1] == "jpeg" else info[1], file_unique_id)
        return self._store_file(content, "documents", "", file_unique_id)

    # ---- inspection ---------------------------------------------------------------------------

    def sent(self, chat_id: int) -> list[dict]:
        """Copies of the messages the bot sent to a chat, in order, edits applied, deleted ones gone."""
        return [
            copy.deepcopy(self._messages[(chat_id, message_id)])
            for message_id in self._sent_ids.get(chat_id, [])
            if (chat_id, message_id) in self._messages
        ]

    def callback_answers(self) -> list[dict]:
        """Parameters of the answerCallbackQuery calls that succeeded, in order."""
        return [call.params for call in self.calls if call.method == "answerCallbackQuery" and call.status == 200]

    # ---- fault injection ----------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error_code: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        count: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next count calls of method (to chat_id, if given) fail with this error."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}" if error_code == 429
                else {403: "Forbidden: bot was blocked by the user"}.get(error_code, _phrase(error_code))
            )
        parameters = {"retry_after": retry_after} if error_code == 429 else None
        error = ApiError(error_code, description, parameters=parameters)
        self._faults.append(_Fault(method.lower(), chat_id, error, count))

    def revoke_token(self) -> None:
        """Revoke the bot's token as @BotFather does: every later call with the old one gets
        401 {"ok": false, "error_code": 401, "description": "Unauthorized"} (see _check_token)."""
        bot_id = self.token.split(":", 1)[0]
        self.token = f"{bot_id}:REVOKED-{secrets.token_hex(8)}"

    # ---- HTTP ---------------------------------------------------------------------------------

    async def _handle_api(self, request: Request) -> Response:
        """Route one Bot API call, record it, and answer with the real envelope."""
        requested = request.path_params["method"]
        name, handler = _HANDLERS.get(requested.lower(), (requested, None))
        call = Call(method=name, params={}, at=self.clock())
        self.calls.append(call)
        try:
            self._check_token(request.path_params["token"])
            if handler is None:
                raise ApiError(404, "Not Found")
            call.params = await _read_params(request)
            self._raise_injected_fault(name, call.params)
            body, call.status = {"ok": True, "result": await handler(self, call.params)}, 200
        except ApiError as error:
            body, call.status = error.payload(), error.code
        return JSONResponse(body, status_code=call.status)

    async def _handle_download(self, request: Request) -> Response:
        """Serve a file's bytes at the path getFile returned."""
        try:
            self._check_token(request.path_params["token"])
        except ApiError as error:
            return JSONResponse(error.payload(), status_code=error.code)
        stored = self._files_by_path.get(request.path_params["file_path"])
        if stored is None:
            return JSONResponse(ApiError(404, "Not Found").payload(), status_code=404)
        return Response(stored.content, media_type="application/octet-stream")

    def _check_token(self, token: str) -> None:
        """Refuse a wrong token: 401 when well-formed, 404 otherwise, as the real server does."""
        if token != self.token:
            if re.fullmatch(r"\d+:[\w-]+", token):
                raise ApiError(401, "Unauthorized")
            raise ApiError(404, "Not Found")

    def _raise_injected_fault(self, method: str, params: dict) -> None:
        """Fail this call if a matching fail_next() is pending."""
        for fault in self._faults:
            if fault.method == method.lower() and fault.chat_id in (None, params.get("chat_id")):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise fault.error

    # ---- Bot API: identity ----------------------------------------------------------------------

    @_api("getMe")
    async def _get_me(self, p: dict) -> dict:
        """Answer with the bot's User."""
        return dict(self.bot_user)

    # ---- Bot API: sending ----------------------------------------------------------------------

    @_api("sendMessage")
    async def _send_message(self, p: dict) -> dict:
        """Send a text message."""
        text, entities = self._text(p)
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        if p.get("link_preview_options"):  # the real server echoes the options a bot changed
            content["link_preview_options"] = p["link_preview_options"]
        return self._send(p, "sendMessage", content)

    @_api("sendPhoto")
    async def _send_photo(self, p: dict) -> dict:
        """Send a photo given as an upload, a known file_id or an http(s) URL."""
        if p.get("photo") in (None, ""):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        content = {"photo": await self._outgoing_photo(p["photo"]), **self._caption(p)}
        if p.get("has_spoiler"):
            content["has_media_spoiler"] = True
        if p.get("show_caption_above_media"):
            content["show_caption_above_media"] = True
        return self._send(p, "sendPhoto", content)

    @_api("sendLocation")
    async def _send_location(self, p: dict) -> dict:
        """Send a location."""
        location = self._location(p)
        for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
            if key in p:
                location[key] = p[key]
        return self._send(p, "sendLocation", {"location": location})

    # ---- Bot API: editing ----------------------------------------------------------------------

    @_api("editMessageText")
    async def _edit_message_text(self, p: dict) -> dict:
        """Replace a text message's text; without reply_markup its inline keyboard goes away."""
        message = self._message_to_edit(p)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._text(p)
        return self._apply_edit(message, {"text": text, "entities": entities or None, **self._inline_markup(p),
                                          "link_preview_options": p.get("link_preview_options") or None})

    @_api("editMessageCaption")
    async def _edit_message_caption(self, p: dict) -> dict:
        """Replace a media message's caption; without reply_markup its inline keyboard goes away."""
        message = self._message_to_edit(p)
        if not any(key in message for key in ("photo", "video", "document", "voice", "audio", "animation")):
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._caption(p)
        changes = {"caption": caption.get("caption"), "caption_entities": caption.get("caption_entities")}
        return self._apply_edit(message, {**changes, **self._inline_markup(p)})

    # ---- Bot API: callbacks, files, commands ---------------------------------------------------

    @_api("answerCallbackQuery")
    async def _answer_callback_query(self, p: dict) -> bool:
        """Answer a button press once, within the query's lifetime."""
        pressed_at = self._callback_queries.pop(str(p.get("callback_query_id", "")), None)
        if pressed_at is None or self.clock() - pressed_at > self.callback_query_ttl:
            raise ApiError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        return True

    @_api("getFile")
    async def _get_file(self, p: dict) -> dict:
        """Describe a stored file with a download path (refused over 20 MB, like the cloud Bot API)."""
        file_id = p.get("file_id")
        stored = self._files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": stored.unique_id, "file_size": len(stored.content),
                "file_path": stored.path}

    @_api("setMyCommands")
    async def _set_my_commands(self, p: dict) -> bool:
        """Store the command menu for a scope and language."""
        commands = p.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        for command in commands:
            if not isinstance(command, dict) or not _BOT_COMMAND.fullmatch(str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands = copy.deepcopy(commands)
        self.commands_by_scope[self._commands_key(p)] = copy.deepcopy(commands)
        return True

    # ---- Bot API: webhook and polling ---------------------------------------------------------

    @_api("setWebhook")
    async def _set_webhook(self, p: dict) -> bool:
        """Set (or, with an empty url, remove) the webhook; queued updates then go to it."""
        url = str(p.get("url", ""))
        secret = p.get("secret_token") or None
        if secret is not None:
            if len(secret) > 256:
                raise ApiError(400, "Bad Request: secret token is too long")
            if not _SECRET_TOKEN.fullmatch(secret):
                raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        max_connections = p.get("max_connections", 40)
        if not 1 <= max_connections <= 100:
            raise ApiError(400, "Bad Request: bad webhook: max_connections must be between 1 and 100")
        self._set_allowed_updates(p.get("allowed_updates"))
        if p.get("drop_pending_updates"):
            self._queue.clear()
        self.webhook = None if not url else {
            "url": url,
            "secret_token": secret,
            "allowed_updates": p.get("allowed_updates"),
            "max_connections": max_connections,
            "ip_address": p.get("ip_address"),
            "drop_pending_updates": bool(p.get("drop_pending_updates")),
            "has_custom_certificate": "certificate" in p,
        }
        if self.webhook and self._queue:
            task = asyncio.create_task(self._flush_queue_to_webhook())
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return True

    @_api("deleteWebhook")
    async def _delete_webhook(self, p: dict) -> bool:
        """Remove the webhook, switching back to getUpdates."""
        self.webhook = None
        if p.get("drop_pending_updates"):
            self._queue.clear()
        return True

    @_api("getWebhookInfo")
    async def _get_webhook_info(self, p: dict) -> dict:
        """The WebhookInfo object: url ("" when none), pending_update_count, the last delivery error."""
        info: dict[str, Any] = {"url": self.webhook["url"] if self.webhook else "",
                                "has_custom_certificate": bool(self.webhook and self.webhook["has_custom_certificate"]),
                                "pending_update_count": len(self._queue) + self._in_flight}
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["ip_address"]:
                info["ip_address"] = self.webhook["ip_address"]
            if self.webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        if self.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_last_error
        return info

    @_api("getUpdates")
    async def _get_updates(self, p: dict) -> list[dict]:
        """Long-poll the queue: confirm updates below offset, wait up to timeout for new ones."""
        if self.webhook is not None:
            raise ApiError(
                409, "Conflict: can't use getUpdates method while webhook is active; "
                     "use deleteWebhook to delete the webhook first"
            )
        self._set_allowed_updates(p.get("allowed_updates"))
        offset = p.get("offset")
        if offset is not None and offset < 0:
            while len(self._queue) > -offset:
                self._queue.popleft()
        elif offset is not None:
            while self._queue and self._queue[0]["update_id"] < offset:
                self._queue.popleft()
        limit = min(max(p.get("limit", 100), 1), 100)
        deadline = self.clock() + max(p.get("timeout", 0), 0)
        async with self._queue_changed:
            self._poll_generation += 1
            generation = self._poll_generation
            self._queue_changed.notify_all()
            while not self._queue and not self._closing and (remaining := deadline - self.clock()) > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._queue_changed.wait(), remaining)
                if generation != self._poll_generation:
                    raise ApiError(
                        409, "Conflict: terminated by other getUpdates request; "
                             "make sure that only one bot instance is running"
                    )
            return copy.deepcopy(list(self._queue)[:limit])

    # ---- helpers: chats, messages, limits -------------------------------------------------------

    def _writable_chat(self, chat_id: Any) -> dict:
        """The chat the bot may write to, or the error Telegram gives for it."""
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if chat_id in self._migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           parameters={"migrate_to_chat_id": self._migrated[chat_id]})
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat["type"] == "private":
            if chat_id in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self._started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _store_message(self, chat: dict, sender: dict, content: dict) -> dict:
        """Create a message with the chat's next message_id."""
        message_id = self._last_message_id.get(chat["id"], 0) + 1
        self._last_message_id[chat["id"]] = message_id
        message = {"message_id": message_id, "from": dict(sender), "chat": dict(chat), "date": int(time.time()),
                   **content}
        self._messages[(chat["id"], message_id)] = message
        return message

    def _send(self, p: dict, method: str, content: dict, *, counted: bool = True) -> dict:
        """Validate the target and markup, apply limits, store the bot's message, return its public view."""
        chat = self._writable_chat(p.get("chat_id"))
        markup = p.get("reply_markup")
        extra: dict[str, Any] = {}
        if markup is not None:
            if not isinstance(markup, dict):
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
            if "inline_keyboard" in markup:
                extra["reply_markup"] = self._valid_inline_keyboard(markup)
            else:
                extra["_reply_markup"] = self._valid_reply_keyboard(markup, chat)
        extra.update(self._reply_to(chat, p))
        if p.get("protect_content"):
            extra["has_protected_content"] = True
        if counted:
            self._take_send_slots(chat, method, 1)
        sender = {key: self.bot_user[key] for key in ("id", "is_bot", "first_name", "username")}
        message = self._store_message(chat, sender, {**content, **extra})
        message["_method"] = method
        if "photo" in message:
            message["_photo_bytes"] = self._files[message["photo"][-1]["file_id"]].content
        self._sent_ids.setdefault(chat["id"], []).append(message["message_id"])
        return _public(message)

    def _take_send_slots(self, chat: dict, method: str, count: int) -> None:
        """Let count messages through, or answer 429 and record the limit violation."""
        if not self.enforce_limits:
            return
        now = self.clock()
        refusal = self._limits.refusal(chat, now, count)
        if refusal:
            retry_after, reason = refusal
            self.limit_violations.append(f"{method} to chat {chat['id']}: {reason}; retry after {retry_after} s")
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}",
                           parameters={"retry_after": retry_after})
        self._limits.record(chat, now, count)

    def _reply_to(self, chat: dict, p: dict) -> dict:
        """The reply_to_message field for reply_parameters / reply_to_message_id."""
        reply = p.get("reply_parameters") or {}
        message_id = reply.get("message_id") if isinstance(reply, dict) else None
        message_id = message_id or p.get("reply_to_message_id")
        if not message_id:
            return {}
        original = self._messages.get((chat["id"], message_id))
        if original is None:
            if reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply"):
                return {}
            raise ApiError(400, "Bad Request: message to be replied not found")
        return {"reply_to_message": {k: v for k, v in _public(original).items() if k != "reply_to_message"}}

    def _message_to_edit(self, p: dict) -> dict:
        """The bot's message named by chat_id + message_id, or the error Telegram gives."""
        if "inline_message_id" in p:
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._writable_chat(p.get("chat_id"))
        message = self._messages.get((chat["id"], p.get("message_id")))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        return message

    def _apply_edit(self, message: dict, changes: dict) -> dict:
        """Apply changes (None removes a field), refusing a no-op edit like Telegram."""
        if all(message.get(key) == value for key, value in changes.items()):
            raise ApiError(
                400, "Bad Request: message is not modified: specified new message content and reply markup "
                     "are exactly the same as a current content and reply markup of the message"
            )
        for key, value in changes.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(time.time())
        return _public(message)

    # ---- helpers: content ---------------------------------------------------------------------

    def _text(self, p: dict) -> tuple[str, list[dict]]:
        """The message text, checked for emptiness and length."""
        text, entities = _format(str(p.get("text") or ""), p.get("parse_mode"))
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities

    @staticmethod
    def _caption(p: dict) -> dict:
        """The caption fields of a media message, checked for length."""
        if not p.get("caption"):
            return {}
        caption, entities = _format(str(p["caption"]), p.get("parse_mode"))
        if len(caption) > MAX_CAPTION_LENGTH:
            raise ApiError(400, "Bad Request: message caption is too long")
        if not caption:
            return {}
        return {"caption": caption, **({"caption_entities": entities} if entities else {})}

    @staticmethod
    def _location(p: dict) -> dict:
        """Latitude and longitude, required and range-checked."""
        for key in ("latitude", "longitude"):
            if not isinstance(p.get(key), (int, float)):
                raise ApiError(400, f'Bad Request: parameter "{key}" is required')
        if not (-90 <= p["latitude"] <= 90 and -180 <= p["longitude"] <= 180):
            raise ApiError(400, "Bad Request: wrong latitude/longitude specified")
        return {"latitude": p["latitude"], "longitude": p["longitude"]}

    def _inline_markup(self, p: dict) -> dict:
        """reply_markup for an edit: a valid inline keyboard, or None (which removes the keyboard)."""
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return {"reply_markup": self._valid_inline_keyboard(markup)}
        return {"reply_markup": None}

    @staticmethod
    def _valid_reply_keyboard(markup: dict, chat: dict) -> dict:
        """A reply keyboard (rows of text buttons; contact and location requests in private chats only), a removal
        or a force reply, as the Bot API accepts them."""
        if "keyboard" not in markup:
            return markup  # remove_keyboard / force_reply
        rows = markup.get("keyboard")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for button in (b for row in rows for b in row):
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text:
                raise ApiError(400, "Bad Request: can't parse keyboard button: Text buttons are unallowed empty")
            if isinstance(button, dict) and ("callback_data" in button or "url" in button):
                raise ApiError(400, "Bad Request: inline keyboard buttons are unallowed in the reply keyboard")
            if isinstance(button, dict) and (button.get("request_contact") or button.get("request_location")) \
                    and chat.get("type") != "private":
                raise ApiError(400, "Bad Request: contact and location requests are allowed only in private chats")
        return markup

    @staticmethod
    def _valid_inline_keyboard(markup: dict) -> dict:
        """Check an InlineKeyboardMarkup as Telegram does (callback_data 1-64 bytes, no plain text buttons)."""
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an "
                                "Object")
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or "text" not in button:
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: Field \"text\" must be of "
                                    "type String")
            if len(button) == 1:
                raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return copy.deepcopy(markup)

    async def _outgoing_photo(self, photo: Any) -> list[dict]:
        """PhotoSizes for a photo the bot sends: uploaded bytes, a known file_id, or a URL to fetch."""
        if isinstance(photo, str) and photo.startswith(("http://", "https://")):
            try:
                response = await self._http.get(photo) if self._http else None
            except httpx.HTTPError:
                response = None
            if response is None or response.status_code != 200:
                raise ApiError(400, "Bad Request: failed to get HTTP URL content")
            photo = response.content
        if isinstance(photo, str):
            stored = self._files.get(photo)
            if stored is None:
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return self._photo_sizes(stored.content, original=(photo, stored.unique_id))
        if not isinstance(photo, bytes):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if len(photo) > MAX_PHOTO_UPLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        if _image_info(photo) is None:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        return self._photo_sizes(photo)

    def _photo_sizes(self, content: bytes, original: tuple[str, str] | None = None) -> list[dict]:
        """Three PhotoSizes (90 px, 320 px, then the original bytes); reused for the same original file."""
        if original and original[1] in self._photo_sets:
            return copy.deepcopy(self._photo_sets[original[1]])
        info = _image_info(content)
        if info:
            image, _ = info
            variants = [_thumbnail(image, 90), _thumbnail(image, 320), (content, image.width, image.height)]
        else:
            variants = [(content, 90, 68), (content, 320, 240), (content, 1280, 960)]
        sizes = []
        for index, (data, width, height) in enumerate(variants):
            is_original = index == len(variants) - 1
            if is_original and original:
                file_id, unique_id = original
            else:
                file_id, unique_id = self._store_file(data, "photos", "jpg")
            sizes.append({"file_id": file_id, "file_unique_id": unique_id, "file_size": len(data),
                          "width": width, "height": height})
        self._photo_sets[sizes[-1]["file_unique_id"]] = sizes
        return copy.deepcopy(sizes)

    def _store_file(
        self, content: bytes, folder: str, extension: str, unique_id: str | None = None
    ) -> tuple[str, str]:
        """Keep bytes under a new file_id and a download path like "photos/file_7.jpg"."""
        file_id, unique_id = _new_file_id(), unique_id or _new_unique_id()
        path = f"{folder}/file_{len(self._files)}" + (f".{extension}" if extension else "")
        stored = _StoredFile(content, unique_id, path)
        self._files[file_id] = self._files_by_path[path] = stored
        return file_id, unique_id

    def _commands_key(self, p: dict) -> tuple[str, str]:
        """The (scope, language) a command menu belongs to, e.g. ("chat:-100123", "id")."""
        scope = p.get("scope") if isinstance(p.get("scope"), dict) else {"type": "default"}
        key = ":".join(str(scope[k]) for k in ("type", "chat_id", "user_id") if k in scope)
        return key, str(p.get("language_code") or "")

    # ---- helpers: updates ---------------------------------------------------------------------

    async def _user_message(self, user_id: int, chat_id: int | None, content: dict) -> dict:
        """Store a person's message in a chat and deliver it as an Update."""
        user = self._users.get(user_id) or self.user(user_id)
        if chat_id is None or chat_id == user_id:
            self.start_private(user_id)
            chat = self._chats[user_id]
        elif chat_id in self._chats:
            chat = self._chats[chat_id]
        else:
            raise ValueError(f"unknown chat {chat_id}: register it with fake.group() first")
        message = self._store_message(chat, user, content)
        return await self._deliver_new({"message": _public(message)})

    async def _deliver_new(self, payload: dict) -> dict:
        """Wrap a payload in an Update with the next update_id, deliver it, return it."""
        update = {"update_id": self._next_update_id, **payload}
        await self.deliver(update)
        return update

    def _set_allowed_updates(self, allowed: Any) -> None:
        """Remember allowed_updates: a list replaces the setting, [] restores the default, None keeps it."""
        if allowed is None:
            return
        if not isinstance(allowed, list):
            raise ApiError(400, "Bad Request: can't parse allowed updates")
        self._allowed_updates = frozenset(allowed) or None

    def _wants(self, kind: str) -> bool:
        """Whether the bot currently receives updates of this type."""
        if self._allowed_updates is not None:
            return kind in self._allowed_updates
        return kind not in DEFAULT_EXCLUDED_UPDATES

    async def _post_to_webhook(self, update: dict) -> int:
        """POST one update to the webhook, retrying non-2xx answers and network errors."""
        assert self.webhook is not None and self._http is not None
        headers = {"Content-Type": "application/json"}
        if self.webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        body = json.dumps(update, ensure_ascii=False).encode()
        status = NETWORK_FAILURE_STATUS
        self._in_flight += 1
        try:
            for attempt in range(self.webhook_max_attempts):
                if attempt:
                    await asyncio.sleep(self.webhook_retry_delay)
                try:
                    url = self.webhook["url"]
                    if self.webhook_targets:
                        url = self.webhook_targets[self._next_target % len(self.webhook_targets)]
                        self._next_target += 1
                    response = await self._http.post(url, content=body, headers=headers)
                except httpx.HTTPError as error:  # a timeout or no connection: no HTTP answer
                    status = NETWORK_FAILURE_STATUS
                    timed_out = isinstance(error, httpx.TimeoutException)
                    self.webhook_last_error = (int(time.time()),
                                               "Read timeout expired" if timed_out else "Connection refused")
                else:
                    status = response.status_code
                    if 200 <= status <= 299:
                        return status
                    self.webhook_last_error = (int(time.time()),
                                               f"Wrong response from the webhook: {status} {_phrase(status)}")
            return status
        finally:
            self._in_flight -= 1

    async def _flush_queue_to_webhook(self) -> None:
        """Send updates queued before the webhook was set, in order."""
        async with self._delivery_lock:
            while self._queue and self.webhook is not None:
                await self._post_to_webhook(self._queue.popleft())


def _phrase(code: int) -> str:
    """The reason phrase of an HTTP status code."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"

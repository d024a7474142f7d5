"""A fake WhatsApp Cloud API (Graph API) server, so end-to-end tests can drive the real pywa client.

The real ``pywa_async.WhatsApp`` talks to it over HTTP. pywa hard-codes ``https://graph.facebook.com/v{version}``
as the base URL of its httpx session, so a client is re-pointed after construction::

    fake = FakeWhatsApp()
    await fake.start()
    wa = WhatsApp(phone_id=fake.phone_number_id, token=fake.token, api_version="23.0")
    wa.api._session.base_url = f"{fake.base_url}/v23.0"
    fake.webhook_url = "http://127.0.0.1:8000/webhooks/whatsapp"

and the fake plays the citizens and crews: ``send_text``/``send_image``/``press_button``/... build real-shaped
webhook notifications, sign them with the app secret and POST them to ``webhook_url`` (retrying non-2xx).
``recorded(name)`` loads a payload of tests/data/whatsapp/ re-addressed to this fake; ``deliver()`` posts any
notification (forged signatures, raw bytes, duplicates). ``sent(who)``, ``calls`` and ``limit_violations``
show what the product did; ``fail_next()`` injects Graph errors; ``reset()`` clears everything between tests.

Graph endpoints served (any ``vNN.N`` version prefix, or none):

- ``POST /{phone_number_id}/messages``: text, image, document, audio, video, sticker, location, interactive
  (button, list, location_request_message, cta_url), template.
- ``POST /{phone_number_id}/media``: multipart upload, answers ``{"id": media_id}``.
- ``GET /{media_id}``: the media URL (valid ``media_url_ttl`` seconds, bearer token required to download).
- ``GET /{phone_number_id}``: the business number's fields (``?fields=display_phone_number,verified_name,
  quality_rating,…``; ``quality_rating`` is settable), as `siaga doctor` reads them.
- ``GET /media-download/{token}``: the bytes behind a media URL.

Errors have Graph's shape (``{"error": {"message", "type", "code", "error_data": {"details"}, "fbtrace_id"}}``)
and codes, so pywa raises its typed exceptions: 100 for missing/malformed parameters (plain ``WhatsAppError``;
unknown object ids add ``error_subcode`` 33), 131009 for values over Meta's limits such as a 4th reply button or
a 21-character title (``InvalidParameter``), 131047 outside the 24-hour window (``ReEngagementMessage``),
131056 pair rate (``TooManyMessages``), 130429 throughput (``RateLimitHit``), 132001 unknown template
(``TemplateNotExists``), 131053 media problems (``MediaUploadError``), 190 with HTTP 401 for a wrong token
(``ExpiredAccessToken``).

Deliberate differences from the real platform: webhooks may be plain ``http://``; a notification that keeps
failing is dropped after ``webhook_max_attempts`` (Meta retries for 7 days); deliveries are sequential (Meta
sends concurrently and out of order — use ``status_sequence`` to reorder statuses); a free-form message outside
the 24-hour window is refused synchronously with 131047 unless ``reengagement_as_status`` is set, in which case
it is accepted and a ``failed`` status with 131047 follows, as Meta usually does; throughput and pair limits are
strict sliding windows (Meta allows short bursts); templates are known by name only (any language), their
quick-reply button labels optionally via ``template_buttons``; groups are not supported.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import io
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.telegram_api import LocalServer

__all__ = ["Call", "FakeWhatsApp", "GraphError"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "whatsapp"
MESSAGES_PER_SECOND = 80
PAIR_INTERVAL = 6.0
SERVICE_WINDOW = 24 * 3600.0
MEDIA_URL_TTL = 300.0
WEBHOOK_TIMEOUT = 20.0
NETWORK_FAILURE_STATUS = 599

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_INTERACTIVE_BODY = 1024
MAX_HEADER_TEXT = 60
MAX_FOOTER_TEXT = 60
MAX_REPLY_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_LIST_BUTTON = 20
MAX_SECTIONS = 10
MAX_LIST_ROWS = 10
MAX_SECTION_TITLE = 24
MAX_ROW_TITLE = 24
MAX_ROW_ID = 200
MAX_ROW_DESCRIPTION = 72
MAX_TRACKER = 512

_MB = 1024 * 1024
# kind: (accepted MIME types, max bytes) — Meta's "Supported media types" table.
MEDIA_KINDS: dict[str, tuple[frozenset[str], int]] = {
    "image": (frozenset({"image/jpeg", "image/png"}), 5 * _MB),
    "sticker": (frozenset({"image/webp"}), 500 * 1024),
    "audio": (frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}), 16 * _MB),
    "video": (frozenset({"video/mp4", "video/3gpp"}), 16 * _MB),
    "document": (
        frozenset(
            {
                "text/plain", "application/pdf", "application/msword", "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
        100 * _MB,
    ),
}
_CAPTIONED = frozenset({"image", "video", "document"})

_VERSION = re.compile(r"v\d+(\.\d+)?")
# Meta: "{ISO 3166 alpha-2}.{up to 128 alphanumerics}"; pywa only recognises "CC.<digits>" as a BSUID.
_BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9]{1,128}")
_PHONE_PUNCTUATION = re.compile(r"[+\-\s()]")

# code: (message, error_data.details, title used in failed-status webhooks)
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    4: ("(#4) Application request limit reached", None, "Too many API calls"),
    100: ("(#100) Invalid parameter", None, "Invalid parameter"),
    190: ("Invalid OAuth access token - Cannot parse access token", None, "Access token has expired"),
    130429: ("(#130429) Rate limit hit", "Cloud API message throughput has been reached.", "Rate limit hit"),
    131000: ("(#131000) Something went wrong", "Something went wrong", "Something went wrong"),
    131008: ("(#131008) Required parameter is missing", None, "Required parameter is missing"),
    131009: ("(#131009) Parameter value is not valid", None, "Parameter value is not valid"),
    131026: ("(#131026) Message undeliverable", "Message Undeliverable.", "Message undeliverable"),
    131047: (
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to "
        "this number.",
        "Re-engagement message",
    ),
    131048: (
        "(#131048) Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be sent from this "
        "phone number. This may be because too many previous messages were blocked or flagged as spam.",
        "Spam rate limit hit",
    ),
    131053: ("(#131053) Media upload error", None, "Media upload error"),
    131056: (
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number to the same "
        "phone number in a short period of time.",
        "(Business Account, Consumer Account) pair rate limit hit",
    ),
    132000: ("(#132000) Number of parameters does not match the expected number of params", None,
             "Template Param Count Mismatch"),
    132001: ("(#132001) Template name does not exist in the translation", None, "Template name does not exist"),
    133016: ("(#133016) Account register deregister rate limit exceeded", None, "Rate limit exceeded"),
}
_ERROR_HREF = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"


# --------------------------------------------------------------------------------------------------
# Records and errors


@dataclass
class Call:
    """One Graph request as the fake saw it: body is the parsed JSON, or a dict of the multipart form fields."""

    method: str
    path: str
    body: Any
    status: int = 0
    at: float = 0.0
    response: Any = None


class GraphError(Exception):
    """A Graph API error answer; raised inside a handler and rendered as Meta renders it."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        message: str | None = None,
        http_status: int = 400,
        subcode: int | None = None,
        kind: str = "OAuthException",
    ) -> None:
        default_message, default_details, _ = _ERRORS.get(code, (f"(#{code}) Error", None, "Error"))
        self.code = code
        self.message = message or default_message
        self.details = details if details is not None else default_details
        self.http_status = http_status
        self.subcode = subcode
        self.kind = kind
        super().__init__(f"{self.message}: {self.details}" if self.details else self.message)

    def payload(self) -> dict:
        """Render the error exactly as Graph does."""
        error: dict[str, Any] = {"message": self.message, "type": self.kind, "code": self.code}
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = _fbtrace_id()
        return {"error": error}


def _status_error(code: int) -> dict:
    """An entry of ``statuses[].errors`` of a failed-status webhook."""
    _message, details, title = _ERRORS.get(code, (f"(#{code}) Error", None, "Error"))
    return {"code": code, "title": title, "message": title,
            "error_data": {"details": details or title}, "href": _ERROR_HREF}


@dataclass
class _User:
    """A WhatsApp user as the fake knows them: identifiers, profile name and 24-hour window state."""

    wa_id: str | None
    user_id: str | None
    name: str
    last_inbound: float | None = None
    last_outbound: float | None = None
    sent: list[dict] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.user_id or self.wa_id or ""

    def contact(self) -> dict:
        """The ``contacts[]`` entry of a webhook notification (wa_id and/or user_id, as registered)."""
        contact: dict[str, Any] = {"profile": {"name": self.name}}
        if self.wa_id:
            contact["wa_id"] = self.wa_id
        if self.user_id:
            contact["user_id"] = self.user_id
        return contact

    def matches(self, who: str | None) -> bool:
        return who is not None and who in (self.wa_id, self.user_id)


@dataclass
class _Media:
    """Bytes behind a media id, uploaded by the business or sent by a user."""

    media_id: str
    content: bytes
    mime_type: str
    filename: str | None
    origin: str

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def sha256_b64(self) -> str:
        return base64.b64encode(hashlib.sha256(self.content).digest()).decode()


@dataclass
class _Fault:
    """An injected error waiting for its next matching message send."""

    error: GraphError
    remaining: int
    to: str | None


# --------------------------------------------------------------------------------------------------
# Helpers


def _fbtrace_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(17)).decode().rstrip("=").replace("-", "A").replace("_", "B")


def _new_wamid(ident: str) -> str:
    """A message id shaped like Meta's: base64 of a small protobuf-like record naming the user ("HBgN…")."""
    raw = (b"\x1c\x18" + bytes([len(ident) & 0x7F]) + ident.encode() + b"\x15\x02\x00\x12\x18\x14"
           + secrets.token_hex(10).upper().encode() + b"\x00")
    return "wamid." + base64.b64encode(raw).decode()


def _new_media_id() -> str:
    return str(10**15 + secrets.randbelow(9 * 10**15))


def _now_str() -> str:
    return str(int(time.time()))


def _meta_json(payload: Any) -> bytes:
    """Serialise like Meta's webhooks: compact, non-ASCII as \\uXXXX and "/" as "\\/" — verify the raw bytes."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def _normalize_mime(mime: str | None) -> str:
    return (mime or "").split(";", 1)[0].strip().lower()


def _media_kind(mime: str) -> str | None:
    return next((kind for kind, (types, _) in MEDIA_KINDS.items() if _normalize_mime(mime) in types), None)


def _is_image(content: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception:  # noqa: BLE001 - Pillow raises many types for junk
        return False
    return True


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
    """Split multipart/form-data into text fields and files {name: (filename, content_type, bytes)}."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise GraphError(100, "Could not parse the multipart/form-data body")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in body.split(b"--" + match.group(1).encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = re.search(r'(?:^|[;\s])name="([^"]*)"', disposition)
        if not name:
            continue
        filename = re.search(r'filename="([^"]*)"', disposition)
        if filename:
            files[name.group(1)] = (filename.group(1), headers.get("content-type", ""), content)
        else:
            fields[name.group(1)] = content.decode("utf-8")
    return fields, files


def _require(container: Any, key: str, where: str) -> Any:
    """A required parameter, or Graph's "(#100) The parameter … is required." error."""
    value = container.get(key) if isinstance(container, dict) else None
    if value in (None, "", [], {}):
        raise GraphError(100, message=f"(#100) The parameter {where} is required.")
    return value


def _check_length(value: Any, low: int, high: int, what: str) -> str:
    """A string of low..high characters, else 131009 with Meta's "… length invalid" details."""
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise GraphError(131009, f"{what} length invalid. Min length: {low}, Max length: {high}")
    return value


def _forget_before(window: deque[float], cutoff: float) -> None:
    while window and window[0] <= cutoff:
        window.popleft()


_AUTO = object()


# --------------------------------------------------------------------------------------------------
# The fake


class FakeWhatsApp:
    """A WhatsApp Cloud API server with users, media, templates, limits and signed webhooks, for end-to-end tests."""

    def __init__(
        self,
        *,
        token: str = "TEST-WA-TOKEN",
        phone_number_id: str = "1000000001",
        app_secret: str = "test-app-secret",
        display_phone_number: str = "6281100000112",
        enforce_limits: bool = True,
        webhook_max_attempts: int = 5,
        webhook_retry_delay: float = 0.05,
        waba_id: str = "1000000000000009",
    ) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.app_secret = app_secret
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        self.base_url = ""
        self._settings = {"enforce_limits": enforce_limits, "webhook_max_attempts": webhook_max_attempts,
                          "webhook_retry_delay": webhook_retry_delay}
        self._background: set[asyncio.Task] = set()
        self._http: httpx.AsyncClient | None = None
        self._server = LocalServer(
            Starlette(
                routes=[
                    Route("/media-download/{token}", self._handle_download, methods=["GET"]),
                    Route("/{path:path}", self._handle_graph, methods=["GET", "POST", "DELETE"]),
                ]
            )
        )
        self._reset_state()

    def _reset_state(self) -> None:
        """Settings back to the constructor's, and no users, messages, media, calls, faults or limits."""
        self.verified_name = "Siaga 112"
        self.quality_rating = "GREEN"  # GREEN | YELLOW | RED | UNKNOWN, as Meta rates the business number
        self.enforce_limits: bool = self._settings["enforce_limits"]
        self.enforce_window = True
        self.messages_per_second = MESSAGES_PER_SECOND
        self.pair_interval = PAIR_INTERVAL
        self.webhook_max_attempts: int = self._settings["webhook_max_attempts"]
        self.webhook_retry_delay: float = self._settings["webhook_retry_delay"]
        self.webhook_timeout = WEBHOOK_TIMEOUT
        self.webhook_url: str | None = None
        self.send_statuses = False
        self.status_sequence: tuple[str, ...] = ("sent", "delivered", "read")
        self.reengagement_as_status = False
        self.media_url_ttl = MEDIA_URL_TTL
        self.clock: Callable[[], float] = time.monotonic

        self.templates: set[str] = set()
        self.template_buttons: dict[str, list[str]] = {}
        self.calls: list[Call] = []
        self.limit_violations: list[str] = []
        self.notifications: list[dict] = []  # every notification delivered (or attempted), in order
        self.undelivered: list[dict] = []  # built while webhook_url was None
        self.delivery_log: list[int] = []  # the HTTP status of every webhook POST attempt (599: no answer)

        self._users: list[_User] = []
        self._inbound: dict[str, tuple[_User, dict]] = {}
        self._outbound: dict[str, tuple[_User, dict]] = {}
        self._outbox: list[dict] = []
        self._media: dict[str, _Media] = {}
        self._media_urls: dict[str, tuple[str, float]] = {}
        self._faults: list[_Fault] = []
        self._recent: deque[float] = deque()
        self._delivery_lock = asyncio.Lock()

    # ---- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve on a free localhost port; returns once connections are accepted."""
        self._http = httpx.AsyncClient(timeout=self.webhook_timeout, verify=False)
        self.base_url = await self._server.start()

    async def stop(self) -> None:
        """Cancel background deliveries and stop serving."""
        await self._cancel_background()
        await self._server.stop()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> FakeWhatsApp:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def reset(self) -> None:
        """Forget everything (users, messages, media, calls, faults, limits, settings) but keep serving on the
        same port — cheaper than a new fake per test (stopping a uvicorn server costs 0.1 s)."""
        await self._cancel_background()
        self._reset_state()

    async def _cancel_background(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def flush(self) -> None:
        """Wait until background deliveries (status notifications) are done."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # ---- people -------------------------------------------------------------------------------

    def user(self, wa_id: str | None, name: str = "Warga", *, user_id: str | None = None) -> dict:
        """Register (or update) a WhatsApp user; returns their webhook ``contacts[]`` entry.

        wa_id is the phone number in digits; user_id the business-scoped user id ("ID.1234…"). Since 2026 a
        user may have only a user_id. Notifications carry exactly the identifiers registered here.
        """
        if wa_id is None and user_id is None:
            raise ValueError("a user needs a wa_id, a user_id or both")
        if wa_id is not None and not str(wa_id).isdigit():
            raise ValueError(f"wa_id must be digits, got {wa_id!r}")
        if user_id is not None and not _BSUID.fullmatch(user_id):
            raise ValueError(f"user_id must look like 'ID.13491208655302741918', got {user_id!r}")
        wa_id = str(wa_id) if wa_id is not None else None
        existing = self._find(wa_id) or self._find(user_id)
        if existing is None:
            existing = _User(wa_id=wa_id, user_id=user_id, name=name)
            self._users.append(existing)
        else:
            existing.name = name
            existing.wa_id = wa_id or existing.wa_id
            existing.user_id = user_id or existing.user_id
        return existing.contact()

    def expire_window(self, who: str) -> None:
        """Move the user's last message back 25 h: the 24-hour customer service window is closed."""
        user = self._registered(who)
        if user.last_inbound is not None:
            user.last_inbound -= 25 * 3600.0

    def window_open(self, who: str) -> bool:
        """Whether free-form messages may be sent to this user now."""
        return self._window_open(self._registered(who), self.clock())

    # ---- the user side ------------------------------------------------------------------------

    async def send_text(self, who: str, text: str) -> dict:
        """Deliver a text message from a user; returns the notification."""
        return await self._user_message(who, {"type": "text", "text": {"body": text}})

    async def send_texts(self, who: str, *texts: str) -> dict:
        """Deliver several text messages in ONE notification (one change, several messages[]), as Meta may."""
        user = self._registered(who)
        messages = [self._inbound_message(user, {"type": "text", "text": {"body": text}}) for text in texts]
        return await self._deliver_user_messages(user, messages)

    async def send_image(
        self, who: str, image: bytes, *, mime_type: str = "image/jpeg", caption: str | None = None
    ) -> dict:
        """Deliver a photo (stored as media, downloadable via GET /{media_id}); returns the notification."""
        media = self.add_media(image, mime_type=mime_type, origin="user")
        body: dict[str, Any] = {"mime_type": mime_type, "sha256": media.sha256_b64, "id": media.media_id}
        if caption is not None:
            body = {"caption": caption, **body}
        return await self._user_message(who, {"type": "image", "image": body})

    async def send_document(
        self, who: str, content: bytes, *, filename: str = "file.pdf", mime_type: str = "application/pdf"
    ) -> dict:
        """Deliver a document; returns the notification."""
        media = self.add_media(content, mime_type=mime_type, filename=filename, origin="user")
        document = {"filename": filename, "mime_type": mime_type, "sha256": media.sha256_b64,
                    "id": media.media_id}
        return await self._user_message(who, {"type": "document", "document": document})

    async def send_location(
        self, who: str, latitude: float, longitude: float, *, name: str | None = None, address: str | None = None
    ) -> dict:
        """Deliver a shared location (a pinned place when name/address are given); returns the notification."""
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if address is not None:
            location["address"] = address
        if name is not None:
            location["name"] = name
        return await self._user_message(who, {"type": "location", "location": location})

    async def send_voice(self, who: str) -> dict:
        """Deliver a voice note (audio with voice=true); returns the notification."""
        content = b"OggS\x00\x02" + secrets.token_bytes(2048)
        media = self.add_media(content, mime_type="audio/ogg; codecs=opus", origin="user")
        audio = {"mime_type": "audio/ogg; codecs=opus", "sha256": media.sha256_b64, "id": media.media_id,
                 "voice": True}
        return await self._user_message(who, {"type": "audio", "audio": audio})

    async def send_sticker(self, who: str) -> dict:
        """Deliver a (static) sticker; returns the notification."""
        content = b"RIFF\x00\x10\x00\x00WEBPVP8 " + secrets.token_bytes(1024)
        media = self.add_media(content, mime_type="image/webp", origin="user")
        sticker = {"mime_type": "image/webp", "sha256": media.sha256_b64, "id": media.media_id,
                   "animated": False}
        return await self._user_message(who, {"type": "sticker", "sticker": sticker})

    async def press_button(self, who: str, message_id: str, button_id: str) -> dict:
        """Press a reply button of an interactive message the business sent to this user."""
        sent = self._sent_message(who, message_id)
        interactive = sent.get("interactive") or {}
        if interactive.get("type") != "button":
            raise ValueError(f"message {message_id} is not an interactive button message")
        titles = {b["reply"]["id"]: b["reply"]["title"] for b in interactive["action"]["buttons"]}
        if button_id not in titles:
            raise ValueError(f"message {message_id} has no button {button_id!r} (has {sorted(titles)})")
        reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": titles[button_id]}}
        return await self._user_message(who, {"type": "interactive", "interactive": reply}, context=message_id)

    async def share_contact(self, who: str, phone: str, *, origin: str = "contact_request", name: str = "Warga",
                            message_id: str | None = None) -> dict:
        """The user shares a contact card: their own number by tapping the button of a request_contact_info
        message we sent (`origin` "contact_request", `message_id` that message or the latest such), or any card
        from their address book (`origin` "other"). The card's wa_id is the number's digits."""
        context = None
        if origin == "contact_request":
            asked = [m for m in self.sent(who) if (m.get("interactive") or {}).get("type") == "request_contact_info"]
            if not asked:
                raise ValueError(f"no request_contact_info message was sent to {who}")
            context = message_id or asked[-1]["_id"]
        card = {"name": {"formatted_name": name, "first_name": name}, "origin": origin,
                "phones": [{"phone": phone, "wa_id": re.sub(r"\D", "", phone), "type": "CELL"}]}
        return await self._user_message(who, {"type": "contacts", "contacts": [card]}, context=context)

    async def pick_list_row(self, who: str, message_id: str, row_id: str) -> dict:
        """Pick a row of an interactive list message the business sent to this user."""
        sent = self._sent_message(who, message_id)
        interactive = sent.get("interactive") or {}
        if interactive.get("type") != "list":
            raise ValueError(f"message {message_id} is not an interactive list message")
        rows = {row["id"]: row for section in interactive["action"]["sections"] for row in section["rows"]}
        if row_id not in rows:
            raise ValueError(f"message {message_id} has no row {row_id!r} (has {sorted(rows)})")
        picked = {"id": row_id, "title": rows[row_id]["title"]}
        if rows[row_id].get("description"):
            picked["description"] = rows[row_id]["description"]
        reply = {"type": "list_reply", "list_reply": picked}
        return await self._user_message(who, {"type": "interactive", "interactive": reply}, context=message_id)

    async def press_quick_reply(self, who: str, message_id: str, payload: str, *, text: str | None = None) -> dict:
        """Press a quick-reply button of a template the business sent: a ``type: "button"`` message.

        text is the button's label: given here, else from ``template_buttons[name][index]``, else the payload.
        """
        sent = self._sent_message(who, message_id)
        template = sent.get("template")
        if not template:
            raise ValueError(f"message {message_id} is not a template message")
        offered = {
            parameter.get("payload"): component.get("index")
            for component in template.get("components") or []
            if str(component.get("type")).lower() == "button"
            and str(component.get("sub_type")).lower() == "quick_reply"
            for parameter in component.get("parameters") or []
        }
        if offered and payload not in offered:
            raise ValueError(f"template message {message_id} has no quick reply {payload!r} (has {sorted(offered)})")
        if text is None:
            labels = self.template_buttons.get(template["name"], [])
            index = int(offered.get(payload) or 0)
            text = labels[index] if index < len(labels) else payload
        content = {"type": "button", "button": {"payload": payload, "text": text}}
        return await self._user_message(who, content, context=message_id)

    async def deliver(self, notification: dict, *, signature: Any = _AUTO, raw: bytes | None = None) -> int:
        """POST a notification as-is; returns the final HTTP status (0 when no webhook_url, 599 no answer).

        signature: default signs the raw body with app_secret; None omits the header; a string is sent as the
        X-Hub-Signature-256 value (forgery tests). raw: send these bytes instead of the serialised notification.
        A genuinely signed notification with messages[] also registers its sender (from contacts[]) and opens
        their 24-hour window, so recorded payloads work like typed messages.
        """
        body = raw if raw is not None else _meta_json(notification)
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature is _AUTO:
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(self.app_secret.encode(), body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature-256"] = self.sign(body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        if signature is _AUTO and raw is None:
            self._observe(notification)
        self.notifications.append(notification)
        if self.webhook_url is None:
            self.undelivered.append(notification)
            return 0
        async with self._delivery_lock:
            return await self._post(body, headers)

    async def redeliver(self, notification: dict) -> int:
        """Deliver the same notification again (same message ids), as Meta does after a failure or at random."""
        return await self.deliver(copy.deepcopy(notification))

    async def send_status(self, message_id: str, status: str, *, error_code: int | None = None) -> dict:
        """Deliver a status notification (sent/delivered/read/failed) for a message the business sent."""
        if message_id not in self._outbound:
            raise ValueError(f"no outbound message {message_id}")
        user, body = self._outbound[message_id]
        notification = self._status_notification(user, message_id, body, status, error_code=error_code)
        await self.deliver(notification)
        return notification

    def recorded(self, name: str) -> dict:
        """A recorded-shape notification from tests/data/whatsapp/{name}.json, re-addressed to this fake's
        business account and number (so an app configured with this fake's phone_number_id accepts it)."""
        notification = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
        for entry in notification["entry"]:
            entry["id"] = self.waba_id
            for change in entry["changes"]:
                change["value"]["metadata"] = self._metadata()
        return notification

    def sign(self, body: bytes) -> str:
        """The X-Hub-Signature-256 value Meta sends for this raw body."""
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    # ---- media --------------------------------------------------------------------------------

    def add_media(
        self, content: bytes, *, mime_type: str, filename: str | None = None, origin: str = "business"
    ) -> _Media:
        """Store bytes under a new media id."""
        media = _Media(_new_media_id(), content, mime_type, filename, origin)
        self._media[media.media_id] = media
        return media

    def media_bytes(self, media_id: str) -> bytes:
        """The bytes behind a media id (uploaded or sent by a user)."""
        return self._media[media_id].content

    # ---- inspection ---------------------------------------------------------------------------

    def sent(self, who: str) -> list[dict]:
        """Accepted outbound message bodies to this user, in order, each with "_id" (the wamid); media
        messages also carry "_media_bytes" and "_mime_type", images "_image_bytes"."""
        user = self._find(who)
        return copy.deepcopy(user.sent) if user else []

    def all_sent(self) -> list[dict]:
        """Every accepted outbound message body, in order."""
        return copy.deepcopy(self._outbox)

    # ---- fault injection ----------------------------------------------------------------------

    def fail_next(self, *, code: int = 130429, count: int = 1, to: str | None = None, http_status: int = 400) -> None:
        """Make the next count message sends (to this wa_id/user_id, if given) fail with this Graph error."""
        self._faults.append(_Fault(GraphError(code, http_status=http_status), count, to))

    # ---- HTTP ---------------------------------------------------------------------------------

    async def _handle_graph(self, request: Request) -> Response:
        """Route one Graph call, record it, answer with Graph's envelope."""
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        call = Call(method=request.method, path=request.url.path, body=self._describe_body(raw, content_type),
                    at=self.clock())
        self.calls.append(call)
        try:
            segments = [s for s in request.path_params["path"].split("/") if s]
            if segments and _VERSION.fullmatch(segments[0]):
                segments = segments[1:]
            self._check_token(request)
            if request.method == "POST" and len(segments) == 2 and segments[1] == "messages":
                self._check_phone(segments[0], request.method)
                result = await self._messages(self._json(raw))
            elif request.method == "POST" and len(segments) == 2 and segments[1] == "media":
                self._check_phone(segments[0], request.method)
                result = self._upload(raw, content_type)
            elif request.method == "GET" and len(segments) == 1 and segments[0] == self.phone_number_id:
                result = self._phone_number(request.query_params.get("fields"))
            elif request.method == "GET" and len(segments) == 1:
                result = self._media_url(segments[0])
            else:
                raise _unsupported(request.method, "/".join(segments))
            call.status = 200
        except GraphError as error:
            result, call.status = error.payload(), error.http_status
        call.response = result
        return JSONResponse(result, status_code=call.status)

    async def _handle_download(self, request: Request) -> Response:
        """Serve a media URL's bytes: bearer token required, valid media_url_ttl seconds."""
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Response("Unauthorized", status_code=401, media_type="text/plain")
        entry = self._media_urls.get(request.path_params["token"])
        if entry is None or self.clock() > entry[1] or entry[0] not in self._media:
            return Response("Not Found", status_code=404, media_type="text/plain")
        media = self._media[entry[0]]
        headers = {}
        if media.filename:
            headers["Content-Disposition"] = f'attachment; filename="{media.filename}"'
        return Response(media.content, media_type=media.mime_type, headers=headers)

    def _check_token(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else request.query_params.get("access_token")
        if not token:
            raise GraphError(190, message="An active access token must be used to query information about the "
                                          "current application.", http_status=401)
        if token != self.token:
            raise GraphError(190, http_status=401)

    def _check_phone(self, phone_id: str, method: str) -> None:
        if phone_id != self.phone_number_id:
            raise _unsupported(method, phone_id)

    @staticmethod
    def _json(raw: bytes) -> dict:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise GraphError(100, "The request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise GraphError(100, "The request body must be a JSON object")
        return body

    @staticmethod
    def _describe_body(raw: bytes, content_type: str) -> Any:
        """What Call.body shows: parsed JSON, the multipart form (file described, not its bytes), or text."""
        if content_type.startswith("multipart/form-data"):
            try:
                fields, files = _parse_multipart(raw, content_type)
            except GraphError:
                return raw.decode("utf-8", "replace")
            form: dict[str, Any] = dict(fields)
            for name, (filename, part_type, content) in files.items():
                form[name] = {"filename": filename, "content_type": part_type, "size": len(content)}
            return form
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    # ---- Graph: messages ------------------------------------------------------------------------

    async def _messages(self, body: dict) -> dict:
        """POST /{phone_number_id}/messages: a message (the product sends no read receipts)."""
        if body.get("messaging_product") != "whatsapp":
            raise GraphError(100, message="(#100) The parameter messaging_product is required.")
        user, contact = self._recipient(body)
        self._raise_injected_fault(user)
        kind = body.get("type", "text")
        extras = await self._validate_content(kind, body)
        tracker = body.get("biz_opaque_callback_data")
        if tracker is not None and (not isinstance(tracker, str) or len(tracker) > MAX_TRACKER):
            raise GraphError(131009, f"biz_opaque_callback_data length invalid. Max length: {MAX_TRACKER}")
        context = body.get("context")
        if context is not None and not isinstance((context or {}).get("message_id"), str):
            raise GraphError(100, message="(#100) The parameter context['message_id'] is required.")
        now = self.clock()
        outside_window = kind != "template" and self.enforce_window and not self._window_open(user, now)
        if outside_window and not self.reengagement_as_status:
            raise GraphError(131047)
        self._take_send_slot(user, now, kind)
        wamid = _new_wamid(user.wa_id or user.user_id or "")
        record = {**copy.deepcopy(body), "_id": wamid, **extras}
        user.sent.append(record)
        self._outbox.append(record)
        self._outbound[wamid] = (user, record)
        if outside_window:
            self._spawn(self._post_statuses(user, wamid, record, ("failed",), error_code=131047))
        elif self.send_statuses:
            self._spawn(self._post_statuses(user, wamid, record, self.status_sequence))
        message: dict[str, Any] = {"id": wamid}
        if kind == "template":
            message["message_status"] = "accepted"
        return {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}

    def _recipient(self, body: dict) -> tuple[_User, dict]:
        """The user named by "to" (phone/wa_id, or a BSUID) or "recipient" (BSUID), and the response contact."""
        if body.get("recipient_type", "individual") != "individual":
            raise GraphError(100, "Only recipient_type 'individual' is supported by this fake (no groups)")
        to, recipient = body.get("to"), body.get("recipient")
        if not to and not recipient:
            raise GraphError(100, message="(#100) The parameter to is required.")
        resolved: list[tuple[_User, dict]] = []
        for value in (to, recipient):
            if not value:
                continue
            text = str(value).strip()
            digits = _PHONE_PUNCTUATION.sub("", text)
            if digits.isdigit() and value is to:
                user = self._find(digits) or self._auto_user(digits)
                resolved.append((user, {"input": value, "wa_id": digits}))
            elif _BSUID.fullmatch(text):
                user = self._find(text)
                if user is None:
                    raise GraphError(100, f"Invalid recipient {text}: unknown business-scoped user ID")
                resolved.append((user, {"input": value, "user_id": text}))
            else:
                raise GraphError(100, f"Invalid recipient {text!r}")
        if len(resolved) == 2 and resolved[0][0] is not resolved[1][0]:
            raise GraphError(100, "to and recipient name different users")
        return resolved[-1]

    def _raise_injected_fault(self, user: _User) -> None:
        for fault in self._faults:
            if fault.to is None or user.matches(fault.to):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise fault.error

    def _window_open(self, user: _User, now: float) -> bool:
        return user.last_inbound is not None and now - user.last_inbound < SERVICE_WINDOW

    def _take_send_slot(self, user: _User, now: float, kind: str) -> None:
        """Let one message through, or refuse it with 130429 / 131056 and record the violation."""
        _forget_before(self._recent, now - 1.0)
        if self.enforce_limits:
            if len(self._recent) >= self.messages_per_second:
                self.limit_violations.append(
                    f"{kind} to {user.key}: more than {self.messages_per_second} messages per second (130429)")
                raise GraphError(130429)
            if user.last_outbound is not None and now - user.last_outbound < self.pair_interval:
                self.limit_violations.append(
                    f"{kind} to {user.key}: {now - user.last_outbound:.2f} s after the previous message, "
                    f"pair interval {self.pair_interval} s (131056)")
                raise GraphError(131056)
        self._recent.append(now)
        user.last_outbound = now

    # ---- Graph: message content validation ------------------------------------------------------

    async def _validate_content(self, kind: str, body: dict) -> dict:
        """Check the message object like Meta; returns extra "_" keys for the sent() record."""
        if kind == "text":
            text = _require(body, "text", "text")
            value = _require(text, "body", "text['body']")
            if not isinstance(value, str) or len(value) > MAX_TEXT_LENGTH:
                raise GraphError(100, message=f"(#100) Param text['body'] must be at most {MAX_TEXT_LENGTH} "
                                              "characters long.")
            return {}
        if kind in MEDIA_KINDS:
            media = _require(body, kind, kind)
            if not isinstance(media, dict):
                raise GraphError(100, message=f"(#100) Param {kind} must be a JSON object.")
            caption = media.get("caption")
            if caption is not None:
                if kind not in _CAPTIONED:
                    raise GraphError(100, message=f"(#100) Param {kind}['caption'] is not allowed for {kind}.")
                if not isinstance(caption, str) or len(caption) > MAX_CAPTION_LENGTH:
                    raise GraphError(100, message=f"(#100) Param {kind}['caption'] must be at most "
                                                  f"{MAX_CAPTION_LENGTH} characters long.")
            content, mime = await self._media_content(kind, media)
            extras = {"_media_bytes": content, "_mime_type": mime}
            if kind == "image":
                extras["_image_bytes"] = content
            return extras
        if kind == "location":
            location = _require(body, "location", "location")
            latitude, longitude = (self._coordinate(location, key) for key in ("latitude", "longitude"))
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise GraphError(131009, "Invalid latitude/longitude")
            for key in ("name", "address"):
                if location.get(key) is not None and not isinstance(location[key], str):
                    raise GraphError(100, message=f"(#100) Param location['{key}'] must be a string.")
            return {}
        if kind == "interactive":
            self._validate_interactive(_require(body, "interactive", "interactive"))
            return {}
        if kind == "template":
            self._validate_template(_require(body, "template", "template"))
            return {}
        raise GraphError(100, message=f"(#100) Param type must be one of {{text, image, document, audio, video, "
                                      f"sticker, location, interactive, template}} - got \"{kind}\".")

    @staticmethod
    def _coordinate(location: dict, key: str) -> float:
        value = _require(location, key, f"location['{key}']")
        try:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        except (TypeError, ValueError):
            raise GraphError(100, message=f"(#100) Param location['{key}'] must be a number.") from None

    async def _media_content(self, kind: str, media: dict) -> tuple[bytes, str]:
        """The bytes and MIME type behind {"id"} or {"link"}, checked against the kind's types and size."""
        if ("id" in media) == ("link" in media):
            raise GraphError(100, message=f"(#100) Param {kind} must contain exactly one of id or link.")
        if "id" in media:
            stored = self._media.get(str(media["id"]))
            if stored is None:
                raise GraphError(131053, f"Invalid media id {media['id']}: no such media")
            content, mime = stored.content, stored.mime_type
        else:
            link = str(media["link"])
            try:
                response = await self._http.get(link, follow_redirects=True) if self._http else None
            except httpx.HTTPError:
                response = None
            if response is None or response.status_code != 200:
                code = response.status_code if response is not None else 0
                raise GraphError(131053, f"Downloading media from weblink failed with http code {code}")
            content = response.content
            mime = _normalize_mime(response.headers.get("content-type"))
        types, limit = MEDIA_KINDS[kind]
        if _normalize_mime(mime) not in types:
            raise GraphError(131053, f"Unsupported {kind} mime type {mime}. Supported: {', '.join(sorted(types))}")
        if len(content) > limit:
            raise GraphError(131053, f"Media file size too big. Max file size we currently support: "
                                     f"{limit // 1024} KB.")
        return content, mime

    def _validate_interactive(self, interactive: dict) -> None:
        kind = _require(interactive, "type", "interactive['type']")
        action = _require(interactive, "action", "interactive['action']")
        body = interactive.get("body")
        if kind in ("button", "list", "location_request_message", "cta_url", "request_contact_info"):
            _check_length(_require(body, "text", "interactive['body']['text']"), 1, MAX_INTERACTIVE_BODY,
                          "Body text")
        footer = interactive.get("footer")
        if footer is not None:
            _check_length(_require(footer, "text", "interactive['footer']['text']"), 1, MAX_FOOTER_TEXT,
                          "Footer text")
        header = interactive.get("header")
        if header is not None:
            header_type = _require(header, "type", "interactive['header']['type']")
            if header_type == "text":
                _check_length(header.get("text"), 1, MAX_HEADER_TEXT, "Header text")
            elif kind != "button" or header_type not in ("image", "video", "document"):
                raise GraphError(131009, f"Header type {header_type!r} is not supported for {kind} messages")
            elif not isinstance(header.get(header_type), dict):
                raise GraphError(100, message=f"(#100) The parameter interactive['header']['{header_type}'] "
                                              "is required.")
        if kind == "button":
            buttons = action.get("buttons")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_REPLY_BUTTONS:
                raise GraphError(131009, f"Invalid buttons count. Min allowed buttons: 1, Max allowed buttons: "
                                         f"{MAX_REPLY_BUTTONS}")
            ids, titles = set(), set()
            for button in buttons:
                if not isinstance(button, dict) or button.get("type") != "reply" or not isinstance(
                        button.get("reply"), dict):
                    raise GraphError(131009, "Button type must be 'reply' with a reply object")
                ids.add(_check_length(button["reply"].get("id"), 1, MAX_BUTTON_ID, "Button id"))
                titles.add(_check_length(button["reply"].get("title"), 1, MAX_BUTTON_TITLE, "Button title"))
            if len(ids) < len(buttons):
                raise GraphError(131009, "Duplicate button id")
            if len(titles) < len(buttons):
                raise GraphError(131009, "Button title is not unique")
        elif kind == "list":
            _check_length(action.get("button"), 1, MAX_LIST_BUTTON, "Button text")
            sections = action.get("sections")
            if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_SECTIONS:
                raise GraphError(131009, f"Invalid sections count. Min: 1, Max: {MAX_SECTIONS}")
            row_ids: list[str] = []
            for section in sections:
                if not isinstance(section, dict):
                    raise GraphError(131009, "Section must be an object")
                if len(sections) > 1 or section.get("title") is not None:
                    _check_length(section.get("title"), 1, MAX_SECTION_TITLE, "Section title")
                rows = section.get("rows")
                if not isinstance(rows, list) or not rows:
                    raise GraphError(131009, "Each section needs at least one row")
                for row in rows:
                    if not isinstance(row, dict):
                        raise GraphError(131009, "Row must be an object")
                    row_ids.append(_check_length(row.get("id"), 1, MAX_ROW_ID, "Row id"))
                    _check_length(row.get("title"), 1, MAX_ROW_TITLE, "Row title")
                    if row.get("description") is not None:
                        _check_length(row["description"], 0, MAX_ROW_DESCRIPTION, "Row description")
            if len(row_ids) > MAX_LIST_ROWS:
                raise GraphError(131009, f"Total row count exceed max allowed count: {MAX_LIST_ROWS}")
            if len(set(row_ids)) < len(row_ids):
                raise GraphError(131009, "Row id is not unique")
        elif kind == "location_request_message":
            if action.get("name") != "send_location":
                raise GraphError(131009, "action name must be 'send_location'")
        elif kind == "request_contact_info":  # "send your number": no header, footer or other buttons
            if action.get("name") != "request_contact_info" or set(action) != {"name"} or header is not None:
                raise GraphError(131009, "action must be {'name': 'request_contact_info'} and no header")
        elif kind == "cta_url":
            parameters = _require(action, "parameters", "interactive['action']['parameters']")
            _check_length(parameters.get("display_text"), 1, MAX_BUTTON_TITLE, "Display text")
            if not str(parameters.get("url", "")).startswith(("http://", "https://")):
                raise GraphError(131009, "Invalid url")
        else:
            raise GraphError(100, message=f"(#100) Param interactive['type'] must be one of {{button, list, "
                                          f"location_request_message, cta_url, request_contact_info}} - "
                                          f"got \"{kind}\".")

    def _validate_template(self, template: dict) -> None:
        name = _require(template, "name", "template['name']")
        language = _require(template, "language", "template['language']")
        code = _require(language, "code", "template['language']['code']")
        if name not in self.templates:
            raise GraphError(132001, f"template name ({name}) does not exist in {code}")
        components = template.get("components")
        if components is None:
            return
        if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
            raise GraphError(100, message="(#100) Param template['components'] must be an array of objects.")
        for component in components:
            if str(component.get("type")).lower() not in ("header", "body", "button", "footer"):  # Meta ignores case
                raise GraphError(100, f"Invalid component type {component.get('type')!r}")
            for parameter in component.get("parameters") or []:
                if not isinstance(parameter, dict) or "type" not in parameter:
                    raise GraphError(132000, "Each parameter needs a type")

    # ---- Graph: media ---------------------------------------------------------------------------

    def _upload(self, raw: bytes, content_type: str) -> dict:
        """POST /{phone_number_id}/media: store a multipart file, answer {"id"}."""
        if not content_type.startswith("multipart/form-data"):
            raise GraphError(100, "Media must be uploaded as multipart/form-data")
        fields, files = _parse_multipart(raw, content_type)
        if fields.get("messaging_product") != "whatsapp":
            raise GraphError(100, message="(#100) The parameter messaging_product is required.")
        if "file" not in files:
            raise GraphError(100, message="(#100) The parameter file is required.")
        filename, part_type, content = files["file"]
        mime = _normalize_mime(fields.get("type") or part_type)
        kind = _media_kind(mime)
        if kind is None:
            supported = ", ".join(sorted(t for types, _ in MEDIA_KINDS.values() for t in types))
            raise GraphError(100, message=f"(#100) Param file must be a file with one of the following types: "
                                          f"{supported}. Received file of type '{mime}'.")
        limit = MEDIA_KINDS[kind][1]
        if len(content) > limit:
            raise GraphError(131053, f"Media file size too big. Max file size we currently support: "
                                     f"{limit // 1024} KB.")
        if kind == "image" and not _is_image(content):
            raise GraphError(131053, "Media upload error: the file is not a valid image")
        media = self.add_media(content, mime_type=fields.get("type") or part_type or mime, filename=filename)
        return {"id": media.media_id}

    def _media_or_error(self, media_id: str, verb: str) -> _Media:
        media = self._media.get(media_id)
        if media is None:
            raise _unsupported("GET" if verb == "get" else "DELETE", media_id)
        return media

    def _phone_number(self, fields: str | None) -> dict:
        """GET /{phone_number_id}: the requested fields of the business number (Graph's default set without any)."""
        import phonenumbers
        number = phonenumbers.parse(f"+{self.display_phone_number}")
        shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)  # "+62 811-…"
        node = {"verified_name": self.verified_name, "code_verification_status": "VERIFIED",
                "display_phone_number": shown,
                "quality_rating": self.quality_rating, "platform_type": "CLOUD_API",
                "throughput": {"level": "STANDARD"}, "id": self.phone_number_id}
        wanted = [name.strip() for name in (fields or "").split(",") if name.strip()] or list(node)
        for name in wanted:
            if name not in node:
                raise GraphError(100, message=f"(#100) Tried accessing nonexisting field ({name}) on node type "
                                              "(WhatsAppBusinessPhoneNumber)", kind="OAuthException")
        return {name: node[name] for name in [*wanted, "id"]}

    def _media_url(self, media_id: str) -> dict:
        """GET /{media_id}: a short-lived download URL (bearer token required to fetch it)."""
        media = self._media_or_error(media_id, "get")
        token = secrets.token_urlsafe(24)
        self._media_urls[token] = (media_id, self.clock() + self.media_url_ttl)
        return {
            "url": f"{self.base_url}/media-download/{token}",
            "mime_type": media.mime_type,
            "sha256": media.sha256_hex,
            "file_size": len(media.content),
            "id": media_id,
            "messaging_product": "whatsapp",
        }

    # ---- helpers: users and messages ------------------------------------------------------------

    def _find(self, who: str | None) -> _User | None:
        if who is None:
            return None
        return next((user for user in self._users if user.matches(str(who))), None)

    def _registered(self, who: str) -> _User:
        user = self._find(who)
        if user is None:
            raise ValueError(f"unknown WhatsApp user {who!r}: register it with fake.user() first")
        return user

    def _auto_user(self, wa_id: str) -> _User:
        """A phone number the business writes to first (e.g. a crew member): a user with no open window."""
        user = _User(wa_id=wa_id, user_id=None, name="Warga")
        self._users.append(user)
        return user

    def _sent_message(self, who: str, message_id: str) -> dict:
        user = self._registered(who)
        sent = next((record for record in user.sent if record["_id"] == message_id), None)
        if sent is None:
            raise ValueError(f"no message {message_id} was sent to {who}")
        return sent

    def _inbound_message(self, user: _User, content: dict, context: str | None = None) -> dict:
        message: dict[str, Any] = {}
        if context is not None:
            message["context"] = {"from": self.display_phone_number, "id": context}
        if user.wa_id:
            message["from"] = user.wa_id
        if user.user_id:
            message["from_user_id"] = user.user_id
        message.update({"id": _new_wamid(user.wa_id or user.user_id or ""), "timestamp": _now_str()})
        message.update(copy.deepcopy(content))
        return message

    async def _user_message(self, who: str, content: dict, *, context: str | None = None) -> dict:
        user = self._registered(who)
        return await self._deliver_user_messages(user, [self._inbound_message(user, content, context)])

    async def _deliver_user_messages(self, user: _User, messages: list[dict]) -> dict:
        value = {"messaging_product": "whatsapp", "metadata": self._metadata(),
                 "contacts": [user.contact()], "messages": messages}
        notification = self._envelope(value)
        await self.deliver(notification)
        return notification

    def _observe(self, notification: dict) -> None:
        """What a genuine user message means to the platform: the sender (registered if new) gets an open
        24-hour window, the message id can be marked read, and it counts against throughput."""
        now = self.clock()
        _forget_before(self._recent, now - 1.0)
        for entry in notification.get("entry") or []:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                contacts = value.get("contacts") or [{}]
                for message in value.get("messages") or []:
                    contact = contacts[0]
                    wa_id = message.get("from") or contact.get("wa_id")
                    user_id = message.get("from_user_id") or contact.get("user_id")
                    user = self._find(user_id) or self._find(wa_id)
                    if user is None and (wa_id or user_id):
                        self.user(wa_id, (contact.get("profile") or {}).get("name", "Warga"), user_id=user_id)
                        user = self._find(user_id) or self._find(wa_id)
                    if user is None or "id" not in message:
                        continue
                    user.last_inbound = now
                    self._inbound[message["id"]] = (user, message)
                    self._recent.append(now)  # Meta counts inbound and outbound together against throughput

    def _metadata(self) -> dict:
        return {"display_phone_number": self.display_phone_number, "phone_number_id": self.phone_number_id}

    def _envelope(self, value: dict) -> dict:
        return {"object": "whatsapp_business_account",
                "entry": [{"id": self.waba_id, "changes": [{"value": value, "field": "messages"}]}]}

    def _status_notification(
        self, user: _User, wamid: str, body: dict, status: str, *, error_code: int | None = None
    ) -> dict:
        entry: dict[str, Any] = {"id": wamid, "status": status, "timestamp": _now_str()}
        if user.wa_id:
            entry["recipient_id"] = user.wa_id
        if user.user_id:
            entry["recipient_user_id"] = user.user_id
        if body.get("biz_opaque_callback_data"):
            entry["biz_opaque_callback_data"] = body["biz_opaque_callback_data"]
        if status == "failed":
            entry["errors"] = [_status_error(error_code or 131000)]
        else:
            category = "utility" if body.get("type") == "template" else "service"
            conversation: dict[str, Any] = {"id": hashlib.md5(user.key.encode()).hexdigest(),  # noqa: S324
                                            "origin": {"type": category}}
            if status == "sent":
                conversation["expiration_timestamp"] = str(int(time.time()) + 24 * 3600)
            entry["conversation"] = conversation
            entry["pricing"] = {"billable": category != "service", "pricing_model": "PMP", "category": category,
                                "type": "regular" if category != "service" else "free_customer_service"}
        value = {"messaging_product": "whatsapp", "metadata": self._metadata(), "contacts": [user.contact()],
                 "statuses": [entry]}
        return self._envelope(value)

    async def _post_statuses(
        self, user: _User, wamid: str, body: dict, sequence: tuple[str, ...], *, error_code: int | None = None
    ) -> None:
        for status in sequence:
            await self.deliver(self._status_notification(user, wamid, body, status, error_code=error_code))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _post(self, body: bytes, headers: dict[str, str]) -> int:
        """POST one notification, retrying non-2xx answers and network errors."""
        assert self.webhook_url is not None and self._http is not None
        status = NETWORK_FAILURE_STATUS
        for attempt in range(self.webhook_max_attempts):
            if attempt:
                await asyncio.sleep(self.webhook_retry_delay)
            try:
                response = await self._http.post(self.webhook_url, content=body, headers=headers)
            except httpx.HTTPError:
                status = NETWORK_FAILURE_STATUS
            else:
                status = response.status_code
            self.delivery_log.append(status)
            if 200 <= status <= 299:
                return status
        return status


def _unsupported(method: str, object_id: str) -> GraphError:
    verb = {"GET": "get", "POST": "post", "DELETE": "delete"}.get(method, method.lower())
    return GraphError(
        100,
        message=f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation. Please read the Graph API "
                "documentation at https://developers.facebook.com/docs/graph-api",
        subcode=33,
        kind="GraphMethodException",
        details="",
    )

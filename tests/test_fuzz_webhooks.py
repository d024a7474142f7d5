"""Property-based, over HTTP into the real app: whatever body and headers arrive at the webhooks and the web
chat's JSON endpoints, the answer is one of the documented refusals or 200 — never a 5xx, never an escaped
exception — and a wrong secret or signature is refused with 403 and stores nothing (a WhatsApp body over the
size limit is refused with 413 before its signature is computed; Telegram's secret is checked first).
An authenticated delivery that parses as JSON is always acknowledged 200 and stored — parked when it cannot
be used or stored as sent (NaN, an object where an id belongs…) — since the platforms re-send anything else
for days, holding back the chat; 400 is only for what is not JSON.

The app runs in-process (SQLite in a temporary directory, and PostgreSQL, whose `json` type refuses what
SQLite takes; no Redis, no worker loop) behind httpx's ASGITransport, which re-raises anything the app lets
escape; one app and one event loop per database serve every example of the module."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass

import httpx
import pytest
from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bots.app import create_app
from core import signing
from core.models import InboxItem
from core.settings import load_settings
from tests.conftest import BACKENDS, fresh_database_url
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.harness import SECRET, SECRET_KEY, WA_VERIFY
from tests.test_fuzz_parse import TG_KEYS, WA_KEYS, json_like

LIMIT = 4096  # max_body_bytes, small so that generated bodies cross it
CHAT_LIMIT = 16_384  # the web chat's own limit on /chat/api/send
TG_TOKEN = FakeTelegram().token
WA = FakeWhatsApp()
CHAT_ID = "0123456789abcdef0123456789abcdef"
CHAT = signing.sign(SECRET_KEY.encode(), "webchat", CHAT_ID)  # a chat cookie as GET /chat issues it
TELEGRAM = {200, 400, 403, 413}
WHATSAPP = {200, 400, 403, 413}
CHAT_SEND = {200, 400, 403, 413, 429}  # 429: the web chat's limits per address (bots/web/chat_limits.py)
CHAT_PHOTO = {200, 400, 403, 409, 413, 429}  # 409: no report asks for a photo now; nothing is stored
CHAT_MESSAGES = {200, 400, 403}
HANDSHAKE = {200, 403}

FUZZ = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@dataclass(repr=False)
class Env:
    runner: asyncio.Runner
    client: httpx.AsyncClient
    deps: object

    def __repr__(self) -> str:
        return "env"

    def run(self, coro):
        return self.runner.run(coro)

    def stored(self) -> int:
        async def count():
            async with self.deps.sessions() as s:
                return await s.scalar(select(func.count()).select_from(InboxItem))
        return self.run(count())

    def has(self, channel: str, external_id: str) -> bool:
        async def find():
            async with self.deps.sessions() as s:
                return await s.scalar(select(func.count()).select_from(InboxItem).where(
                    InboxItem.channel == channel, InboxItem.external_id == external_id)) == 1
        return self.run(find())

    def post(self, path: str, body: bytes, headers: dict, **kwargs) -> httpx.Response:
        return self.run(self.client.post(path, content=body, headers=headers, **kwargs))


@pytest.fixture(scope="module", params=BACKENDS)
def env(request, tmp_path_factory, config):
    with asyncio.Runner() as runner:
        url = runner.run(fresh_database_url(request.param, tmp_path_factory.mktemp("fuzz")))
        app_settings = load_settings(
            database_url=url, public_base_url=None, max_body_bytes=LIMIT,
            telegram_bot_token=TG_TOKEN, telegram_api_base_url="http://127.0.0.1:9", telegram_webhook_secret=SECRET,
            telegram_mode="webhook",
            siaga_secret_key=SECRET_KEY,
            whatsapp_access_token=WA.token, whatsapp_phone_number_id=WA.phone_number_id,
            whatsapp_app_secret=WA.app_secret, whatsapp_verify_token=WA_VERIFY,
            whatsapp_api_base_url="http://127.0.0.1:9")
        app = create_app(app_settings, config, run_worker=False)  # no lifespan: no channel starts, no worker
        deps = app.state.deps
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=True),
                                   base_url="http://testserver")
        try:
            yield Env(runner, client, deps)
        finally:
            runner.run(client.aclose())
            runner.run(deps.channels["whatsapp"].session.aclose())
            runner.run(deps.engine.dispose())


def loads(body: bytes):
    """Python's json (NaN, Infinity, lone surrogates and all), with integers too long for int() as None."""
    return json.loads(body, parse_int=lambda digits: int(digits) if len(digits) <= 32 else None)


def parses(body: bytes) -> bool:
    """Whether the body is JSON as far as the webhooks are concerned (a few test bodies nest past the
    parser's recursion: those are refused as not JSON)."""
    try:
        loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def check_answer(response: httpx.Response, allowed: set[int]) -> None:
    event(f"HTTP {response.status_code}")  # --hypothesis-show-statistics: how often each answer was reached
    assert response.status_code in allowed, (response.status_code, response.text[:300])
    if response.status_code != 200:
        assert response.json()["ok"] is False and response.json()["error"]  # the one refusal shape


# ---- bodies ------------------------------------------------------------------------------------------------

SURROGATES = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3)
ODD_TEXT = st.one_of(st.text(max_size=20), SURROGATES, st.just("\x00"), st.just("\u202e"))


def deep(n: int) -> bytes:
    return b'{"update_id": 7, "entry": ' + b"[" * n + b"]" * n + b"}"


def padded(body: bytes, size: int) -> bytes:
    """The body grown with whitespace to `size` bytes (still the same JSON), to cross the size limit."""
    return body + b" " * max(0, size - len(body))


def documents(keys: list[str], required: dict):
    """JSON documents: platform-shaped with odd values, with NaN/Infinity and lone surrogates, or not JSON."""
    shaped = st.fixed_dictionaries(required, optional={k: json_like(keys) for k in keys[:12] if k not in required})
    value = st.one_of(shaped, json_like(keys), st.dictionaries(st.sampled_from(keys), ODD_TEXT, max_size=4))
    as_json = value.map(lambda v: json.dumps(v, allow_nan=True).encode())
    return st.one_of(
        as_json, as_json, as_json,  # mostly JSON, so the secret, the size and the shape are what decide
        st.tuples(as_json, st.integers(LIMIT - 8, LIMIT + 8)).map(lambda t: padded(*t)),
        st.binary(max_size=200),
        st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.integers(1, 3000).map(deep),
        st.sampled_from([b"", b"null", b"[]", b"{}", b'{"update_id": 1e400}', b'{"update_id": NaN}',
                         b'{"update_id": 1' + b"0" * 5000 + b"}", b'{"update_id": 1,', b"\xff\xfe{}"]),
    )


TG_UPDATES = documents(TG_KEYS, {"update_id": st.one_of(st.integers(-2**70, 2**70), st.integers(1, 2**31),
                                                        st.booleans(), st.text(max_size=5))})
WA_NOTIFICATIONS = documents(WA_KEYS, {"object": st.just("whatsapp_business_account"), "entry": json_like(WA_KEYS)})

HEADER_VALUE = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40)
CONTENT_TYPES = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", "application/json; charset=latin-1", ""])
LYING_LENGTHS = st.one_of(st.none(), st.sampled_from(["0", "1", "-1", "²", "¹²³", " 12", "99999999999999999999999"]),
                          HEADER_VALUE)


def headers(content_type: str, content_length: str | None, extra: dict) -> dict:
    out = {"Content-Type": content_type, **extra} if content_type else dict(extra)
    if content_length is not None:
        out["Content-Length"] = content_length
    return {k: v.encode("latin-1") for k, v in out.items()}


# ---- POST /webhooks/telegram -------------------------------------------------------------------------------

TG_SECRETS = st.one_of(st.just(SECRET), st.just(SECRET), st.none(), HEADER_VALUE,
                       st.sampled_from([SECRET + "x", SECRET[:-1], SECRET.upper(), " " + SECRET, SECRET + " ",
                                        "", TG_TOKEN]))


@FUZZ
@given(body=TG_UPDATES, secret=TG_SECRETS, content_type=CONTENT_TYPES, length=LYING_LENGTHS)
@example(body=b'{"update_id": 5, "message": {"chat": {"id": 1}}}', secret=SECRET + "x",
         content_type="application/json", length=None)
@example(body=deep(995), secret=SECRET, content_type="application/json", length=None)
def test_telegram_webhook_answers_a_documented_status(env, body, secret, content_type, length):
    extra = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
    before = env.stored()
    response = env.post("/webhooks/telegram", body, headers(content_type, length, extra))
    check_answer(response, TELEGRAM)
    if secret != SECRET:
        assert response.status_code == 403 and env.stored() == before
    elif response.status_code == 200:
        assert len(body) <= LIMIT
        update = loads(body)
        update_id = update.get("update_id") if isinstance(update, dict) else None
        if isinstance(update_id, int) and not isinstance(update_id, bool) and 0 <= update_id < 2**63:
            assert env.has("telegram", str(update_id))
        else:
            assert env.stored() >= before  # parked under a fingerprint (a re-delivery is no new row)
    else:
        assert env.stored() == before
        if len(body) > LIMIT:
            assert response.status_code == 413
        elif (length or "").isascii() and (length or "").isdigit() and int(length) > LIMIT:
            assert response.status_code == 413  # a declared length over the limit is refused unread
        else:
            assert response.status_code == 400 and not parses(body)  # only what is not JSON is refused


# ---- POST /webhooks/whatsapp -------------------------------------------------------------------------------

def sign(body: bytes, secret: str = WA.app_secret) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


FORGERIES = st.sampled_from(["none", "other secret", "other body", "sha1", "upper", "truncated", "token",
                             "garbage"])


def forge(how: str, body: bytes, garbage: str) -> str | None:
    right = sign(body)
    return {"none": None, "other secret": sign(body, "not-the-app-secret"), "other body": sign(body + b" "),
            "sha1": "sha1=" + hmac.new(WA.app_secret.encode(), body, hashlib.sha1).hexdigest(),
            "upper": "sha256=" + right.split("=", 1)[1].upper(), "truncated": right[:-1],
            "token": WA.app_secret, "garbage": garbage}[how]


@FUZZ
@given(body=WA_NOTIFICATIONS, signed=st.booleans(), how=FORGERIES, garbage=HEADER_VALUE,
       content_type=CONTENT_TYPES, length=LYING_LENGTHS)
def test_whatsapp_webhook_answers_a_documented_status(env, body, signed, how, garbage, content_type, length):
    signature = sign(body) if signed else forge(how, body, garbage)
    assume(signature != sign(body) or signed)
    extra = {} if signature is None else {"X-Hub-Signature-256": signature}
    before = env.stored()
    response = env.post("/webhooks/whatsapp", body, headers(content_type, length, extra))
    check_answer(response, WHATSAPP)
    oversize = len(body) > LIMIT or ((length or "").isascii() and (length or "").isdigit() and int(length) > LIMIT)
    if oversize:
        assert response.status_code == 413  # refused before the signature is even computed
    elif not signed:
        assert response.status_code == 403
    elif parses(body):
        assert response.status_code == 200  # stored, or parked: never refused, never a 5xx
    if response.status_code != 200:
        assert env.stored() == before


@FUZZ
@given(body=WA_NOTIFICATIONS, data=st.data())
def test_signed_whatsapp_notifications_with_messages_are_stored(env, body, data):
    """Well-formed in shape, odd in values: a signed notification is stored (or parked), never refused."""
    message = data.draw(st.fixed_dictionaries(
        {"from": st.one_of(st.from_regex(r"62\d{9,12}", fullmatch=True), ODD_TEXT),
         "id": st.one_of(st.text(min_size=1, max_size=30), st.integers()), "type": st.sampled_from(
             ["text", "image", "interactive", "location", "button", "unsupported", ""])},
        optional={"text": json_like(WA_KEYS), "timestamp": st.one_of(st.text(max_size=12), st.integers())}))
    value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": WA.phone_number_id},
             "contacts": data.draw(st.lists(json_like(WA_KEYS), max_size=2)), "messages": [message]}
    notification = {"object": "whatsapp_business_account",
                    "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}
    raw = json.dumps(notification).encode()
    assume(len(raw) <= LIMIT)
    response = env.post("/webhooks/whatsapp", raw, {"X-Hub-Signature-256": sign(raw),
                                                    "Content-Type": "application/json"})
    check_answer(response, {200})


@FUZZ
@given(params=st.fixed_dictionaries({}, optional={
    "hub.mode": st.one_of(st.just("subscribe"), st.text(max_size=20)),
    "hub.verify_token": st.one_of(st.just(WA_VERIFY), st.text(max_size=20)),
    "hub.challenge": st.text(max_size=20), "x": st.text(max_size=20)}))
def test_whatsapp_handshake_answers_only_the_verify_token(env, params):
    response = env.run(env.client.get("/webhooks/whatsapp", params=params))
    event(f"HTTP {response.status_code}")
    assert response.status_code in HANDSHAKE
    ok = params.get("hub.mode") == "subscribe" and params.get("hub.verify_token") == WA_VERIFY
    assert (response.status_code == 200) == ok
    if ok:
        assert response.text == params.get("hub.challenge", "")


# ---- the web chat's JSON endpoints ---------------------------------------------------------------------------

COOKIES = st.one_of(st.just(CHAT), st.just(CHAT_ID), st.just(CHAT[:-1] + "A"), st.none(),
                    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=';"\\,'),
                            max_size=70),
                    st.from_regex(r"[A-Za-z0-9_-]{20,64}", fullmatch=True))
CHAT_KEYS = ["id", "kind", "text", "choice", "lat", "lon", "lang"]
CHAT_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                        ODD_TEXT, st.sampled_from(["text", "choice", "location", "photo", "m1", "a-b-c"]),
                        st.lists(st.integers(), max_size=3))
CHAT_BODIES = st.one_of(
    st.dictionaries(st.sampled_from(CHAT_KEYS), CHAT_VALUES, max_size=7).map(
        lambda d: json.dumps(d, allow_nan=True).encode()),
    st.fixed_dictionaries({"id": st.from_regex(r"[A-Za-z0-9-]{1,40}", fullmatch=True),
                           "kind": st.sampled_from(["text", "choice", "location"])},
                          optional={"text": ODD_TEXT, "choice": ODD_TEXT, "lat": CHAT_VALUES, "lon": CHAT_VALUES,
                                    "lang": ODD_TEXT}).map(lambda d: json.dumps(d, allow_nan=True).encode()),
    st.binary(max_size=100),
    st.integers(CHAT_LIMIT - 4, CHAT_LIMIT + 4).map(lambda n: padded(b'{"id": "big", "kind": "text", "text": "x"}', n)),
)


def valid_cookie(cookie: str | None) -> bool:
    """Only ids this server signed are chats (issue 12 item 3): anything else, however well shaped, is refused."""
    return signing.unsign(SECRET_KEY.encode(), "webchat", cookie) is not None


def cookie_header(cookie: str | None) -> dict:
    return {} if cookie is None else {"Cookie": f"siaga_chat={cookie}"}


@FUZZ
@given(body=CHAT_BODIES, cookie=COOKIES, content_type=CONTENT_TYPES)
def test_chat_send_answers_a_documented_status(env, body, cookie, content_type):
    before = env.stored()
    response = env.post("/chat/api/send", body, headers(content_type, None, cookie_header(cookie)))
    check_answer(response, CHAT_SEND)
    if not valid_cookie(cookie):
        assert response.status_code == 403 and env.stored() == before
    elif response.status_code == 200:
        data = json.loads(body)
        assert env.has("web", f"{CHAT_ID}:{data['id']}"[:128])
    else:
        assert env.stored() == before


@settings(FUZZ, max_examples=60)
@given(body=st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda b: b"\xff\xd8\xff\xe0" + b),
                      st.binary(max_size=300).map(lambda b: b"\x89PNG\r\n\x1a\n" + b)),
       client_id=st.one_of(st.none(), st.text(max_size=45), st.from_regex(r"[A-Za-z0-9-]{1,40}", fullmatch=True)),
       lang=st.one_of(st.none(), ODD_TEXT),
       cookie=COOKIES)
def test_chat_photo_answers_a_documented_status(env, body, client_id, lang, cookie):
    params = {k: v for k, v in (("id", client_id), ("lang", lang)) if v is not None}
    params = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in params.items()}
    before = env.stored()
    response = env.post("/chat/api/photo", body, {"Content-Type": "image/jpeg", **cookie_header(cookie)},
                        params=params)
    check_answer(response, CHAT_PHOTO)
    if not valid_cookie(cookie):
        assert response.status_code == 403 and env.stored() == before


@FUZZ
@given(after=st.one_of(st.integers(-2**80, 2**80).map(str), st.text(max_size=30),
                       st.sampled_from(["", "1e3", "0x10", "9" * 30, "-9223372036854775809", "9223372036854775807"])),
       cookie=COOKIES)
def test_chat_messages_answers_a_documented_status(env, after, cookie):
    response = env.run(env.client.get("/chat/api/messages", params={"after": after}, headers=cookie_header(cookie)))
    event(f"HTTP {response.status_code}")
    assert response.status_code in CHAT_MESSAGES, (response.status_code, response.text[:300])
    if response.status_code != 400:  # a malformed `after` is refused first, whoever asks
        assert (response.status_code == 403) == (not valid_cookie(cookie))
    if response.status_code == 200:
        assert isinstance(response.json()["messages"], list)

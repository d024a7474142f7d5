"""GET/POST /webhooks/whatsapp: Meta's handshake, then signed notifications stored durably before the 200."""
from __future__ import annotations

import hashlib
import hmac
import time

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from bots.http import BodyTooLarge, MalformedJson, error_response, load_delivery, read_limited
from bots.pipeline import intake
from bots.pipeline.deps import Deps
from bots.pipeline.metrics import UPDATES_DUPLICATE, UPDATES_RECEIVED, WEBHOOK_SECONDS
from bots.whatsapp.parse import CHANNEL, split
from core import inbox, outbox

log = structlog.get_logger()
router = APIRouter()


def signature_ok(body: bytes, header: str, secret: str) -> bool:
    """`sha256=` + hex HMAC-SHA256 of the raw body, compared in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.encode(), expected.encode())


@router.get("/webhooks/whatsapp", include_in_schema=False)
async def handshake(request: Request):
    deps: Deps = request.app.state.deps
    token = deps.settings.whatsapp_verify_token
    q = request.query_params
    given = q.get("hub.verify_token", "")
    if token is None or q.get("hub.mode") != "subscribe" or \
            not hmac.compare_digest(given.encode(), token.get_secret_value().encode()):
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(q.get("hub.challenge", ""))


@router.post("/webhooks/whatsapp", include_in_schema=False)
async def receive(request: Request):
    deps: Deps = request.app.state.deps
    started = time.perf_counter()
    secret = deps.settings.whatsapp_app_secret
    if CHANNEL not in deps.channels or secret is None:
        return error_response(404, "whatsapp channel is off")
    try:
        body = await read_limited(request, deps.settings.max_body_bytes)
    except BodyTooLarge:
        return error_response(413, "body too large")
    if not signature_ok(body, request.headers.get("x-hub-signature-256", ""), secret.get_secret_value()):
        return error_response(403, "bad signature")
    try:
        notification, problem = load_delivery(body)
    except MalformedJson:
        return error_response(400, "malformed JSON")
    try:  # stored, or parked when unusable: either way acknowledged, so Meta does not re-send it for days
        new = await store_notification(deps, notification, problem)
    except Exception as exc:  # noqa: BLE001 - not stored: let Meta retry rather than lose it
        log.error("inbox_store_failed", channel=CHANNEL, error=type(exc).__name__)
        return error_response(503, "storage unavailable, retry")
    if new:
        await deps.coord.wake("inbox")
    WEBHOOK_SECONDS.labels(CHANNEL).observe(time.perf_counter() - started)
    return {"ok": True}


async def store_notification(deps: Deps, notification: object, problem: str | None = None) -> int:
    """Store the notification's messages and delivery reports; how many messages were new. A notification
    that had to be cleaned to be stored (`problem`), is not an object, or carries messages without a usable
    sender or id is (also) kept whole, parked. StorageDown when nothing could be stored."""
    if problem is not None or not isinstance(notification, dict):
        return int(await intake.park(deps, CHANNEL, notification, problem or "not a WhatsApp notification"))
    try:
        items, statuses = split(notification)
    except (TypeError, AttributeError, KeyError, ValueError):
        return int(await intake.park(deps, CHANNEL, notification, "not a WhatsApp notification"))
    new = await intake.store_or_park(deps, CHANNEL, lambda session: _store(session, deps.clock.now(), items, statuses),
                                     fallback_id=intake.fingerprint(notification))
    if len(items) < _message_count(notification):
        await intake.park(deps, CHANNEL, notification, "messages without a usable sender or id")
    return new


def _message_count(notification: dict) -> int:
    """How many message objects the notification carries (split keeps those with a sender and an id)."""
    values = [change.get("value") for entry in _dicts(notification.get("entry"))
              for change in _dicts(entry.get("changes"))]
    return sum(len(v.get("messages")) for v in values if isinstance(v, dict) and isinstance(v.get("messages"), list))


def _dicts(value) -> list[dict]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


async def _store(session, now, items, statuses) -> int:
    """All messages of the notification and its delivery reports, in one transaction."""
    new = 0
    for item in items:
        stored = await inbox.store(session, channel=CHANNEL, external_id=item.external_id,
                                   conversation_key=item.conversation_key, payload=item.payload, now=now)
        (UPDATES_RECEIVED if stored else UPDATES_DUPLICATE).labels(CHANNEL).inc()
        new += stored
    for delivery in statuses:
        await outbox.record_delivery(session, CHANNEL, delivery.message_id, delivery.status, delivery.error)
    return new

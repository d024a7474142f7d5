"""POST /webhooks/telegram: check the secret, store the update durably, then answer 200."""
from __future__ import annotations

import hmac
import time

import structlog
from fastapi import APIRouter, Request

from bots.http import BodyTooLarge, MalformedJson, error_response, load_delivery, read_limited
from bots.pipeline import intake
from bots.pipeline.deps import Deps
from bots.pipeline.metrics import UPDATES_DUPLICATE, UPDATES_RECEIVED, WEBHOOK_SECONDS
from bots.telegram.parse import CHANNEL, conversation_key
from core import inbox

log = structlog.get_logger()
router = APIRouter()


def update_id(update: object) -> int | None:
    """The update's de-duplication key, when it is one Telegram could have sent."""
    value = update.get("update_id") if isinstance(update, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63 else None


async def store_update(deps: Deps, update: object, problem: str | None = None) -> bool:
    """Insert into the inbox and wake a processor; True when the update was new. Polling uses this too.

    An update that cannot be used (no usable `update_id`, not an object) or had to be cleaned to be stored
    (`problem`) is stored parked instead, and still counts as stored. StorageDown when nothing was stored."""
    ident = update_id(update)
    if ident is None or problem is not None:
        new = await intake.park(deps, CHANNEL, update, problem or "not a Telegram update",
                                external_id=None if ident is None else str(ident))
    else:
        new = bool(await intake.store_or_park(deps, CHANNEL, inbox.row(
            channel=CHANNEL, external_id=str(ident), conversation_key=conversation_key(update),
            payload=update, now=deps.clock.now()), fallback_id=str(ident)))
    if new:
        UPDATES_RECEIVED.labels(CHANNEL).inc()
        await deps.coord.wake("inbox")
    else:
        UPDATES_DUPLICATE.labels(CHANNEL).inc()
    return new


@router.post("/webhooks/telegram", include_in_schema=False)
async def telegram_webhook(request: Request):
    deps: Deps = request.app.state.deps
    started = time.perf_counter()
    if "telegram" not in deps.channels:
        return error_response(404, "telegram channel is off")
    if deps.settings.telegram_effective_mode != "webhook":  # updates come from getUpdates: a post is a forgery
        return error_response(404, "telegram runs in polling mode")
    secret = deps.settings.telegram_webhook_secret
    given = request.headers.get("x-telegram-bot-api-secret-token", "")
    if secret is None or not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        return error_response(403, "wrong secret token")
    try:
        body = await read_limited(request, deps.settings.max_body_bytes)
    except BodyTooLarge:
        return error_response(413, "body too large")
    try:
        update, problem = load_delivery(body)
    except MalformedJson:
        return error_response(400, "malformed JSON")
    try:  # stored as sent, or parked when unusable: either way acknowledged, so the chat is not held back
        await store_update(deps, update, problem)
    except Exception as exc:  # noqa: BLE001 - not stored: let Telegram retry rather than lose it
        log.error("inbox_store_failed", error=type(exc).__name__)
        return error_response(503, "storage unavailable, retry")
    WEBHOOK_SECONDS.labels("telegram").observe(time.perf_counter() - started)
    return {"ok": True}

"""POST /webhooks/telegram: check the secret, store the update durably, then answer 200."""
from __future__ import annotations

import hmac
import time

import structlog
from fastapi import APIRouter, Request

from bots.http import BodyTooLarge, MalformedJson, error_response, load_json, read_limited
from bots.runtime.deps import Deps
from bots.runtime.metrics import UPDATES_DUPLICATE, UPDATES_RECEIVED, WEBHOOK_SECONDS
from bots.telegram.parse import conversation_key
from core import inbox

log = structlog.get_logger()
router = APIRouter()


async def store_update(deps: Deps, update: dict) -> bool:
    """Insert into the inbox and wake a processor; True when the update was new. Polling uses this too."""
    async with deps.sessions() as session, session.begin():
        new = await inbox.store(session, channel="telegram", external_id=str(update["update_id"]),
                                conversation_key=conversation_key(update), payload=update, now=deps.clock.now())
    if new:
        UPDATES_RECEIVED.labels("telegram").inc()
        await deps.coord.wake("inbox")
    else:
        UPDATES_DUPLICATE.labels("telegram").inc()
    return new


@router.post("/webhooks/telegram", include_in_schema=False)
async def telegram_webhook(request: Request):
    deps: Deps = request.app.state.deps
    started = time.perf_counter()
    if "telegram" not in deps.channels:
        return error_response(404, "telegram channel is off")
    secret = deps.settings.telegram_webhook_secret
    if secret is not None:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return error_response(403, "wrong secret token")
    try:
        body = await read_limited(request, deps.settings.max_body_bytes)
    except BodyTooLarge:
        return error_response(413, "body too large")
    try:
        update = load_json(body)
    except MalformedJson:
        return error_response(400, "malformed JSON")
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return error_response(400, "not a Telegram update")
    try:
        await store_update(deps, update)
    except Exception as exc:  # noqa: BLE001 - not stored: let Telegram retry rather than lose it
        log.error("inbox_store_failed", error=type(exc).__name__)
        return error_response(503, "storage unavailable, retry")
    WEBHOOK_SECONDS.labels("telegram").observe(time.perf_counter() - started)
    return {"ok": True}

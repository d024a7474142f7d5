"""The citizens' web chat: the same conversation as on Telegram and WhatsApp, in a browser.

The chat is a random id the server issues and signs into a cookie, so a client can neither choose nor forge one;
what the citizen does is stored in the inbox like a webhook update, and the page polls for the messages the
worker has "sent" to it.
"""
from __future__ import annotations

import hashlib
import json
import math
import secrets

from fastapi import APIRouter, Query, Request
from sqlalchemy import select

from bots.http import BodyTooLarge, MalformedJson, error_response, load_json, read_limited
from bots.pipeline.cpu import run_cpu
from bots.pipeline.media import store_photo
from bots.web import chat_limits
from bots.web.pages import language, render
from core import inbox, outbox, signing
from core.models import Conversation, OutboxItem
from core.photos import Photo, inspect_photo
from workflows.citizen_report import takes_photo
from workflows.conversation_state import ConversationState

router = APIRouter(prefix="/chat", tags=["web chat"])
COOKIE = "siaga_chat"
PURPOSE = "webchat"  # a token signed for another use is not a chat id
REFUSED = "this chat was not issued by this server: open /chat to start one"
MAX_TEXT = 2000
MAX_ACCURACY_M = 100_000  # a browser's accuracy radius beyond this is no pin at all
NO_PHOTO_NOW = "a photo is taken only while a report asks for one: start a report first"


def _chat_id(request: Request) -> str | None:
    """The chat GET /chat issued to this browser; None for a missing, unsigned or forged cookie."""
    return signing.unsign(request.app.state.deps.secret_key, PURPOSE, request.cookies.get(COOKIE))


@router.get("", include_in_schema=False)
async def page(request: Request):
    """A valid cookie keeps its chat; anything else gets a fresh random id, signed, never one the client chose."""
    deps = request.app.state.deps
    if _chat_id(request) is None and (wait := await chat_limits.new_chat(request)):
        return chat_limits.busy_page(request, wait)  # too many new chats from this address or overall
    token = request.cookies.get(COOKIE) if _chat_id(request) else signing.sign(
        deps.secret_key, PURPOSE, secrets.token_hex(16))
    response = render(request, "chat.html")
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", max_age=180 * 86400,
                        secure=(deps.settings.public_base_url or "").startswith("https://"))
    return response


async def _store(request: Request, chat: str, client_id: str, payload: dict) -> None:
    deps = request.app.state.deps
    async with deps.sessions() as session, session.begin():
        await inbox.store(session, channel="web", external_id=f"{chat}:{client_id}"[:128],
                          conversation_key=f"web:{chat}", now=deps.clock.now(),
                          payload={"chat": chat, "origin": chat_limits.origin(request), **payload})
    await deps.coord.wake("inbox")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _client_id(value) -> str | None:
    text = str(value or "")
    return text if 1 <= len(text) <= 40 and text.replace("-", "").isalnum() else None


@router.post("/api/send")
async def send(request: Request):
    """One thing the citizen did: {id, kind: text|choice|location, text | choice | lat+lon(+accuracy), lang}.
    `lang` is the page's language on every post, so switching the page switches the conversation. The same `id`
    again is acknowledged and has no second effect."""
    chat = _chat_id(request)
    if chat is None:
        return error_response(403, REFUSED)
    if wait := await chat_limits.post(request, chat):
        return chat_limits.refused(wait, chat_limits.BUSY_POSTS)
    try:
        data = load_json(await read_limited(request, 16_384))
    except BodyTooLarge:
        return error_response(413, "too large")
    except MalformedJson:
        return error_response(400, "malformed JSON")
    if not isinstance(data, dict) or (client_id := _client_id(data.get("id"))) is None:
        return error_response(400, "an id of 1-40 letters, digits or - is required")
    kind, lang = data.get("kind"), str(data.get("lang") or "")[:8]
    if kind == "text" and isinstance(data.get("text"), str) and data["text"].strip():
        payload = {"kind": "text", "text": data["text"][:MAX_TEXT]}
    elif kind == "choice" and isinstance(data.get("choice"), str) and 0 < len(data["choice"]) <= 64:
        payload = {"kind": "choice", "choice": data["choice"]}
    elif kind == "location" and all(_number(data.get(k)) for k in ("lat", "lon")) \
            and abs(data["lat"]) <= 90 and abs(data["lon"]) <= 180:
        payload = {"kind": "location", "lat": float(data["lat"]), "lon": float(data["lon"])}
        if _number(accuracy := data.get("accuracy")) and 0 <= accuracy <= MAX_ACCURACY_M:
            payload["accuracy_m"] = round(float(accuracy), 1)  # the browser's own estimate; anything odd is dropped
    else:
        return error_response(400, "kind must be text, choice or location with its value")
    await _store(request, chat, client_id, {**payload, "lang": lang})
    return {"ok": True}


@router.post("/api/photo")
async def photo(request: Request, id: str = ""):
    """The photo's bytes as the body; checked and stored now, so the conversation only sees the outcome."""
    deps = request.app.state.deps
    chat, client_id = _chat_id(request), _client_id(id)
    if chat is None or client_id is None:
        return error_response(400, "give ?id=") if chat else error_response(403, REFUSED)
    if wait := await chat_limits.post(request, chat):
        return chat_limits.refused(wait, chat_limits.BUSY_POSTS)
    if not await _photo_wanted(deps, chat):
        return error_response(409, NO_PHOTO_NOW)  # nothing is read or stored
    if wait := await chat_limits.photo(request, chat):
        return chat_limits.refused(wait, chat_limits.BUSY_PHOTOS)
    limit = int(deps.config.limits.max_photo_mb * 1024 * 1024)
    try:
        checked = await run_cpu(inspect_photo, await read_limited(request, limit), max_bytes=limit)
    except BodyTooLarge:
        checked = None  # refused before it was read whole; the chat still says why
    if isinstance(checked, Photo):
        payload = {"kind": "photo", "media_id": await store_photo(deps, checked)}
    else:
        payload = {"kind": "photo", "problem": "too_large" if checked is None else checked.reason}
    await _store(request, chat, client_id, {**payload, "lang": request.query_params.get("lang", "")[:8]})
    return error_response(413, "too large") if checked is None else {"ok": True}


async def _photo_wanted(deps, chat: str) -> bool:
    """Whether the chat's report is at a step that keeps a photo, so no upload is stored for nothing."""
    async with deps.sessions() as session:
        conv = await session.get(Conversation, f"web:{chat}")
    return conv is not None and takes_photo(ConversationState.from_json(conv.state), deps.config)


@router.get("/api/messages")
async def messages(request: Request, after: int = Query(0, ge=-2**63, le=2**63 - 1)):  # a database integer
    """What the bot said to this chat since message `after`, oldest first, and the conversation's `stage`."""
    chat = _chat_id(request)
    if chat is None:
        return error_response(403, REFUSED)
    async with request.app.state.deps.sessions() as session:
        rows = (await session.execute(select(OutboxItem.id, OutboxItem.payload).where(
            OutboxItem.channel == "web", OutboxItem.chat_id == chat, OutboxItem.status == "sent", OutboxItem.id > after)
            .order_by(OutboxItem.id).limit(100))).all()
        conv = await session.get(Conversation, f"web:{chat}")
    out = []
    for row_id, payload in rows:
        said = outbox.decode(payload)
        if said.answer_callback and not said.text:
            continue
        out.append({"id": row_id, "text": said.text, "request_location": said.request_location,
                    "location_label": said.location_label, "request_contact": said.request_contact,
                    "contact_label": said.contact_label, "columns": said.columns,
                    "choices": [{"data": c.data, "label": c.label} for c in said.choices]})
    return {"messages": out, "last": rows[-1][0] if rows else after, "lang": language(request),
            "stage": stage(conv.state if conv is not None else None)}


def stage(state: object) -> str:
    """A short fingerprint of the question the conversation asks now (its step, its report, a rating waiting for a
    comment, its language), not of the answers gathered: a hint leaves it as it was, an answer that moves on
    changes it, so the page knows whether the last buttons still answer the question being asked."""
    s = ConversationState.from_json(state)
    question = [s.step.value, s.draft.started_at if s.draft else None, s.comment_for, s.lang]
    return hashlib.sha256(json.dumps(question).encode()).hexdigest()[:12]

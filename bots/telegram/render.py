"""Translate an outbound message into python-telegram-bot calls; pure, table-tested.

Plain text only (no parse mode), and no link previews: a link a citizen typed into a report must not unfold
into a preview on the operators' card or a crew's task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram import (ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, KeyboardButton,
                      LinkPreviewOptions, ReplyKeyboardMarkup, ReplyKeyboardRemove)

TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class Call:
    """One Bot API method on `telegram.Bot` with its keyword arguments."""

    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def render(payload: dict, photo: bytes | None = None) -> list[Call]:
    """The calls that show `payload` (an `Outbound` as a dict); the last call's message is the one to remember."""
    if payload.get("answer_callback"):
        return [Call("answer_callback_query", {"callback_query_id": payload["answer_callback"],
                                               "text": payload.get("text") or None})]
    chat_id = int(payload["to"]["id"])
    text = payload.get("text") or ""
    markup = _markup(payload)
    calls: list[Call] = []
    if photo is not None:
        caption, rest = _split(text, CAPTION_LIMIT)
        calls.append(Call("send_photo", {"chat_id": chat_id, "photo": InputFile(photo, filename="photo.jpg"),
                                         "caption": caption or None, "reply_markup": None if rest else markup}))
        text = rest
    if text:
        for chunk in _chunks(text, TEXT_LIMIT)[:-1]:
            calls.append(Call("send_message", {"chat_id": chat_id, "text": chunk, "link_preview_options": NO_PREVIEW}))
        calls.append(Call("send_message", {"chat_id": chat_id, "text": _chunks(text, TEXT_LIMIT)[-1],
                                           "reply_markup": markup, "link_preview_options": NO_PREVIEW}))
    if payload.get("location"):
        loc = payload["location"]
        calls.append(Call("send_location", {"chat_id": chat_id, "latitude": loc["latitude"],
                                            "longitude": loc["longitude"]}))
    return calls


def render_edit(payload: dict, message_id: int, original: dict) -> list[Call]:
    """Edit a card in place: its caption when it went out as a photo with buttons, else its text."""
    chat_id = int(payload["to"]["id"])
    markup = _markup(payload) or InlineKeyboardMarkup([])
    sent_as = render(original, photo=b"" if original.get("photo_media_id") else None)
    text = payload.get("text") or ""
    if sent_as and sent_as[-1].method == "send_photo":
        caption = text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"
        return [Call("edit_message_caption", {"chat_id": chat_id, "message_id": message_id, "caption": caption,
                                              "reply_markup": markup})]
    body = text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"
    return [Call("edit_message_text", {"chat_id": chat_id, "message_id": message_id, "text": body,
                                       "reply_markup": markup, "link_preview_options": NO_PREVIEW})]


def _markup(payload: dict):
    """Choices become an inline keyboard; a location request a one-time reply keyboard."""
    choices = payload.get("choices") or ()
    if choices:
        cols = max(1, payload.get("columns") or 1)
        buttons = [InlineKeyboardButton(c["label"], callback_data=c["data"]) for c in choices]
        return InlineKeyboardMarkup([buttons[i:i + cols] for i in range(0, len(buttons), cols)])
    if payload.get("request_location"):
        label = payload.get("location_label") or "📍"
        return ReplyKeyboardMarkup([[KeyboardButton(label, request_location=True)]], resize_keyboard=True,
                                   one_time_keyboard=True)
    if payload.get("force_reply"):
        return ForceReply()
    if payload.get("remove_keyboard"):
        return ReplyKeyboardRemove()
    return None


def _split(text: str, limit: int) -> tuple[str, str]:
    if len(text) <= limit:
        return text, ""
    cut = text.rfind("\n", 0, limit)
    cut = cut if cut > 0 else limit
    return text[:cut], text[cut:].lstrip("\n")


def _chunks(text: str, limit: int) -> list[str]:
    out = []
    while text:
        head, text = _split(text, limit)
        out.append(head)
    return out or [""]

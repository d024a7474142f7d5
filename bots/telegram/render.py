"""Translate an outbound message into python-telegram-bot calls; pure, table-tested.

Plain text only (no parse mode), and no link previews: a link a citizen typed into a report must not unfold
into a preview on the operators' card or a crew's task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    LinkPreviewOptions,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from core.messages import Outbound

TEXT_LIMIT, CAPTION_LIMIT = 4096, 1024
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass(frozen=True)
class Call:
    """One Bot API method on `telegram.Bot` with its keyword arguments."""

    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def render(message: Outbound, photo: bytes | None = None) -> list[Call]:
    """The calls that show `message`; the last call's message is the one to remember."""
    if message.answer_callback:
        return [Call("answer_callback_query", {"callback_query_id": message.answer_callback,
                                               "text": message.text or None})]
    chat_id = int(message.to.id)
    text = message.text
    markup = _markup(message)
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
    if message.location is not None:
        calls.append(Call("send_location", {"chat_id": chat_id, "latitude": message.location.latitude,
                                            "longitude": message.location.longitude}))
    return calls


def render_edit(message: Outbound, message_id: int, original: Outbound) -> list[Call]:
    """Edit a card in place: its caption when it went out as a photo with buttons, else its text."""
    chat_id = int(message.to.id)
    markup = _markup(message) or InlineKeyboardMarkup([])
    sent_as = render(original, photo=b"" if original.photo_media_id else None)
    text = message.text
    if sent_as and sent_as[-1].method == "send_photo":
        caption = text if len(text) <= CAPTION_LIMIT else text[: CAPTION_LIMIT - 1] + "…"
        return [Call("edit_message_caption", {"chat_id": chat_id, "message_id": message_id, "caption": caption,
                                              "reply_markup": markup})]
    body = text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"
    return [Call("edit_message_text", {"chat_id": chat_id, "message_id": message_id, "text": body,
                                       "reply_markup": markup, "link_preview_options": NO_PREVIEW})]


def _markup(message: Outbound):
    """Choices become an inline keyboard; a location request a one-time reply keyboard."""
    if message.request_contact:
        return _contact_keyboard(message)
    if message.choices:
        cols = max(1, message.columns or 1)
        buttons = [InlineKeyboardButton(c.label, callback_data=c.data) for c in message.choices]
        return InlineKeyboardMarkup([buttons[i:i + cols] for i in range(0, len(buttons), cols)])
    if message.request_location:
        label = message.location_label or "📍"
        return ReplyKeyboardMarkup([[KeyboardButton(label, request_location=True)]], resize_keyboard=True,
                                   one_time_keyboard=True)
    if message.force_reply:
        return ForceReply()
    if message.remove_keyboard:
        return ReplyKeyboardRemove()
    return None


def _contact_keyboard(message: Outbound) -> ReplyKeyboardMarkup:
    """The one-tap "share my number" button. A message carries one keyboard and a reply keyboard holds no inline
    buttons, so the message's choices (Skip) come as reply buttons too: pressing one sends its label as text,
    which the conversation reads like the press of that choice."""
    cols = max(1, message.columns or 1)
    labels = [KeyboardButton(c.label) for c in message.choices]
    rows = [[KeyboardButton(message.contact_label or "📱", request_contact=True)]]
    rows += [labels[i:i + cols] for i in range(0, len(labels), cols)]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


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

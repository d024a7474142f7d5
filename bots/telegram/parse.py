"""Translate a Telegram Update (JSON) into an Inbound event; pure, no network."""
from __future__ import annotations

from telegram import Message, Update

from core.messages import Address, GeoPoint, Inbound, Kind, MediaRef

CHANNEL = "telegram"


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def conversation_key(update: dict) -> str:
    """The chat an update belongs to, so its updates are processed one at a time and in order."""
    for field in ("message", "edited_message"):
        if isinstance(update.get(field), dict):
            return f"{CHANNEL}:{_dict(update[field].get('chat')).get('id')}"
    cq = update.get("callback_query")
    if isinstance(cq, dict):
        chat = _dict(_dict(cq.get("message")).get("chat")) or _dict(cq.get("from"))
        return f"{CHANNEL}:{chat.get('id')}"
    return f"{CHANNEL}:other"


def parse(data: dict) -> Inbound | None:
    """Return the event, or None for updates we do not act on (edits, joins, channel posts…) and for
    malformed ones, which no real Bot API sends: they are acknowledged and change nothing."""
    try:
        update = Update.de_json(data, None)
        if update.callback_query is not None:
            return _callback(update)
        if update.message is not None and update.message.from_user is not None:
            return _message(update.message)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
        return None
    return None


def _callback(update: Update) -> Inbound | None:
    cq = update.callback_query
    chat = cq.message.chat if cq.message is not None else None
    return Inbound(
        kind=Kind.CHOICE, chat=Address(CHANNEL, str(chat.id if chat else cq.from_user.id)),
        sender=Address(CHANNEL, str(cq.from_user.id)), sender_name=cq.from_user.full_name,
        language_code=cq.from_user.language_code, choice=cq.data or "", callback_id=cq.id,
        is_private=chat is None or chat.type == "private")


def _message(m: Message) -> Inbound:
    base = dict(chat=Address(CHANNEL, str(m.chat.id)), sender=Address(CHANNEL, str(m.from_user.id)),
                sender_name=m.from_user.full_name, language_code=m.from_user.language_code,
                is_private=m.chat.type == "private")
    if m.text and m.text.startswith("/"):
        head, _, args = m.text[1:].partition(" ")
        return Inbound(kind=Kind.COMMAND, command=head.split("@")[0].lower(), args=args.strip(), text=m.text, **base)
    if m.text:
        return Inbound(kind=Kind.TEXT, text=m.text, **base)
    if m.photo:
        largest = max(m.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return Inbound(kind=Kind.PHOTO, media=MediaRef(largest.file_id, largest.file_size), text=m.caption or "",
                       **base)
    if m.venue is not None:
        loc = m.venue.location
        return Inbound(kind=Kind.LOCATION, location=GeoPoint(loc.latitude, loc.longitude), text=m.venue.title, **base)
    if m.location is not None:
        return Inbound(kind=Kind.LOCATION, location=GeoPoint(m.location.latitude, m.location.longitude), **base)
    if m.document is not None:
        return Inbound(kind=Kind.DOCUMENT, media=MediaRef(m.document.file_id, m.document.file_size),
                       text=m.caption or "", **base)
    if m.contact is not None:
        return Inbound(kind=Kind.CONTACT, phone=m.contact.phone_number or "", **base)
    for attr, kind in (("voice", Kind.VOICE), ("audio", Kind.VOICE), ("video_note", Kind.VIDEO),
                       ("video", Kind.VIDEO), ("animation", Kind.VIDEO), ("sticker", Kind.STICKER)):
        if getattr(m, attr, None) is not None:
            return Inbound(kind=kind, **base)
    return Inbound(kind=Kind.OTHER, **base)

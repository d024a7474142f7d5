"""Translate a Telegram Update (JSON) into an Inbound event; pure, no network."""
from __future__ import annotations

from telegram import Message, Update

from core import button_data
from core.messages import Address, GeoPoint, Inbound, Kind, MediaRef

CHANNEL = "telegram"
MAX_TEXT = 4096  # the Bot API's longest message; a forged longer one is cut, never carried whole


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value) -> str:
    return value[:200] if isinstance(value, str) else ""


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53 else None


def _id(value) -> str:
    """A user or chat id as text; Telegram's are integers of at most 52 bits, anything else is forged."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**53:
        raise ValueError("not a Telegram id")
    return str(value)


def _point(location) -> GeoPoint:
    """Coordinates of a place on Earth, or ValueError (the update is then ignored)."""
    lat, lon = float(location.latitude), float(location.longitude)
    if not button_data.valid_point(lat, lon):
        raise ValueError("coordinates out of range")
    acc = getattr(location, "horizontal_accuracy", None)  # Telegram: 0-1500 m, when the phone gave one
    return GeoPoint(lat, lon, float(acc) if isinstance(acc, int | float) and 0 <= acc <= 1500 else None)


def _lang(value) -> str | None:
    return value if isinstance(value, str) else None


def conversation_key(update: dict) -> str:
    """The chat an update belongs to, so its updates are processed one at a time and in order."""
    chat = None
    for field in ("message", "edited_message"):
        if isinstance(update.get(field), dict):
            chat = _dict(update[field].get("chat"))
            break
    else:
        cq = update.get("callback_query")
        if isinstance(cq, dict):
            chat = _dict(_dict(cq.get("message")).get("chat")) or _dict(cq.get("from"))
    try:
        return f"{CHANNEL}:{_id(chat.get('id'))}" if chat is not None else f"{CHANNEL}:other"
    except ValueError:
        return f"{CHANNEL}:other"  # an odd id never becomes a key (an object there would not even fit the column)


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
    if not button_data.valid(cq.data):
        return None  # not data the bot offered (forged, or absurd numbers): acknowledged, changes nothing
    chat = cq.message.chat if cq.message is not None else None
    return Inbound(
        kind=Kind.CHOICE, chat=Address(CHANNEL, _id(chat.id if chat else cq.from_user.id)),
        sender=Address(CHANNEL, _id(cq.from_user.id)), sender_name=_text(cq.from_user.full_name),
        language_code=_lang(cq.from_user.language_code), choice=cq.data,
        callback_id=str(cq.id)[:64],
        is_private=chat is None or chat.type == "private")


def _message(m: Message) -> Inbound:
    base = dict(chat=Address(CHANNEL, _id(m.chat.id)), sender=Address(CHANNEL, _id(m.from_user.id)),
                sender_name=_text(m.from_user.full_name), language_code=_lang(m.from_user.language_code),
                is_private=m.chat.type == "private")
    text = m.text[:MAX_TEXT] if isinstance(m.text, str) else ""
    if text.startswith("/"):
        head, _, args = text[1:].partition(" ")
        return Inbound(kind=Kind.COMMAND, command=head.split("@")[0].lower()[:64], args=args.strip(), text=text, **base)
    if text:
        return Inbound(kind=Kind.TEXT, text=text, **base)
    if m.photo:
        sizes = [p for p in m.photo if isinstance(p.file_id, str) and _int(p.width) and _int(p.height)]
        largest = max(sizes, key=lambda p: (p.width * p.height, _int(p.file_size) or 0))
        return Inbound(kind=Kind.PHOTO, media=MediaRef(largest.file_id, _int(largest.file_size)),
                       text=_text(m.caption), **base)
    if m.venue is not None:
        return Inbound(kind=Kind.LOCATION, location=_point(m.venue.location), text=_text(m.venue.title), **base)
    if m.location is not None:
        return Inbound(kind=Kind.LOCATION, location=_point(m.location), **base)
    if m.document is not None:
        if not isinstance(m.document.file_id, str):
            raise ValueError("document without a file id")
        return Inbound(kind=Kind.DOCUMENT, media=MediaRef(m.document.file_id, _int(m.document.file_size)),
                       text=_text(m.caption), **base)
    if m.contact is not None:
        own = m.contact.user_id is not None and m.contact.user_id == m.from_user.id  # not someone else's card
        return Inbound(kind=Kind.CONTACT, phone=_text(m.contact.phone_number)[:32], own_contact=own, **base)
    for attr, kind in (("voice", Kind.VOICE), ("audio", Kind.VOICE), ("video_note", Kind.VIDEO),
                       ("video", Kind.VIDEO), ("animation", Kind.VIDEO), ("sticker", Kind.STICKER)):
        if getattr(m, attr, None) is not None:
            return Inbound(kind=kind, **base)
    return Inbound(kind=Kind.OTHER, **base)

"""Translate WhatsApp Cloud API notifications into inbox items and Inbound events; pure, no network."""
from __future__ import annotations

from dataclasses import dataclass

from core import button_data
from core.messages import Address, GeoPoint, Inbound, Kind, MediaRef

CHANNEL = "whatsapp"
MAX_TEXT = 4096  # WhatsApp's longest text body; a forged longer one is cut, never carried whole


@dataclass(frozen=True)
class Item:
    """One message of a notification, stored on its own so each is de-duplicated by its message id."""

    external_id: str
    conversation_key: str
    payload: dict


@dataclass(frozen=True)
class Delivery:
    """A delivery report: our sent message's id, its new status, and the error Meta gave, if any."""

    message_id: str
    status: str
    error: str | None = None


def _delivery(status: dict) -> Delivery | None:
    message_id, state = status.get("id"), status.get("status")
    if not isinstance(message_id, str) or not message_id or not isinstance(state, str):
        return None
    first = (_dicts(status.get("errors")) or [{}])[0]
    error = f"{first.get('code', '')} {_str(first.get('title'))}".strip() or None
    return Delivery(message_id[:128], state[:16], error)


def _dicts(value) -> list[dict]:
    """The dicts of a list; anything else in an odd notification is skipped."""
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _str(value) -> str:
    return value if isinstance(value, str) else ""


def identity(contact: dict, message: dict) -> str | None:
    """The sender: wa_id when present, else the business-scoped user id (a user may show no phone number)."""
    who = (message.get("from") or contact.get("wa_id") or message.get("from_user_id") or contact.get("user_id")
           or None)
    return str(who)[:64] if isinstance(who, (str, int)) and not isinstance(who, bool) else None


def split(notification: dict) -> tuple[list[Item], list[Delivery]]:
    """Messages as inbox items, and delivery statuses (sent/delivered/read/failed) as they came."""
    items, statuses = [], []
    for entry in _dicts(notification.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = _dict(change.get("value"))
            contacts = _dicts(value.get("contacts")) or [{}]
            for i, message in enumerate(_dicts(value.get("messages"))):
                contact = contacts[i] if i < len(contacts) else contacts[0]
                who, message_id = identity(contact, message), message.get("id")
                if who and isinstance(message_id, str) and message_id:
                    items.append(Item(message_id[:128], f"{CHANNEL}:{who}", {"contact": contact, "message": message}))
            statuses += [d for d in map(_delivery, _dicts(value.get("statuses"))) if d is not None]
    return items, statuses


def parse(payload: dict) -> Inbound | None:
    """One stored message → event; None for kinds we do not act on (reactions, system messages) and for
    malformed ones, which Meta does not send: they are acknowledged and change nothing."""
    try:
        return _parse(_dict(payload.get("contact")), _dict(payload.get("message")))
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
        return None


def _choice(data, title: str, base: dict) -> Inbound | None:
    """A pressed button or list row; data the bot never offered (forged, absurd numbers) is dropped."""
    if not button_data.valid(data):
        return None
    return Inbound(kind=Kind.CHOICE, choice=data, text=title, **base)


def _parse(contact: dict, m: dict) -> Inbound | None:
    if identity(contact, m) is None:
        return None
    who = Address(CHANNEL, identity(contact, m))
    name = _dict(contact.get("profile")).get("name")
    base = dict(chat=who, sender=who, sender_name=name[:200] if isinstance(name, str) else "", is_private=True)
    kind = m.get("type")
    if kind == "text":
        body = _str(_dict(m.get("text")).get("body"))[:MAX_TEXT]
        if body.startswith("/"):
            head, _, args = body[1:].partition(" ")
            return Inbound(kind=Kind.COMMAND, command=head.lower()[:64], args=args.strip(), text=body, **base)
        return Inbound(kind=Kind.TEXT, text=body, **base)
    if kind == "interactive":
        reply = _dict(m.get("interactive"))
        picked = _dict(reply.get("button_reply") or reply.get("list_reply"))
        return _choice(picked.get("id"), _str(picked.get("title"))[:200], base)
    if kind == "button":
        return _choice(_dict(m.get("button")).get("payload"), "", base)
    if kind in ("image", "document"):
        media = m.get(kind) or {}
        ev = Kind.PHOTO if kind == "image" else Kind.DOCUMENT
        size = media.get("file_size")
        return Inbound(kind=ev, media=MediaRef(_str(media.get("id")), size if isinstance(size, int) else None),
                       text=_str(media.get("caption")), **base)
    if kind == "location":
        loc = m.get("location") or {}
        point = GeoPoint(float(loc["latitude"]), float(loc["longitude"]))
        if not button_data.valid_point(point.latitude, point.longitude):
            return None
        return Inbound(kind=Kind.LOCATION, location=point,
                       text=_str(loc.get("name")) or _str(loc.get("address")), **base)
    if kind == "contacts":
        return _contact(contact, m, base)
    simple = {"audio": Kind.VOICE, "voice": Kind.VOICE, "sticker": Kind.STICKER, "video": Kind.VIDEO}
    if kind in simple:
        return Inbound(kind=simple[kind], **base)
    if kind in ("reaction", "system", "ephemeral", "request_welcome"):
        return None
    return Inbound(kind=Kind.OTHER, **base)


def _contact(contact: dict, m: dict, base: dict) -> Inbound:
    """A shared card: the sender's own number when they tapped our request (origin "contact_request") or when a
    number's wa_id is the sender's; otherwise someone else's card (its first number, not their own)."""
    card = (_dicts(m.get("contacts")) or [{}])[0]
    phones = [p for p in _dicts(card.get("phones")) if _str(p.get("phone")) or _str(p.get("wa_id")).isdigit()]
    sender = _str(m.get("from") or contact.get("wa_id"))
    mine = next((p for p in phones if sender and _str(p.get("wa_id")) == sender), None)
    picked = mine or (phones[0] if phones else {})
    number = _str(picked.get("phone")) or ("+" + _str(picked.get("wa_id")) if picked.get("wa_id") else "")
    own = bool(number) and (mine is not None or card.get("origin") == "contact_request")
    return Inbound(kind=Kind.CONTACT, phone=number[:32], own_contact=own, **base)

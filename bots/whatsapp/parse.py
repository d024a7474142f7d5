"""Translate WhatsApp Cloud API notifications into inbox items and Inbound events; pure, no network."""
from __future__ import annotations

from dataclasses import dataclass

from core.messages import Address, GeoPoint, Inbound, Kind, MediaRef

CHANNEL = "whatsapp"


@dataclass(frozen=True)
class Item:
    """One message of a notification, stored on its own so each is de-duplicated by its message id."""

    external_id: str
    conversation_key: str
    payload: dict


def identity(contact: dict, message: dict) -> str | None:
    """The sender: wa_id when present, else the business-scoped user id (a user may show no phone number)."""
    return (message.get("from") or contact.get("wa_id") or message.get("from_user_id") or contact.get("user_id")
            or None)


def split(notification: dict) -> tuple[list[Item], list[dict]]:
    """Messages as inbox items, and delivery statuses (sent/delivered/read/failed) as they came."""
    items, statuses = [], []
    for entry in notification.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            contacts = value.get("contacts") or [{}]
            for i, message in enumerate(value.get("messages") or []):
                contact = contacts[i] if i < len(contacts) else contacts[0]
                who = identity(contact, message)
                if who and message.get("id"):
                    items.append(Item(message["id"], f"{CHANNEL}:{who}", {"contact": contact, "message": message}))
            statuses += [s for s in value.get("statuses") or [] if isinstance(s, dict) and s.get("id")]
    return items, statuses


def parse(payload: dict) -> Inbound | None:
    """One stored message → event; None for kinds we do not act on (reactions, system messages)."""
    contact, m = payload.get("contact") or {}, payload.get("message") or {}
    who = Address(CHANNEL, identity(contact, m))
    base = dict(chat=who, sender=who, sender_name=(contact.get("profile") or {}).get("name", ""), is_private=True)
    kind = m.get("type")
    if kind == "text":
        body = (m.get("text") or {}).get("body", "")
        if body.startswith("/"):
            head, _, args = body[1:].partition(" ")
            return Inbound(kind=Kind.COMMAND, command=head.lower(), args=args.strip(), text=body, **base)
        return Inbound(kind=Kind.TEXT, text=body, **base)
    if kind == "interactive":
        reply = (m.get("interactive") or {})
        picked = reply.get("button_reply") or reply.get("list_reply") or {}
        return Inbound(kind=Kind.CHOICE, choice=picked.get("id", ""), text=picked.get("title", ""), **base)
    if kind == "button":
        return Inbound(kind=Kind.CHOICE, choice=(m.get("button") or {}).get("payload", ""), **base)
    if kind in ("image", "document"):
        media = m.get(kind) or {}
        ev = Kind.PHOTO if kind == "image" else Kind.DOCUMENT
        return Inbound(kind=ev, media=MediaRef(media.get("id", ""), media.get("file_size")),
                       text=media.get("caption", ""), **base)
    if kind == "location":
        loc = m.get("location") or {}
        return Inbound(kind=Kind.LOCATION, location=GeoPoint(float(loc["latitude"]), float(loc["longitude"])),
                       text=loc.get("name") or loc.get("address") or "", **base)
    simple = {"audio": Kind.VOICE, "voice": Kind.VOICE, "sticker": Kind.STICKER, "video": Kind.VIDEO,
              "contacts": Kind.CONTACT}
    if kind in simple:
        return Inbound(kind=simple[kind], **base)
    if kind in ("reaction", "system", "ephemeral", "request_welcome"):
        return None
    return Inbound(kind=Kind.OTHER, **base)

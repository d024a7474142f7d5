"""Reading what the fake WhatsApp server received, and the FakeWhatsApp fixture settings the tests share."""
from __future__ import annotations

from tests.harness import eventually

TEMPLATES = {"siaga112_kabar_laporan", "siaga112_penilaian", "siaga112_tugas_baru"}


def body(message: dict) -> str:
    """The text a person reads in an outbound WhatsApp message, whatever its type."""
    kind = message.get("type")
    if kind == "text":
        return message["text"]["body"]
    if kind == "interactive":
        return (message["interactive"].get("body") or {}).get("text", "")
    if kind == "image":
        return (message.get("image") or {}).get("caption") or ""
    if kind == "template":
        parts = [p.get("text", "") for c in message["template"].get("components", [])
                 for p in c.get("parameters", []) if p.get("type") == "text"]
        return " ".join(parts)
    return ""


def option_ids(message: dict) -> list[str]:
    """Ids of reply buttons, list rows, or template quick-reply payloads."""
    if message.get("type") == "interactive":
        action = message["interactive"].get("action") or {}
        ids = [b["reply"]["id"] for b in action.get("buttons", []) if "reply" in b]
        ids += [r["id"] for s in action.get("sections", []) for r in s.get("rows", [])]
        return ids
    if message.get("type") == "template":
        return [p.get("payload") for c in message["template"].get("components", [])
                if c.get("type", "").lower() == "button" for p in c.get("parameters", [])]
    return []


async def wait_option(wa, who: str, option: str, since: int = 0) -> dict:
    def found():
        return next((m for m in wa.sent(who)[since:] if option in option_ids(m)), None)
    return await eventually(found, timeout=40)


async def wait_body(wa, who: str, fragment: str, since: int = 0) -> dict:
    def found():
        return next((m for m in wa.sent(who)[since:] if fragment in body(m)), None)
    return await eventually(found, timeout=40)


async def choose(wa, who: str, message: dict, option: str) -> dict:
    """Answer a message the way its form allows: reply button, list row or template quick reply."""
    if message.get("type") == "template":
        return await wa.press_quick_reply(who, message["_id"], option)
    if message["interactive"].get("type") == "list":
        return await wa.pick_list_row(who, message["_id"], option)
    return await wa.press_button(who, message["_id"], option)

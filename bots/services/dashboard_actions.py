"""Dashboard actions as desk events: stored in the inbox like a button press, applied by the same `Desk`.

Only the signed-in web layer writes `dashboard` inbox rows (no webhook can), after checking that the
account may act; the `Desk` then applies the same domain commands and sends the same card edits.
"""
from __future__ import annotations

import uuid

from bots.services import events
from core import inbox
from core.messages import Address, Inbound, Kind

CHANNEL = "dashboard"


def parse(payload: dict) -> Inbound:
    """The stored action back as an operator's button press (never a private chat)."""
    who = Address(CHANNEL, payload["username"])
    return Inbound(kind=Kind.CHOICE, chat=who, sender=who, sender_name=payload.get("name", ""),
                   choice=payload["choice"], is_private=False)


async def submit(deps, username: str, name: str, choice: str) -> None:
    """Store the action durably, then apply it at once (the worker would otherwise, moments later)."""
    payload, external_id = {"username": username, "name": name, "choice": choice}, uuid.uuid4().hex
    async with deps.sessions() as session, session.begin():
        await inbox.store(session, channel=CHANNEL, external_id=external_id, conversation_key=f"{CHANNEL}:{username}",
                          payload=payload, now=deps.clock.now())
        item_id = await inbox.id_of(session, CHANNEL, external_id)
    await events.handle(deps, item_id, parse(payload))
    await deps.coord.wake("outbox")

"""Dashboard actions as desk events: the same `Desk` as a button press, applied while the operator waits.

Only the signed-in web layer writes `dashboard` inbox rows (no webhook can), after checking that the
account may act. The row is stored, applied by the `Desk` and marked done in one transaction, so no worker
can take it first and the page learns the outcome: the same cards and messages as the Telegram buttons on
success, or the refusal (why, as a catalog key) to show the operator, with nothing changed.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from bots.services import outgoing
from bots.services.desk import Desk
from bots.services.live_channels import live_channels
from core import inbox
from core.messages import Address, Inbound, Kind

CHANNEL = "dashboard"


@dataclass(frozen=True)
class Result:
    """What became of a dashboard action: refused (a catalog key and its placeholders) or done."""

    refused: str | None = None
    params: dict[str, object] = field(default_factory=dict)


def parse(payload: dict) -> Inbound:
    """The stored action back as an operator's button press (never a private chat)."""
    who = Address(CHANNEL, payload["username"])
    return Inbound(kind=Kind.CHOICE, chat=who, sender=who, sender_name=payload.get("name", ""),
                   choice=payload["choice"], is_private=False)


async def submit(deps, username: str, name: str, choice: str) -> Result:
    """Store the action durably and apply it at once, in one transaction; say whether the desk refused it."""
    payload, external_id = {"username": username, "name": name, "choice": choice}, uuid.uuid4().hex
    event, now = parse(payload), deps.clock.now()
    async with deps.sessions() as session, session.begin():
        await inbox.store(session, channel=CHANNEL, external_id=external_id, conversation_key=f"{CHANNEL}:{username}",
                          payload=payload, now=now)
        item = await inbox.lock_pending(session, await inbox.id_of(session, CHANNEL, external_id))
        desk = Desk(session, deps.config, event, now, live=await live_channels(deps, session))
        out = await desk.handle()
        await outgoing.queue(deps, session, out, now)  # not the answer to "dashboard": no such channel
        await inbox.mark_done(session, item, now)
    await deps.coord.wake("outbox")
    return Result(desk.refused.key, desk.refused.params) if desk.refused else Result()

"""The transactional outbox: messages saved with the change that caused them, sent in order per chat."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from core.messages import Address, Choice, GeoPoint, Outbound, Priority
from core.models import OutboxItem

MAX_ATTEMPTS = 8
LEASE = timedelta(seconds=15)  # renewed while the send is in flight (Sender): a killed worker's message waits ≤ 15 s
MERGED_TEXT_LIMIT = 3500  # Telegram allows 4096 characters a message


_FIELDS = frozenset(f.name for f in fields(Outbound))
# Reporters an operator met by phone, radio or in person: no chat reaches them, whatever a flow addresses to them
# (the one place every message passes, so a future flow cannot page a caller by mistake).
OFF_CHAT = frozenset({"phone", "radio", "walk_in", "relay"})


def decode(payload: Mapping[str, Any]) -> Outbound:
    """The typed message a stored payload (`asdict(Outbound)`, through JSON) holds. Keys this version does not
    know are ignored and missing ones take their defaults, so rows stored by an older or newer version load."""
    values = {key: value for key, value in payload.items() if key in _FIELDS}
    to = payload["to"]
    values["to"] = Address(str(to["channel"]), str(to["id"]))
    values["choices"] = tuple(Choice(str(c["data"]), str(c["label"]), str(c.get("short") or ""))
                              for c in payload.get("choices") or ())
    point = payload.get("location")
    values["location"] = GeoPoint(float(point["latitude"]), float(point["longitude"])) if point else None
    return Outbound(**values)


def message_of(item: OutboxItem) -> Outbound:
    """The typed message an outbox row carries: what the sender renders and the pages read."""
    return decode(item.payload)


def lane(message: Outbound, group: bool = False) -> str:
    """Messages to one chat go out in order. A callback answer is its own lane so it never waits, and so are
    the edits of one card, so a new urgent card never queues behind edits of older ones. In a group, each
    priority is a lane too: an urgent report's card does not queue behind a minor one's (a card and its
    pin share a priority, so they stay in order); a person's messages stay in one lane, in order.
    Whether the chat is a group is the channel adapter's answer (`group`): ids are opaque here."""
    if message.answer_callback:
        return f"cb:{message.answer_callback}"
    if message.edit_of:
        return f"{message.to.id}#{message.edit_of}"
    if "@" in message.ref:  # a card's private copy: its own lane, so the urgent copies pass the others
        return f"{message.to.id}#{message.ref}"
    return f"{message.to.id}#p{message.priority}" if group else message.to.id


async def waiting_cards(session: AsyncSession, channel: str, chat: str) -> int:
    """How many new report or task cards (first sends) wait for a group's limit: how saturated the group is."""
    return int(await session.scalar(select(func.count()).select_from(OutboxItem).where(
        OutboxItem.channel == channel, OutboxItem.group_chat == chat, OutboxItem.status == "pending",
        OutboxItem.edit_of.is_(None), or_(OutboxItem.ref.like("card:%"), OutboxItem.ref.like("task:%")))) or 0)


async def waiting_for(session: AsyncSession, to: Address) -> int:
    """How many messages wait for one person's chat (all its lanes): whether its allowance is taken already."""
    return int(await session.scalar(select(func.count()).select_from(OutboxItem).where(
        OutboxItem.channel == to.channel, OutboxItem.group_chat.is_(None), OutboxItem.status == "pending",
        or_(OutboxItem.chat_id == to.id, OutboxItem.chat_id.like(f"{to.id}#%")))) or 0)


def copy_ref(ref: str, to: Address) -> str:
    """The ref of a card's copy in one person's private chat: its edits follow the card's (`enqueue`)."""
    return f"{ref}@{to}"


async def _copies(session: AsyncSession, ref: str, case_id: int | None) -> list[tuple[str, Address]]:
    """The private copies of a card ever queued: (their ref, the chat they went to). Looked up among the case's
    messages (an indexed column: a LIKE on refs alone reads the whole outbox under PostgreSQL's collations)."""
    if case_id is None:
        return []
    refs = (await session.execute(select(OutboxItem.ref).where(
        OutboxItem.case_id == case_id, OutboxItem.ref.like(f"{ref}@%")).distinct()))
    return [(copy, Address.parse(copy.partition("@")[2])) for copy in sorted(r for r in refs.scalars() if r)]


async def enqueue(session: AsyncSession, message: Outbound, now: datetime, *,
                  group: bool = False) -> OutboxItem | None:
    """Queue the message; a newer edit of the same card replaces edits of it not yet sent. `group`: the
    channel adapter says the chat is a group (its messages are paced as one, the most urgent first).
    A message to a caller met off-chat (a report an operator entered) is dropped here: None."""
    if message.to.channel in OFF_CHAT:
        return None
    if message.edit_of.startswith("card:") and not await _queued_ever(session, message.edit_of):
        message = replace(message, ref=message.edit_of, edit_of="")  # never posted (a held web report): post it now
    if message.edit_of:
        await session.execute(update(OutboxItem).where(OutboxItem.edit_of == message.edit_of,
                                                       OutboxItem.status == "pending").values(status="superseded"))
        if "@" not in message.edit_of and message.priority > Priority.BACKGROUND:  # the card's private copies show
            for ref, to in await _copies(session, message.edit_of, message.case_id):  # the same (not clock ticks)
                await enqueue(session, replace(message, to=to, edit_of=ref), now)
    if message.merge and message.to.channel == "telegram":
        joined = await _join_waiting(session, message, group)
        if joined is not None:
            return joined
    group_chat = message.to.id if group and not message.answer_callback else None
    item = OutboxItem(channel=message.to.channel, chat_id=lane(message, group), group_chat=group_chat,
                      payload=asdict(message), priority=message.priority, status="pending", not_before=now,
                      case_id=message.case_id, ref=message.ref or None, edit_of=message.edit_of or None,
                      created_at=now)
    session.add(item)
    return item


async def _queued_ever(session: AsyncSession, ref: str) -> bool:
    """Whether a first send with this ref was ever queued (held web reports have no card until someone acts)."""
    return (await session.execute(select(OutboxItem.id).where(OutboxItem.ref == ref).limit(1))).first() is not None


async def _join_waiting(session: AsyncSession, message: Outbound, group: bool) -> OutboxItem | None:
    """Add the text to the chat's last waiting message when it is a notice of the same kind: in a surge a leader
    gets a few long messages instead of hundreds at one a second, and an escalation does not queue behind them."""
    last = (await session.execute(select(OutboxItem).where(
        OutboxItem.channel == message.to.channel, OutboxItem.chat_id == lane(message, group),
        OutboxItem.status == "pending").order_by(OutboxItem.id.desc()).limit(1)
        .with_for_update(skip_locked=True))).scalar_one_or_none()
    if last is None or last.payload.get("merge") != message.merge:
        return None
    text = f"{last.payload['text']}\n\n{message.text}"
    if len(text) > MERGED_TEXT_LIMIT:
        return None
    last.payload = {**last.payload, "text": text}
    last.priority = max(last.priority, message.priority)
    return last


async def edit_target(session: AsyncSession, ref: str) -> tuple[str, OutboxItem | None]:
    """The sent message an edit applies to: ("sent", row), ("waiting", None) or ("gone", None); ("batched", row)
    for a card folded into a list of waiting cards (core/outbox_lists.py: the edit replaces its line there)."""
    rows = (await session.execute(select(OutboxItem).where(OutboxItem.ref == ref).order_by(OutboxItem.id.desc())
                                  .limit(1))).scalars().all()
    if not rows or rows[0].status == "dead":
        return "gone", None
    if rows[0].status == "batched":
        return "batched", rows[0]
    return ("sent", rows[0]) if rows[0].status == "sent" else ("waiting", None)


async def shown_choices(session: AsyncSession, ref: str) -> tuple[Choice, ...] | None:
    """The buttons of the latest version of a card (its first send or its newest edit)."""
    payload = (await session.execute(select(OutboxItem.payload).where(
        or_(OutboxItem.ref == ref, OutboxItem.edit_of == ref), OutboxItem.status != "superseded")
        .order_by(OutboxItem.id.desc()).limit(1))).scalar_one_or_none()
    return None if payload is None else decode(payload).choices


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(and_(OutboxItem.status == "pending", OutboxItem.not_before <= now),
               and_(OutboxItem.status == "sending", OutboxItem.lease_until < now))


async def claim(session: AsyncSession, now: datetime, limit: int) -> list[OutboxItem]:
    """Lease the next due message of each lane, urgent first; expired leases (a dead worker) come back.
    A group's lanes (new cards by priority, each card's edits) hand out one message at a time, the most
    urgent due one: Telegram lets 20 a minute into a group, and with several workers racing for each free
    slot it went to whichever asked first (the load bench saw card edits take half the slots of new cards)."""
    earlier = aliased(OutboxItem)
    blocked = (select(earlier.id).where(earlier.channel == OutboxItem.channel, earlier.chat_id == OutboxItem.chat_id,
                                        earlier.status.in_(("pending", "sending")), earlier.id < OutboxItem.id)
               .exists())
    other = aliased(OutboxItem)
    group_ahead = (select(other.id).where(
        other.channel == OutboxItem.channel, other.group_chat == OutboxItem.group_chat, other.id != OutboxItem.id,
        or_(and_(other.status == "sending", other.lease_until >= now),
            and_(other.status == "pending", other.not_before <= now,
                 or_(other.priority > OutboxItem.priority,
                     and_(other.priority == OutboxItem.priority, other.id < OutboxItem.id)))))
                   .exists())
    stmt = (select(OutboxItem).where(_claimable(now), ~blocked, or_(OutboxItem.group_chat.is_(None), ~group_ahead))
            .order_by(OutboxItem.priority.desc(), OutboxItem.id).limit(limit)
            .with_for_update(skip_locked=True, of=OutboxItem))
    items = list((await session.execute(stmt)).scalars())
    for item in items:
        item.status, item.lease_until = "sending", now + LEASE
    return items


async def renew(session: AsyncSession, item_id: int, now: datetime) -> None:
    """Keep the lease of a message still being sent, so only a dead worker's lease runs out."""
    await session.execute(update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.status == "sending")
                          .values(lease_until=now + LEASE))


async def mark_sent(session: AsyncSession, item_id: int, message_id: str | None, now: datetime) -> None:
    await session.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(
        status="sent", sent_at=now, platform_message_id=message_id, lease_until=None, last_error=None))


async def postpone(session: AsyncSession, item_id: int, until: datetime, error: str | None = None,
                   count_attempt: bool = False) -> str:
    """Put the message back for later; after MAX_ATTEMPTS real failures it goes to the dead-letter state."""
    item = await session.get(OutboxItem, item_id)
    if item is None:
        return "missing"
    if count_attempt:
        item.attempts += 1
    item.last_error = error[:500] if error else item.last_error
    item.lease_until = None
    item.status = "dead" if item.attempts >= MAX_ATTEMPTS else "pending"
    item.not_before = until
    return item.status


async def mark_dead(session: AsyncSession, item_id: int, error: str) -> None:
    await session.execute(update(OutboxItem).where(OutboxItem.id == item_id).values(
        status="dead", last_error=error[:500], lease_until=None))


async def next_due(session: AsyncSession) -> datetime | None:
    return (await session.execute(select(func.min(OutboxItem.not_before))
                                  .where(OutboxItem.status == "pending"))).scalar()


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(OutboxItem.status, func.count()).group_by(OutboxItem.status))
    return dict(rows.tuples().all())


STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


async def record_delivery(session: AsyncSession, channel: str, message_id: str, status: str,
                          error: str | None = None) -> bool:
    """Note a platform's delivery report on the message it belongs to; reports arriving late never go back."""
    item = (await session.execute(select(OutboxItem).where(OutboxItem.channel == channel,
                                                           OutboxItem.platform_message_id == message_id)
                                  .with_for_update())).scalar_one_or_none()
    if item is None or status not in STATUS_RANK:
        return False
    if STATUS_RANK[status] > STATUS_RANK.get(item.delivery_status or "", 0):
        item.delivery_status = status
        if error:
            item.last_error = error[:500]
    return True

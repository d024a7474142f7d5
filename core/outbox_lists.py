"""Lists of waiting cards in the outbox: a group's queued new cards folded into one message, and its lines kept.

When a group's queue of new cards is long (Telegram lets a bot post 20 messages a minute into one group), the
sender posts one list instead of the next card (bots/pipeline/sender.py). The folded cards' rows stay, with status
"batched" and `batch_ref` naming the list's row (ref "batch:<id>"); the list's row keeps its lines in its payload,
so a later edit of a folded card replaces its line and the list is rendered again from that locked row.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.messages import Address, Outbound
from core.models import Case, OutboxItem

PREFIX = "batch:"
BATCHED = "batched"
_CARDS = ("card", "task")


@dataclass(frozen=True)
class Line:
    """One card in a list: its ref (`card:12`, `task:7`), the case or task id its button opens, the ticket, the
    words (`Outbound.line`), since when it waits (its row's created_at) and who opened it in a private chat."""

    ref: str
    target: int
    ticket: str
    text: str
    since: datetime
    opened: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "since": self.since.isoformat()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Line:
        return cls(str(data["ref"]), int(data["target"]), str(data.get("ticket") or ""), str(data.get("text") or ""),
                   datetime.fromisoformat(str(data["since"])), str(data.get("opened") or ""))


def is_card(ref: str | None) -> bool:
    """A group's report or task card (not a private copy `card:12@telegram:1001`, not a list)."""
    return bool(ref) and str(ref).split(":")[0] in _CARDS and "@" not in str(ref)


def is_list(ref: str | None) -> bool:
    return bool(ref) and str(ref).startswith(PREFIX)


def lines_of(row: OutboxItem) -> list[Line]:
    return [Line.from_json(x) for x in row.payload.get("lines") or ()]


def version_of(row: OutboxItem) -> int:
    return int(row.payload.get("version") or 0)


def keep(row: OutboxItem, message: Outbound, lines: list[Line]) -> None:
    """Store the new list (the message) with its lines, for later edits to start from; its first send shows
    version 1."""
    row.payload = {**asdict(message), "lines": [x.to_json() for x in lines], "version": 1, "shown": 1}


def _cards(chat: str, channel: str) -> Any:
    return (OutboxItem.channel == channel, OutboxItem.group_chat == chat, OutboxItem.status == "pending",
            OutboxItem.edit_of.is_(None), or_(OutboxItem.ref.like("card:%"), OutboxItem.ref.like("task:%")))


async def fold(session: AsyncSession, item_id: int, size: int, now: datetime) -> tuple[OutboxItem, list[Line]] | None:
    """Fold the claimed card `item_id` and the group's most urgent, oldest waiting cards (up to `size` in all)
    into a new list row, leased like the claimed card; each folded card (and a task card's pin) becomes
    "batched". The list's payload is left to the caller (`keep`). None if the claim was lost meanwhile."""
    claimed = await session.get(OutboxItem, item_id, with_for_update=True)
    if claimed is None or claimed.status != "sending" or claimed.group_chat is None or not is_card(claimed.ref):
        return None
    others = (await session.execute(select(OutboxItem).where(*_cards(claimed.group_chat, claimed.channel))
                                    .where(OutboxItem.id != claimed.id)
                                    .order_by(OutboxItem.priority.desc(), OutboxItem.id).limit(size - 1)
                                    .with_for_update(skip_locked=True))).scalars().all()
    cards = sorted([claimed, *[x for x in others if is_card(x.ref)]], key=lambda r: (-r.priority, r.id))
    listed = OutboxItem(channel=claimed.channel, chat_id=claimed.chat_id, group_chat=claimed.group_chat, payload={},
                        priority=max(r.priority for r in cards), status="sending", not_before=now,
                        lease_until=claimed.lease_until, created_at=now)
    session.add(listed)
    await session.flush()
    listed.ref = f"{PREFIX}{listed.id}"
    found = await session.execute(select(Case.id, Case.ticket).where(
        Case.id.in_({r.case_id for r in cards if r.case_id is not None})))
    tickets: dict[int, str] = {row.id: row.ticket for row in found}
    for row in [*cards, *await _pins(session, cards)]:
        row.status, row.batch_ref, row.lease_until = BATCHED, listed.ref, None
    return listed, [Line(str(r.ref), int(str(r.ref).split(":")[1]), tickets.get(r.case_id or 0, ""),
                         str(r.payload.get("line") or ""), r.created_at) for r in cards]


async def _pins(session: AsyncSession, cards: list[OutboxItem]) -> list[OutboxItem]:
    """The location message queued right after each task card (same lane, same case, no ref): it folds too."""
    pins = []
    for card in cards:
        if not str(card.ref).startswith("task:"):
            continue
        pin = (await session.execute(select(OutboxItem).where(
            OutboxItem.channel == card.channel, OutboxItem.chat_id == card.chat_id, OutboxItem.case_id == card.case_id,
            OutboxItem.id > card.id, OutboxItem.status == "pending", OutboxItem.ref.is_(None),
            OutboxItem.edit_of.is_(None)).order_by(OutboxItem.id).limit(1)
            .with_for_update(skip_locked=True))).scalar_one_or_none()
        if pin is not None and pin.payload.get("location"):
            pins.append(pin)
    return pins


async def list_of(session: AsyncSession, ref: str) -> str | None:
    """The ref of the list a card was folded into, or None (it went out on its own, or has not gone yet)."""
    return (await session.execute(select(OutboxItem.batch_ref).where(
        OutboxItem.ref == ref, OutboxItem.status == BATCHED).order_by(OutboxItem.id.desc()).limit(1))).scalar()


@dataclass(frozen=True)
class Relisted:
    """A list to edit: its sent row, its lines after the change, their version, and whether the group still
    shows an older version (False: this edit changes nothing there, so it need not be sent)."""

    row: OutboxItem
    lines: list[Line]
    version: int
    due: bool


async def relist(session: AsyncSession, list_ref: str, ref: str = "", *, text: str | None = None,
                 opened: str | None = None) -> Relisted | None:
    """Replace the line of card `ref` (its words and/or who opened it) in the list `list_ref`, with the list's
    row locked so racing edits each build on the other's lines (an edit of a list still on its way is sent
    once it has arrived: `row.status`). Without `ref`, the list as it stands. None: the list will never be shown."""
    row = (await session.execute(select(OutboxItem).where(OutboxItem.ref == list_ref).order_by(OutboxItem.id.desc())
                                 .limit(1).with_for_update())).scalar_one_or_none()
    if row is None or row.status == "dead":
        return None
    lines = lines_of(row)
    new = [replace(x, text=text or x.text, opened=x.opened if opened is None else opened) if x.ref == ref else x
           for x in lines]
    version = version_of(row)
    if new != lines:
        version += 1
        row.payload = {**row.payload, "lines": [x.to_json() for x in new], "version": version}
    return Relisted(row, new, version, int(row.payload.get("shown") or 0) < version)


async def shown(session: AsyncSession, list_ref: str, version: int) -> bool:
    """Note that the group shows the list at `version`; True if it changed since (a racing edit may have landed
    first and been overwritten by this older one): then the list needs one more edit."""
    row = (await session.execute(select(OutboxItem).where(OutboxItem.ref == list_ref).order_by(OutboxItem.id.desc())
                                 .limit(1).with_for_update())).scalar_one_or_none()
    if row is None:
        return False
    row.payload = {**row.payload, "shown": max(int(row.payload.get("shown") or 0), version)}
    return version_of(row) > version


def group_of(row: OutboxItem) -> Address:
    """The group a list was posted in."""
    return Address(row.channel, str(row.group_chat))

"""What is wrong with each chat channel, read from the outbox: for the dashboard's banner, /readyz and /metrics.

`summarize` is pure: rows in, one `ChannelHealth` per channel out. `observe` reads the rows worth a look (waiting
past the stuck limit or after a failure, and recent dead letters) and summarizes them. The outbox's
`last_error` may quote a platform's answer about a person, so only its classified reason ever leaves here.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.config import ChannelHealth as Settings
from core.models import Case, OutboxItem

CHAT_CHANNELS = ("telegram", "whatsapp")
MAX_TICKETS = 10       # the banner names at most this many cases per channel
SCAN_LIMIT = 2000      # rows read per look: a bigger backlog is already a banner
REPEATED = 2           # a message failing with a server error this many times makes the channel's trouble
WAITING = ("pending", "sending")
FAILING = ("auth_revoked", "server_error", "other")

State = Literal["ok", "degraded", "down"]
Reason = Literal["auth_revoked", "server_errors", "stuck", "dead_letters"]
Failure = Literal["auth_revoked", "server_error", "rate_limited", "recipient", "other", ""]

_RECIPIENT = ("forbidden", "outside the 24-hour window", "bad request: chat not found", "whatsapp 131026",
              "whatsapp 131050")


def classify(last_error: str | None) -> Failure:
    """The short reason a stored send error stands for (the sender writes `auth_revoked: …`, `server_error: …`)."""
    if not last_error:
        return ""
    text = last_error.lower()
    if text.startswith("auth_revoked"):
        return "auth_revoked"
    if text.startswith("server_error"):
        return "server_error"
    if text.startswith(("telegram 429", "rate limited")) or text in ("whatsapp 130429", "whatsapp 131056"):
        return "rate_limited"
    if text.startswith(_RECIPIENT):
        return "recipient"  # one person blocked the bot or is out of reach: not the channel's trouble
    return "other"


@dataclass(frozen=True)
class Row:
    """One outbox message worth a look, without its text or its error's wording."""

    channel: str
    status: str
    attempts: int
    failure: Failure
    created_at: datetime
    ticket: str | None = None


@dataclass(frozen=True)
class ChannelHealth:
    """One channel: ok, degraded (slow, some messages lost) or down (nothing goes out), and why."""

    channel: str
    state: State = "ok"
    reason: Reason | None = None
    waiting: int = 0                  # not sent yet: stuck, or waiting after a failed attempt
    stuck: int = 0                    # waiting longer than the stuck limit
    failing: int = 0                  # waiting after a failed attempt
    dead_letters: int = 0             # given up recently, for reasons of the channel (not a blocked person)
    oldest_stuck_seconds: int | None = None
    tickets: tuple[str, ...] = field(default=())  # cases whose messages are stuck or lost, oldest first

    @property
    def up(self) -> bool:
        return self.state != "down"

    def public(self) -> dict[str, object]:
        """What /readyz may show anyone: no tickets."""
        return {"state": self.state, "reason": self.reason, "waiting": self.waiting, "stuck": self.stuck,
                "failing": self.failing,
                "dead_letters": self.dead_letters, "oldest_stuck_seconds": self.oldest_stuck_seconds}


def summarize(rows: Iterable[Row], channels: Iterable[str], now: datetime,
              stuck_after: timedelta) -> dict[str, ChannelHealth]:
    """Each channel's health from its troubled rows; a channel with none is ok."""
    by_channel: dict[str, list[Row]] = {name: [] for name in channels}
    for row in rows:
        by_channel.setdefault(row.channel, []).append(row)
    return {name: _one(name, found, now, stuck_after) for name, found in sorted(by_channel.items())}


def _one(channel: str, rows: list[Row], now: datetime, stuck_after: timedelta) -> ChannelHealth:
    waiting = [r for r in rows if r.status in WAITING]
    stuck = [r for r in waiting if now - r.created_at >= stuck_after]
    failing = [r for r in waiting if r.failure in FAILING]
    servers = [r for r in waiting if r.failure == "server_error"]
    dead = [r for r in rows if r.status == "dead" and r.failure != "recipient"]
    state: State = "ok"
    reason: Reason | None = None
    if any(r.failure == "auth_revoked" for r in waiting):
        state, reason = "down", "auth_revoked"
    elif len(servers) >= REPEATED or any(r.attempts >= REPEATED for r in servers):
        state, reason = ("down" if any(r in stuck for r in servers) else "degraded"), "server_errors"
    elif stuck:
        state, reason = "degraded", "stuck"
    elif dead:
        state, reason = "degraded", "dead_letters"
    oldest = min((r.created_at for r in stuck), default=None)
    troubled = sorted({*stuck, *failing, *dead}, key=lambda r: r.created_at) if state != "ok" else []
    tickets = tuple(dict.fromkeys(r.ticket for r in troubled if r.ticket))[:MAX_TICKETS]
    undelivered = sum(1 for r in waiting if r.failure in FAILING or now - r.created_at >= stuck_after)
    return ChannelHealth(channel, state, reason, waiting=undelivered, stuck=len(stuck), failing=len(failing),
                         dead_letters=len(dead),
                         oldest_stuck_seconds=int((now - oldest).total_seconds()) if oldest else None,
                         tickets=tickets)


async def observe(session: AsyncSession, now: datetime, channels: Iterable[str],
                  settings: Settings) -> dict[str, ChannelHealth]:
    """Read the rows worth a look for these channels (bounded) and summarize them."""
    names = [c for c in channels if c in CHAT_CHANNELS]
    if not names:
        return {}
    stuck_after = timedelta(minutes=settings.stuck_minutes)
    since = now - timedelta(minutes=settings.dead_letter_minutes)
    troubled = or_(
        and_(OutboxItem.status.in_(WAITING),
             or_(OutboxItem.created_at <= now - stuck_after, OutboxItem.last_error.is_not(None))),
        and_(OutboxItem.status == "dead", OutboxItem.created_at >= since))
    stmt = (select(OutboxItem.channel, OutboxItem.status, OutboxItem.attempts, OutboxItem.last_error,
                   OutboxItem.created_at, Case.ticket)
            .outerjoin(Case, Case.id == OutboxItem.case_id)
            .where(OutboxItem.channel.in_(names), troubled).order_by(OutboxItem.id).limit(SCAN_LIMIT))
    rows = [Row(channel, status, attempts, classify(error), created, ticket)
            for channel, status, attempts, error, created, ticket in (await session.execute(stmt)).all()]
    return summarize(rows, names, now, stuck_after)

"""`GET /metrics`: Bearer METRICS_TOKEN when set, and database gauges read at most every few seconds."""
from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bots.pipeline.metrics import (
    CHANNEL_AUTH_REFUSED,
    CHANNEL_UP,
    DATABASE_UP,
    INBOX_EVENTS,
    INBOX_OLDEST_PENDING,
    LOOP_HEARTBEAT_AGE,
    OUTBOX_DEAD_LETTERS,
    OUTBOX_MESSAGES,
    OUTBOX_OLDEST_WAITING,
    OUTBOX_STUCK,
    REDIS_UP,
    URGENT_UNVERIFIED_OLDEST,
)
from core import channel_health, heartbeats, inbox, outbox
from core.cases import CaseState
from core.config import ChannelHealth
from core.models import Case, InboxItem, OutboxItem

router = APIRouter()

GAUGE_SECONDS = 5.0  # a scrape storm costs the database one pair of counts per this many seconds
PING_SECONDS = 3.0  # a database or Redis slower than this to answer reads as down (Prometheus waits 10 s)


class DatabaseGauges:
    """Inbox and outbox counts by status, each chat channel's health (core/channel_health.py), the backlog
    ages, the worker loops' heartbeats and whether the database and Redis answer, computed once per period
    however many scrapes arrive at once."""

    def __init__(self, sessions, clock, period: float = GAUGE_SECONDS, channels: tuple[str, ...] = (),
                 health: ChannelHealth | None = None) -> None:
        self.sessions, self.clock, self.period = sessions, clock, timedelta(seconds=period)
        self.channels, self.health = channels, health or ChannelHealth()
        self._lock = asyncio.Lock()
        self._at: datetime | None = None

    def _fresh(self) -> bool:
        return self._at is not None and timedelta(0) <= self.clock.now() - self._at < self.period

    async def refresh(self, redis: Callable[[], Awaitable[bool]] | None = None) -> None:
        """Recompute unless fresh; `redis` pings this process's Redis (None: no REDIS_URL, no reading)."""
        if self._fresh():
            return
        async with self._lock:  # concurrent scrapes wait for the one computation instead of starting their own
            if self._fresh():
                return
            REDIS_UP.set(None if redis is None else 1 if await _answers(redis) else 0)
            up = await _answers(self._select_one)
            DATABASE_UP.set(1 if up else 0)
            if not up:
                _forget_readings()  # absent, not stale: the alerts on them wait for the database
            else:
                try:
                    await self._read()
                except Exception:  # noqa: BLE001 - the counters still answer when the database does not
                    pass
            self._at = self.clock.now()  # a database that is down is asked again only after the period

    async def _select_one(self) -> bool:
        async with self.sessions() as session:
            await session.execute(text("SELECT 1"))
        return True

    async def _read(self) -> None:
        now = self.clock.now()
        async with self.sessions() as session:
            counts = ((INBOX_EVENTS, await inbox.counts(session)),
                      (OUTBOX_MESSAGES, await outbox.counts(session)))
            health = await channel_health.observe(session, now, self.channels, self.health)
            urgent = await _oldest_urgent_unverified(session, now)
            inbox_wait = await _oldest_inbox_wait(session, now)
            outbox_wait = await _oldest_outbox_wait(session, now)
            beats = await heartbeats.ages(session, now)
        for gauge, by_status in counts:
            gauge.clear()  # a status that emptied must read as gone, not as its last count
            for status, n in by_status.items():
                gauge.labels(status).set(n)
        for name, h in health.items():  # counts only: no ticket, no error text
            CHANNEL_UP.labels(name).set(1 if h.up else 0)
            CHANNEL_AUTH_REFUSED.labels(name).set(1 if h.reason == "auth_revoked" else 0)
            OUTBOX_STUCK.labels(name).set(h.stuck)
            OUTBOX_DEAD_LETTERS.labels(name).set(h.dead_letters)
        URGENT_UNVERIFIED_OLDEST.set(urgent)
        INBOX_OLDEST_PENDING.set(inbox_wait)
        OUTBOX_OLDEST_WAITING.clear()
        for name in sorted({*self.channels, *outbox_wait}):
            OUTBOX_OLDEST_WAITING.labels(name).set(outbox_wait.get(name, 0.0))
        LOOP_HEARTBEAT_AGE.clear()  # a loop never beaten (or not within a day) is absent: absent() alerts on it
        for loop, age in beats.items():
            LOOP_HEARTBEAT_AGE.labels(loop).set(age)


async def _answers(ping: Callable[[], Awaitable[bool]]) -> bool:
    try:
        return bool(await asyncio.wait_for(ping(), PING_SECONDS))
    except Exception:  # noqa: BLE001 - refused, timed out, misconfigured: all mean it does not answer
        return False


def _forget_readings() -> None:
    URGENT_UNVERIFIED_OLDEST.set(None)
    INBOX_OLDEST_PENDING.set(None)
    OUTBOX_OLDEST_WAITING.clear()
    LOOP_HEARTBEAT_AGE.clear()


def _age(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


async def _oldest_urgent_unverified(session: AsyncSession, now: datetime) -> float:
    """The dashboard's alarm (workflows/desk_order.alarm) from the database: urgent, submitted, untouched."""
    stmt = select(func.min(Case.submitted_at)).where(
        Case.urgent.is_(True), Case.state == CaseState.SUBMITTED.value, Case.first_action_at.is_(None),
        Case.drill.is_(False))
    return _age(now, (await session.execute(stmt)).scalar())


async def _oldest_inbox_wait(session: AsyncSession, now: datetime) -> float:
    stmt = select(func.min(InboxItem.not_before)).where(InboxItem.status == "pending", InboxItem.not_before <= now)
    return _age(now, (await session.execute(stmt)).scalar())


async def _oldest_outbox_wait(session: AsyncSession, now: datetime) -> dict[str, float]:
    """Per channel, since when the longest-waiting sendable message has been due: pending past its not_before,
    or leased by a worker whose lease ran out (core/outbox.claim takes both)."""
    pending = (select(OutboxItem.channel, func.min(OutboxItem.not_before))
               .where(OutboxItem.status == "pending", OutboxItem.not_before <= now).group_by(OutboxItem.channel))
    leased = (select(OutboxItem.channel, func.min(OutboxItem.lease_until))
              .where(OutboxItem.status == "sending", OutboxItem.lease_until < now).group_by(OutboxItem.channel))
    oldest: dict[str, float] = {}
    for stmt in (pending, leased):
        for channel, since in (await session.execute(stmt)).all():
            oldest[channel] = max(oldest.get(channel, 0.0), _age(now, since))
    return oldest


def authorised(request: Request) -> bool:
    """No METRICS_TOKEN: open (keep /metrics internal at the proxy); else the Bearer token, in constant time."""
    token = request.app.state.deps.settings.metrics_token
    if token is None:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                              token.get_secret_value().encode())


@router.get("/metrics", tags=["operations"])
async def metrics(request: Request):
    """Prometheus text format, with the inbox, the outbox and the worker loops' state read from the database."""
    if not authorised(request):
        return JSONResponse({"error": "metrics token required"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    deps = request.app.state.deps
    await request.app.state.database_gauges.refresh(deps.coord.ping if deps.settings.redis_url else None)
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

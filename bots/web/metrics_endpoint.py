"""`GET /metrics`: Bearer METRICS_TOKEN when set, and database gauges read at most every few seconds."""
from __future__ import annotations

import asyncio
import hmac
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bots.pipeline.metrics import CHANNEL_UP, INBOX_EVENTS, OUTBOX_DEAD_LETTERS, OUTBOX_MESSAGES, OUTBOX_STUCK
from core import channel_health, inbox, outbox
from core.config import ChannelHealth

router = APIRouter()

GAUGE_SECONDS = 5.0  # a scrape storm costs the database one pair of counts per this many seconds


class DatabaseGauges:
    """Inbox and outbox counts by status, and each chat channel's health (core/channel_health.py), computed once
    per period however many scrapes arrive at once."""

    def __init__(self, sessions, clock, period: float = GAUGE_SECONDS, channels: tuple[str, ...] = (),
                 health: ChannelHealth | None = None) -> None:
        self.sessions, self.clock, self.period = sessions, clock, timedelta(seconds=period)
        self.channels, self.health = channels, health or ChannelHealth()
        self._lock = asyncio.Lock()
        self._at: datetime | None = None

    def _fresh(self) -> bool:
        return self._at is not None and timedelta(0) <= self.clock.now() - self._at < self.period

    async def refresh(self) -> None:
        if self._fresh():
            return
        async with self._lock:  # concurrent scrapes wait for the one computation instead of starting their own
            if self._fresh():
                return
            try:
                async with self.sessions() as session:
                    counts = ((INBOX_EVENTS, await inbox.counts(session)),
                              (OUTBOX_MESSAGES, await outbox.counts(session)))
                    health = await channel_health.observe(session, self.clock.now(), self.channels, self.health)
                for gauge, by_status in counts:
                    gauge.clear()  # a status that emptied must read as gone, not as its last count
                    for status, n in by_status.items():
                        gauge.labels(status).set(n)
                for name, h in health.items():  # counts only: no ticket, no error text
                    CHANNEL_UP.labels(name).set(1 if h.up else 0)
                    OUTBOX_STUCK.labels(name).set(h.stuck)
                    OUTBOX_DEAD_LETTERS.labels(name).set(h.dead_letters)
            except Exception:  # noqa: BLE001 - the counters still answer when the database does not
                pass
            self._at = self.clock.now()  # a database that is down is asked again only after the period


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
    """Prometheus text format, with the inbox and outbox by status read from the database."""
    if not authorised(request):
        return JSONResponse({"error": "metrics token required"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    await request.app.state.database_gauges.refresh()
    return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

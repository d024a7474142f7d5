"""The open-cases page, pushed: `/dashboard/events` (server-sent events) tells an open page within about half a
second that something changed, and the page fetches its rows again (htmx) instead of polling every few seconds.

Workers may run in other processes, so a change is seen where it is stored: one watcher per web process reads a
cheap signature of the desk (newest timeline entry and case, overdue and alarming counts, parked and dead
messages, a 20-second tick for the minutes left) every half second while at least one page listens, and wakes
that process's streams. Streams are bounded per process and per account, and each ends after STREAM_SECONDS
(the browser reconnects at once, naming the last signature it saw), so a shutdown never waits on them for long
and a signed-out page learns it within that time.
"""
from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.web import auth
from core import inbox
from core.cases import OPEN_STATES, CaseState
from core.models import Case, CaseEvent, InboxItem, OutboxItem
from core.sla import WAITING
from core.standards import ALARM_SECONDS

router = APIRouter(prefix="/dashboard", include_in_schema=False)
log = structlog.get_logger()

POLL_SECONDS = 0.5  # how often a process reads the signature while a page listens
TICK_SECONDS = 20  # the minutes left go stale by at most this much
STREAM_SECONDS = 25  # then the browser reconnects (and is checked for sign-in again)
HEARTBEAT_SECONDS = 10  # a comment line keeps proxies from closing an idle stream
MAX_STREAMS = 200  # per web process
MAX_PER_ACCOUNT = 6  # tabs and screens of one person
SIGNED_OUT = "event: signedout\ndata: /dashboard/login\n\n"


async def signature(session: AsyncSession, now: datetime) -> str:
    """What the live table shows, in one short opaque string: it changes when the table would."""
    waiting = [s.value for s in WAITING]
    values = (await session.execute(select(
        select(func.max(CaseEvent.id)).scalar_subquery(),
        select(func.max(Case.id)).scalar_subquery(),
        select(func.count()).select_from(Case).where(
            Case.state.in_([s.value for s in OPEN_STATES])).scalar_subquery(),
        select(func.count()).select_from(Case).where(Case.state.in_(waiting), Case.sla_due_at <= now).scalar_subquery(),
        select(func.count()).select_from(Case).where(
            Case.urgent.is_(True), Case.state == CaseState.SUBMITTED.value, Case.first_action_at.is_(None),
            Case.submitted_at <= now - timedelta(seconds=ALARM_SECONDS)).scalar_subquery(),
        select(func.count()).select_from(InboxItem).where(InboxItem.status.in_(inbox.PARKED_STATES)).scalar_subquery(),
        select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "dead").scalar_subquery(),
    ))).one()
    tick = int(now.timestamp() // TICK_SECONDS)
    return hashlib.blake2s(repr((*values, tick)).encode(), digest_size=8).hexdigest()


class Watcher:
    """One per web process: reads the signature while anyone listens and wakes every stream when it changes."""

    def __init__(self, deps) -> None:
        self.deps = deps
        self.current = ""
        self.listeners: Counter[int] = Counter()
        self._changed = asyncio.Event()
        self._task: asyncio.Task | None = None

    def join(self, account_id: int) -> bool:
        if self.listeners.total() >= MAX_STREAMS or self.listeners[account_id] >= MAX_PER_ACCOUNT:
            return False
        self.listeners[account_id] += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return True

    def leave(self, account_id: int) -> None:
        self.listeners[account_id] -= 1
        if self.listeners[account_id] <= 0:
            del self.listeners[account_id]

    async def _run(self) -> None:
        while self.listeners:
            try:
                async with self.deps.sessions() as session:
                    found = await signature(session, self.deps.clock.now())
            except Exception as exc:  # noqa: BLE001 - the database restarting: pages keep their slow poll meanwhile
                log.warning("dashboard_watch_failed", error=type(exc).__name__)
                found = self.current
            if found != self.current:
                self.current = found
                self._changed.set()
                self._changed = asyncio.Event()
            await asyncio.sleep(POLL_SECONDS)

    async def after(self, seen: str, timeout: float) -> str:
        """The signature once it differs from `seen` (or is first known), or after `timeout` whatever it is."""
        if self.current and self.current != seen:
            return self.current
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
        except TimeoutError:
            pass
        return self.current


def watcher(request: Request) -> Watcher:
    state = request.app.state
    if getattr(state, "dashboard_watcher", None) is None:
        state.dashboard_watcher = Watcher(state.deps)
    return state.dashboard_watcher


@router.get("/events")
async def events(request: Request) -> Response:
    """The stream; reading it does not count as activity, and a signed-out page is told to sign in again."""
    found = await auth.signed_in(request, touch=False)
    headers = {"X-Accel-Buffering": "no"}
    if found is None:
        return StreamingResponse(iter([SIGNED_OUT]), media_type="text/event-stream", headers=headers)
    account_id = found[0].id
    watch = watcher(request)
    if not watch.join(account_id):
        return Response(status_code=429, headers={"Retry-After": "30"})
    seen = (request.headers.get("last-event-id") or request.query_params.get("since") or "")[:32]
    return StreamingResponse(_stream(request, watch, account_id, seen), media_type="text/event-stream",
                             headers=headers)


async def _stream(request: Request, watch: Watcher, account_id: int, seen: str) -> AsyncIterator[str]:
    """`change` when the desk differs from what the page last saw; `ready` names the starting point."""
    loop = asyncio.get_running_loop()
    end = loop.time() + STREAM_SECONDS
    try:
        yield "retry: 1000\n\n"
        current = await watch.after("", HEARTBEAT_SECONDS)
        if current == seen:
            yield f"id: {current}\nevent: ready\ndata: {current}\n\n"
        while loop.time() < end:
            if current and current != seen:
                if await auth.signed_in(request, touch=False) is None:
                    yield SIGNED_OUT
                    return
                yield f"id: {current}\nevent: change\ndata: {current}\n\n"
                seen = current
            current = await watch.after(seen, min(HEARTBEAT_SECONDS, max(end - loop.time(), 0.01)))
            if current == seen:
                yield ": -\n\n"
    finally:
        watch.leave(account_id)

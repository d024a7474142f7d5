"""Web reports past the report limits (`web:` in the deployment file): a case and a ticket all the same, but no card.

Counts live in the database, in `conversations` rows keyed `webhold:<origin>` (one address, as the keyed hash the
web chat computed) and `webhold:*` (all web reports), locked with the case's transaction so every worker agrees.
Within `window_minutes`, the first `reports_per_address` reports of one address (and the first `reports_overall`
of all) reach the operators as usual; the rest join one summary card per address (or one for all), edited in
place as more arrive. A held case gets no deadline clock, leaders' notices or duty alert of its own: the card is
the one page to operators, and the case waits on the dashboard's live list like any submitted case.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from core import casework, repository
from core.config import Deployment
from core.messages import Outbound
from core.models import Case
from workflows.held_reports import summary_card

PREFIX = "webhold:"
OVERALL = "*"
HELD_NOTE = "web_held"
KEEP_TICKETS = 10
log = structlog.get_logger()


async def hold(session: AsyncSession, config: Deployment, case: Case, origin: str,
               now: datetime) -> list[Outbound] | None:
    """None when the report pages operators on its own (it is counted); else the summary card to send or edit."""
    web, window = config.web, timedelta(minutes=config.web.window_minutes)
    mine = await repository.conversation_for_update(session, PREFIX + origin[:64])
    everyone = await repository.conversation_for_update(session, PREFIX + OVERALL)  # always in this order: no deadlock
    paged_mine, paged_all = _recent(mine.state, now, window), _recent(everyone.state, now, window)
    if len(paged_mine) < web.reports_per_address and len(paged_all) < web.reports_overall:
        _save(mine, {**mine.state, "paged": paged_mine + [now.isoformat()]}, now)
        _save(everyone, {**everyone.state, "paged": paged_all + [now.isoformat()]}, now)
        return None
    overall = len(paged_mine) < web.reports_per_address  # this address is within its share: everyone is busy
    row = everyone if overall else mine
    state = row.state or {}
    last = datetime.fromisoformat(state["last_held"]) if state.get("last_held") else None
    first = last is None or now - last >= window or not state.get("card")
    count = 1 if first else int(state.get("held", 0)) + 1
    card = f"held:{int(now.timestamp())}:{'all' if overall else origin[:16]}" if first else state["card"]
    tickets = ([] if first else list(state.get("tickets") or []))[-(KEEP_TICKETS - 1):] + [case.ticket]
    _save(row, {**state, "held": count, "card": card, "last_held": now.isoformat(), "tickets": tickets}, now)
    casework.record(session, case, "system", now, note=HELD_NOTE)
    log.info("web_report_held", count=count, scope="overall" if overall else "address")
    return [summary_card(config, count=count, tickets=tickets, ref=card, first=first, overall=overall)]


def _recent(state: dict | None, now: datetime, window: timedelta) -> list[str]:
    """The times reports paged operators within the window (at most the limit's worth are ever kept)."""
    return [at for at in (state or {}).get("paged") or [] if now - datetime.fromisoformat(at) < window]


def _save(row, state: dict, now: datetime) -> None:
    row.state, row.version, row.updated_at = state, row.version + 1, now

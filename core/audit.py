"""The audit trail: who signed in, viewed, acted on or exported what, and when — append-only.

Each entry is a row (kept `privacy.audit_days`, then pruned by the nightly pass) and one log line. The row
keeps the client address (it is the security log); the log line never does, nor anything a citizen wrote:
`detail` holds only fixed words chosen by the code (an action name, an export format, counts).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import rows_affected
from core.models import AuditEntry

log = structlog.get_logger()


def record(session: AsyncSession, *, actor: str, action: str, at: datetime, case_id: int | None = None,
           ticket: str | None = None, detail: str = "", address: str | None = None) -> AuditEntry:
    """Add an entry to the caller's transaction and log it (without the address)."""
    entry = AuditEntry(at=at, actor=actor[:100], action=action[:40], case_id=case_id, ticket=ticket,
                       detail=detail[:200], address=address[:64] if address else None)
    session.add(entry)
    log.info("audit", actor=entry.actor, action=entry.action, case_id=case_id, ticket=ticket, detail=entry.detail)
    return entry


async def entries(session: AsyncSession, since: datetime | None = None, who: str | None = None,
                  limit: int = 1000) -> list[AuditEntry]:
    """The newest `limit` entries (oldest first), from `since`, of one actor (`op1`, or `cli:root`)."""
    query = select(AuditEntry)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if who:
        query = query.where(AuditEntry.actor == who.strip().lower() if ":" not in who else AuditEntry.actor == who)
    rows = list((await session.execute(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)))
                .scalars())
    return rows[::-1]


async def prune(session: AsyncSession, now: datetime, keep_days: int) -> int:
    """Delete entries older than the retention period; returns how many."""
    result = await session.execute(delete(AuditEntry).where(AuditEntry.at < now - timedelta(days=keep_days)))
    return rows_affected(result)

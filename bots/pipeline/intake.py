"""Store an authenticated delivery, or park it, so the platform gets its 200 unless storage itself is down.

Telegram holds back a chat's later updates behind one it keeps re-sending (for a day), Meta re-sends for 7
days: a delivery the gateway cannot use, or cannot store as it is, is kept parked in a form the database
accepts and acknowledged. Only a database that does not answer is worth a 503 (the platform's retry then
brings the delivery back once it does).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError, StatementError

from bots.pipeline.deps import Deps
from bots.pipeline.group_commit import GroupCommit
from bots.pipeline.metrics import DELIVERIES_PARKED
from core import inbox
from core.failure import describe

log = structlog.get_logger()


class StorageDown(Exception):
    """The database did not take the delivery: answer 503 so the platform re-sends it."""


def value_problem(exc: BaseException) -> bool:
    """True when the database refused this value (it is up); False for connection trouble, timeouts…"""
    if isinstance(exc, (DataError, IntegrityError, ProgrammingError)):
        return True
    if str(getattr(getattr(exc, "orig", None), "sqlstate", None) or "").startswith(("22", "23")):
        return True  # asyncpg's data and integrity errors (e.g. 22P02, a json value PostgreSQL refuses) come unsorted
    return isinstance(exc, StatementError) and not isinstance(exc, DBAPIError)  # refused before it was sent


def fingerprint(value: object) -> str:
    """A stable key for a delivery without a usable id, so its re-deliveries land on the same parked row."""
    canonical = json.dumps(value, sort_keys=True, ensure_ascii=True, default=str)
    return "unusable:" + hashlib.sha256(canonical.encode()).hexdigest()[:40]


def writes_of(deps: Deps) -> GroupCommit:
    """This process's group commit for deliveries (made on first use, on the serving event loop)."""
    if deps.intake_writes is None:
        deps.intake_writes = GroupCommit(deps.sessions, value_problem, deps.intake_gate)
    return deps.intake_writes


async def park(deps: Deps, channel: str, value: object, reason: str, external_id: str | None = None) -> bool:
    """Store `value` parked with `reason` (never processed); True when it is new."""
    key = external_id or fingerprint(value)
    log.info("delivery_parked", channel=channel, reason=reason[:80])  # the reason names no value
    return bool(await store_or_park(deps, channel, inbox.row(
        channel=channel, external_id=key, conversation_key=f"{channel}:other",
        payload=value if isinstance(value, dict) else {"delivery": value}, now=deps.clock.now(),
        parked_because=reason), fallback_id=key, parked=True))


async def store_or_park(deps: Deps, channel: str, write: Callable[..., Awaitable[int]] | dict[str, Any], *,
                        fallback_id: str, parked: bool = False) -> int:
    """Store an inbox row (`inbox.row`), or run `write(session)` (it returns how many rows are new), in a
    committed transaction shared with concurrent deliveries; if the database refuses a value in it, store a
    parked placeholder under `fallback_id` instead. StorageDown when neither could be stored. `parked`: the
    write itself parks (counted in siaga_deliveries_parked_total like a placeholder)."""
    now = deps.clock.now()
    try:
        writes = writes_of(deps)
        new = await (writes.insert(write) if isinstance(write, dict) else writes.run(write))
        if parked and new:
            DELIVERIES_PARKED.labels(channel).inc()
        return new
    except Exception as exc:  # sorted below: a refused value, or storage down
        if not value_problem(exc):
            log.error("inbox_store_failed", channel=channel, error=type(exc).__name__)
            raise StorageDown from exc
        reason = f"not storable as sent: {describe(exc)}"
        log.warning("delivery_unstorable", channel=channel, error=type(exc).__name__)
    try:
        async with deps.sessions() as session, session.begin():
            new = await inbox.store(session, channel=channel, external_id=fallback_id,
                                    conversation_key=f"{channel}:other", payload={"unstorable": True},
                                    now=now, parked_because=reason)
    except Exception as exc:  # not even the placeholder: let the platform retry
        log.error("inbox_store_failed", channel=channel, error=type(exc).__name__)
        raise StorageDown from exc
    if new:
        DELIVERIES_PARKED.labels(channel).inc()
    return int(new)

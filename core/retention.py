"""Personal data is kept only as long as a case needs it (UU No. 27/2022 on personal data protection).

`anonymise` strips a case of what identifies its reporter — name and number, exact place, the words they
wrote, photos — and keeps what the figures need: type, times, states, agencies, rating, a location
rounded to about 1 km. `sweep` does that for cases closed longer ago than the retention period and drops
old raw platform updates and sent messages, which repeat the same data. `export` gives a
reporter everything stored about them; `erase` anonymises all their cases at once.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import accounts, audit, inbox
from core.cases import OPEN_STATES
from core.db import rows_affected
from core.models import Attachment, Case, CaseEvent, Conversation, InboxItem, Media, OutboxItem, Reporter, Task, Timer
from core.open_data import coarse

ERASED = "erased"


@dataclass
class Swept:
    cases: int = 0
    reporters: int = 0
    photos: int = 0
    inbox: int = 0
    outbox: int = 0
    audit: int = 0
    signin_throttle: int = 0


async def anonymise(session: AsyncSession, case: Case, now: datetime) -> int:
    """Strip the case; returns how many photos were deleted."""
    media_ids = [case.photo_media_id] if case.photo_media_id else []
    media_ids += list((await session.execute(select(Attachment.media_id).where(Attachment.case_id == case.id)))
                      .scalars())
    await session.execute(delete(Attachment).where(Attachment.case_id == case.id))
    case.photo_media_id = None
    case.latitude, case.longitude = coarse(case.latitude), coarse(case.longitude)
    case.address_text = case.description = case.rating_comment = None
    case.chat = ERASED
    await session.execute(update(Task).where(Task.case_id == case.id).values(note=None))
    await session.execute(delete(OutboxItem).where(OutboxItem.case_id == case.id,
                                                   OutboxItem.status.not_in(("pending", "sending"))))
    session.add(CaseEvent(case_id=case.id, at=now, actor="system", from_state=case.state, to_state=case.state,
                          note="personal_data_removed"))
    await session.flush()
    removed = 0
    for media_id in set(media_ids):
        still_used = (await session.execute(select(Case.id).where(Case.photo_media_id == media_id).limit(1))).first() \
            or (await session.execute(select(Attachment.id).where(Attachment.media_id == media_id).limit(1))).first()
        if not still_used:
            removed += rows_affected(await session.execute(delete(Media).where(Media.id == media_id)))
    return removed


async def _forget_reporter(session: AsyncSession, reporter: Reporter) -> bool:
    """Clear the reporter once none of their cases holds personal data any more. A blocked prankster keeps
    the platform id (the block must hold) but loses name and number."""
    if (await session.execute(select(Case.id).where(Case.reporter_id == reporter.id, Case.chat != ERASED)
                              .limit(1))).first():
        return False
    address = f"{reporter.channel}:{reporter.external_id}"
    await session.execute(delete(Conversation).where(Conversation.key == address))
    reporter.name, reporter.phone = "", None
    if not reporter.blocked:
        reporter.external_id = f"{ERASED}-{reporter.id}"
    return True


async def sweep(session: AsyncSession, now: datetime, retention_days: int, batch: int = 200,
                audit_days: int | None = None) -> Swept:
    """One pass of the retention job (the worker runs it daily; idempotent); with `audit_days` it also prunes
    the audit trail and forgets stale sign-in failure counts."""
    cutoff = now - timedelta(days=retention_days)
    done = Swept()
    ended = Case.state.not_in([s.value for s in OPEN_STATES])
    closed = select(Case).where(Case.chat != ERASED, ended, or_(
        Case.closed_at < cutoff, Case.closed_at.is_(None) & (Case.updated_at < cutoff)))  # rejected, merged
    reporters = set()
    for case in (await session.execute(closed.order_by(Case.id).limit(batch).with_for_update())).scalars():
        done.photos += await anonymise(session, case, now)
        done.cases += 1
        reporters.add(case.reporter_id)
    for reporter_id in reporters:
        reporter = await session.get(Reporter, reporter_id)
        if reporter is not None:
            done.reporters += await _forget_reporter(session, reporter)
    done.inbox = rows_affected(await session.execute(delete(InboxItem).where(  # parked and failed ones too
        InboxItem.status.in_(("done", *inbox.PARKED_STATES)), InboxItem.received_at < cutoff)))
    done.outbox = rows_affected(await session.execute(delete(OutboxItem).where(
        OutboxItem.status.in_(("sent", "dead", "superseded", "batched")), OutboxItem.created_at < cutoff)))
    if audit_days is not None:
        done.audit = await audit.prune(session, now, audit_days)
        done.signin_throttle = await accounts.prune_throttle(session, now)
    return done


async def remove_drills(session: AsyncSession, now: datetime, keep_hours: float, batch: int = 200) -> int:
    """Delete drill cases (LATIHAN) older than `keep_hours`, with their timeline, tasks, photos, messages and
    timers: a rehearsal leaves nothing behind. Returns how many cases were deleted."""
    ids = list((await session.execute(select(Case.id).where(
        Case.drill.is_(True), Case.created_at < now - timedelta(hours=keep_hours)).order_by(Case.id).limit(batch)
        .with_for_update())).scalars())
    if not ids:
        return 0
    media = set((await session.execute(select(Case.photo_media_id).where(Case.id.in_(ids)))).scalars())
    media |= set((await session.execute(select(Attachment.media_id).where(Attachment.case_id.in_(ids)))).scalars())
    await session.execute(update(Case).where(Case.duplicate_of_id.in_(ids)).values(duplicate_of_id=None))
    await session.execute(delete(Attachment).where(Attachment.case_id.in_(ids)))
    await session.execute(delete(OutboxItem).where(OutboxItem.case_id.in_(ids)))
    await session.execute(delete(Timer).where(Timer.key.in_([f"case:{i}" for i in ids])))
    await session.execute(update(Task).where(Task.case_id.in_(ids)).values(support_of_id=None))
    await session.execute(delete(Task).where(Task.case_id.in_(ids)))
    await session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(ids)))
    done = rows_affected(await session.execute(delete(Case).where(Case.id.in_(ids))))
    for media_id in media - {None}:
        still_used = (await session.execute(select(Case.id).where(Case.photo_media_id == media_id).limit(1))).first() \
            or (await session.execute(select(Attachment.id).where(Attachment.media_id == media_id).limit(1))).first()
        if not still_used:
            await session.execute(delete(Media).where(Media.id == media_id))
    return done


async def find_reporter(session: AsyncSession, channel: str, external_id: str) -> Reporter | None:
    return (await session.execute(select(Reporter).where(Reporter.channel == channel,
                                                         Reporter.external_id == external_id))).scalar_one_or_none()


async def export(session: AsyncSession, reporter: Reporter) -> dict[str, Any]:
    """Everything stored about one reporter, for a subject-access request (photos as base64)."""
    cases = list((await session.execute(select(Case).where(Case.reporter_id == reporter.id).order_by(Case.id)))
                 .scalars())
    out: dict[str, Any] = {"reporter": {"channel": reporter.channel, "id": reporter.external_id, "name": reporter.name,
                        "phone": reporter.phone, "language": reporter.language, "blocked": reporter.blocked,
                        "first_contact": reporter.created_at.isoformat()}, "cases": []}
    for case in cases:
        events = (await session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                        .order_by(CaseEvent.at, CaseEvent.id))).scalars()
        photo = await session.get(Media, case.photo_media_id) if case.photo_media_id else None
        out["cases"].append({
            "ticket": case.ticket, "type": case.incident_type, "state": case.state,
            "submitted_at": case.submitted_at.isoformat() if case.submitted_at else None,
            "latitude": case.latitude, "longitude": case.longitude, "address": case.address_text,
            "description": case.description, "rating": case.rating, "rating_comment": case.rating_comment,
            "photo_jpeg_base64": base64.b64encode(photo.original).decode() if photo else None,
            "timeline": [{"at": e.at.isoformat(), "state": e.to_state, "note": e.note} for e in events]})
    return out


async def erase(session: AsyncSession, reporter: Reporter, now: datetime) -> tuple[int, int]:
    """Anonymise every closed case of the reporter and forget them; open cases are left to finish first.
    Returns (cases anonymised, cases still open)."""
    cases = list((await session.execute(select(Case).where(Case.reporter_id == reporter.id, Case.chat != ERASED)
                                        .with_for_update())).scalars())
    still_open = [c for c in cases if c.state in {s.value for s in OPEN_STATES}]
    for case in cases:
        if case not in still_open:
            await anonymise(session, case, now)
    if not still_open:
        await _forget_reporter(session, reporter)
    return len(cases) - len(still_open), len(still_open)


@dataclass
class Staged:
    media: int = 0
    holds: int = 0
    timers: int = 0


STAGING_TIMER = "media_staging"
HOLD_KEYS = "webhold:%"  # bots/pipeline/web_hold.py: per-address counts of web reports


async def sweep_staging(session: AsyncSession, now: datetime, staging_minutes: int, hold_minutes: int,
                        batch: int = 500) -> Staged:
    """Delete photos never attached to a case once older than the staging time — uploads with no report sent,
    photos replaced in a draft, drafts that expired — keeping any a draft or a waiting event still holds; and
    forget web-report counts older than their window. The worker runs it every 15 minutes; idempotent."""
    done = Staged()
    cutoff = now - timedelta(minutes=staging_minutes)
    held = await _waiting_media(session) | await _draft_media(session)  # in this order: see _draft_media
    doomed = list((await session.execute(select(Media.id).where(
        Media.created_at < cutoff, Media.id.not_in(held),
        ~exists(select(Case.id).where(Case.photo_media_id == Media.id)),
        ~exists(select(Attachment.id).where(Attachment.media_id == Media.id)))
        .order_by(Media.id).limit(batch))).scalars())
    if doomed:
        done.media = rows_affected(await session.execute(delete(Media).where(Media.id.in_(doomed))))
    done.holds = rows_affected(await session.execute(delete(Conversation).where(Conversation.key.like(HOLD_KEYS),
        Conversation.updated_at < now - timedelta(minutes=hold_minutes))))
    done.timers = rows_affected(await session.execute(delete(Timer).where(
        Timer.kind == STAGING_TIMER, Timer.status == "fired", Timer.due_at < now - timedelta(days=1))))
    return done


async def _waiting_media(session: AsyncSession) -> set[int]:
    """Photos of web-chat events stored but not processed yet (they become a draft's photo when processed)."""
    rows = await session.execute(select(InboxItem.payload).where(InboxItem.channel == "web",
                                                                 InboxItem.status == "pending"))
    return {p["media_id"] for p in rows.scalars() if isinstance(p, dict) and isinstance(p.get("media_id"), int)}


async def _draft_media(session: AsyncSession) -> set[int]:
    """Photos held by a report still being written. Read after the waiting events, so an event processed in
    between is seen either still waiting or already in its draft."""
    rows = await session.execute(select(Conversation.state).where(
        cast(Conversation.state, Text).like("%photo_media_id%")))
    out = set()
    for state in rows.scalars():
        draft = state.get("draft") if isinstance(state, dict) else None
        if isinstance(draft, dict) and isinstance(draft.get("photo_media_id"), int):
            out.add(draft["photo_media_id"])
    return out

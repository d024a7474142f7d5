"""Queries and writes for reporters, conversations and cases, shared by every flow."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import drills
from core.cases import CaseState
from core.models import Case, CaseEvent, Conversation, Reporter


async def reporter_for(session: AsyncSession, channel: str, external_id: str, name: str,
                       language: str, now: datetime) -> Reporter:
    """Find the reporter by channel identity, creating them on first contact."""
    stmt = select(Reporter).where(Reporter.channel == channel, Reporter.external_id == external_id)
    reporter = (await session.execute(stmt)).scalar_one_or_none()
    if reporter is None:
        reporter = Reporter(channel=channel, external_id=external_id, name=name[:200], language=language,
                            created_at=now)
        session.add(reporter)
        await session.flush()
    elif name and reporter.name != name[:200]:
        reporter.name = name[:200]
    return reporter


async def conversation_for_update(session: AsyncSession, key: str) -> Conversation:
    """Load the conversation row locked for this transaction (created empty on first use)."""
    stmt = select(Conversation).where(Conversation.key == key).with_for_update()
    conv = (await session.execute(stmt)).scalar_one_or_none()
    if conv is None:
        conv = Conversation(key=key, state={}, version=0)
        session.add(conv)
        await session.flush()
    return conv


async def recent_cases(session: AsyncSession, reporter_id: int, limit: int = 5) -> list[Case]:
    stmt = (select(Case).where(Case.reporter_id == reporter_id).order_by(Case.id.desc()).limit(limit))
    return list((await session.execute(stmt)).scalars())


async def reports_since(session: AsyncSession, reporter_id: int, since: datetime) -> int:
    stmt = select(func.count()).select_from(Case).where(Case.reporter_id == reporter_id, Case.submitted_at >= since)
    return (await session.execute(stmt)).scalar_one()


async def ticket_taken(session: AsyncSession, ticket: str) -> bool:
    return (await session.execute(select(Case.id).where(Case.ticket == ticket))).first() is not None


async def create_case(session: AsyncSession, *, reporter: Reporter, chat: str, ticket: str, incident_type: str,
                      urgent: bool, language: str, latitude: float | None, longitude: float | None,
                      address_text: str | None, description: str | None, photo_media_id: int | None,
                      started_at: datetime, now: datetime, desa_code: str | None = None,
                      kecamatan_code: str | None = None, place_match: str | None = None,
                      place_distance_m: float | None = None, location_accuracy_m: float | None = None) -> Case:
    """Store a submitted case with its first two timeline entries (draft opened, submitted); a drill running for
    this reporter marks it LATIHAN."""
    actor = f"{reporter.channel}:{reporter.external_id}"
    case = Case(ticket=ticket, state=CaseState.SUBMITTED, incident_type=incident_type, urgent=urgent,
                reporter_id=reporter.id, chat=chat, language=language, latitude=latitude, longitude=longitude,
                address_text=address_text, description=description, photo_media_id=photo_media_id,
                created_at=started_at, submitted_at=now, updated_at=now, intake=reporter.channel,
                drill=await drills.applies(session, actor, now), desa_code=desa_code, kecamatan_code=kecamatan_code,
                place_match=place_match, place_distance_m=place_distance_m, location_accuracy_m=location_accuracy_m)
    session.add(case)
    await session.flush()
    session.add_all([
        CaseEvent(case_id=case.id, at=started_at, actor=actor, from_state=None, to_state=CaseState.DRAFT),
        CaseEvent(case_id=case.id, at=now, actor=actor, from_state=CaseState.DRAFT, to_state=CaseState.SUBMITTED),
    ])
    return case


async def create_operator_case(session: AsyncSession, *, reporter: Reporter, chat: str, ticket: str,
                               incident_type: str, urgent: bool, language: str, latitude: float | None,
                               longitude: float | None, address_text: str | None, description: str | None,
                               called_at: datetime, now: datetime, intake: str, entered_by: str,
                               caller_name: str | None, caller_phone: str | None, traffic_class: str,
                               drill: bool = False) -> Case:
    """Store a report an operator entered for a caller: submitted at the time of the call (the clock runs from
    it), with one timeline entry saying how it came and who typed it in (`entered:phone`)."""
    case = Case(ticket=ticket, state=CaseState.SUBMITTED, incident_type=incident_type, urgent=urgent,
                reporter_id=reporter.id, chat=chat, language=language, latitude=latitude, longitude=longitude,
                address_text=address_text, description=description, created_at=called_at, submitted_at=called_at,
                updated_at=now, intake=intake, entered_by=entered_by, caller_name=caller_name,
                caller_phone=caller_phone, traffic_class=traffic_class, drill=drill)
    session.add(case)
    await session.flush()
    session.add(CaseEvent(case_id=case.id, at=called_at, actor=entered_by, from_state=CaseState.DRAFT,
                          to_state=CaseState.SUBMITTED, note=f"entered:{intake}"))
    return case

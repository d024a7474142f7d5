"""A case read into the snapshot its cards and the desk's decisions are made from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import casework, gazetteer, same_incident
from core.cases import CaseState
from core.config import Deployment
from core.i18n import t
from core.messages import Outbound
from core.models import Case, Reporter
from workflows import notices
from workflows.cards import CHANNEL_NAMES, CaseView, Joined, Similar, TaskView
from workflows.desk_replies import Follower

JOINED_ON_CARD = 3  # the card names the latest few who joined; the case page lists them all


async def case_view(session: AsyncSession, case: Case, config: Deployment, now: datetime | None = None) -> CaseView:
    """Read the case, its reporter and tasks into the snapshot the cards are rendered from."""
    await session.flush()
    similar: tuple[Similar, ...] = ()
    if case.state == CaseState.SUBMITTED:
        similar = tuple(Similar(c.id, c.ticket, metres, max(int((case.submitted_at - c.submitted_at)
                                                                .total_seconds() // 60), 0))
                        for c, metres in await same_incident.probable_duplicates(session, case, config))
    reporter = await session.get(Reporter, case.reporter_id)
    tasks = await casework.tasks_of(session, case.id)
    duplicate_of = (await session.get(Case, case.duplicate_of_id)).ticket if case.duplicate_of_id else None
    operator = _operator_name(case.operator, config) if case.operator else None
    contact = _contact(reporter, config)
    return CaseView(
        id=case.id, ticket=case.ticket, state=case.state, incident_type=case.incident_type, urgent=case.urgent,
        submitted_at=case.submitted_at, updated_at=case.updated_at, reporter_name=reporter.name,
        channel=reporter.channel, contact=contact,
        latitude=case.latitude, longitude=case.longitude, address_text=case.address_text,
        description=case.description, photo_media_id=case.photo_media_id, operator_name=operator,
        reject_reason=case.reject_reason, duplicate_of=duplicate_of, callback_requested=case.callback_requested,
        tasks=tuple(TaskView(x.id, x.agency, x.state, x.owner_name, x.eta_minutes, x.support_of_id,
                             x.refuse_reason, x.note, x.done_at or x.on_scene_at or x.accepted_at or x.created_at,
                             owner=x.owner)
                    for x in tasks),
        now=now or case.updated_at, sla_due_at=case.sla_due_at, accepted_at=case.accepted_at,
        report_count=case.report_count or 1, similar=similar,
        history=await same_incident.reporter_history(session, case.reporter_id, case.id), language=case.language,
        drill=bool(case.drill), place=place_of(case, config), place_match=case.place_match,
        place_distance_m=case.place_distance_m, desk=case.desk_chat_id,
        joined=await _joined(session, case, config) if (case.report_count or 1) > 1 else ())


def _operator_name(actor: str, config: Deployment) -> str:
    """A person by their configured name; `system` (a report that joined a case by itself) as the timeline says."""
    channel, _, who = actor.partition(":")
    if not who:
        return t(config.region.default_language, "timeline.system") if actor == "system" else actor
    return config.person_name(channel, who) or who


def _contact(reporter: Reporter, config: Deployment) -> str:
    return reporter.phone or t(config.region.default_language, "card.contact_chat",
                               channel=CHANNEL_NAMES.get(reporter.channel, reporter.channel))


async def _joined(session: AsyncSession, case: Case, config: Deployment) -> tuple[Joined, ...]:
    """The latest reports merged into the case, for its card (bounded: the count says how many in all)."""
    stmt = (select(Case.ticket, Case.submitted_at, Reporter).join(Reporter, Reporter.id == Case.reporter_id)
            .where(Case.duplicate_of_id == case.id).order_by(Case.id.desc()).limit(JOINED_ON_CARD))
    return tuple(Joined(ticket, at, who.name or "-", _contact(who, config))
                 for ticket, at, who in await session.execute(stmt))


def place_of(case: Case, config: Deployment, lang: str | None = None) -> str:
    """The case's desa and kecamatan by name from the deployment's gazetteer ("" when unknown)."""
    places = gazetteer.for_config(config)
    if places is None or not case.kecamatan_code:
        return ""
    desa = places.place(case.desa_code) if case.desa_code else None
    return gazetteer.label(lang or config.region.default_language, desa.desa if desa else None,
                           desa.kind if desa else None, places.kecamatan_name(case.kecamatan_code))


def place_line(case: Case, config: Deployment, lang: str) -> str:
    """The case page's words for where: the desa with how it was found, or the flag of an unmatched address."""
    name = place_of(case, config, lang)
    if not name:
        return t(lang, "place.typed_unmatched") if case.place_match == "typed_unmatched" else ""
    name = t(lang, "place.named", place=name)
    if case.place_match == "pin_nearest" and case.place_distance_m is not None:
        return f"{name} {t(lang, 'place.nearest', distance=gazetteer.distance_label(case.place_distance_m, lang))}"
    return f"{name} {t(lang, 'place.typed_confirmed')}" if case.place_match == "typed_confirmed" else name


async def drill_marked(session: AsyncSession, config: Deployment, out: list[Outbound]) -> list[Outbound]:
    """Every message about a drill case says LATIHAN (leaders get one only if the deployment says so)."""
    ids = {m.case_id for m in out if m.case_id}
    drill = set((await session.execute(select(Case.id).where(Case.id.in_(ids), Case.drill.is_(True)))).scalars()) \
        if ids else set()
    return [x for m in out for x in notices.for_drill([m], config, m.case_id in drill)] if drill else out


def follower(case: Case) -> Follower:
    """Where one case's reporter hears of it."""
    return Follower(case.id, case.ticket, case.chat, case.language, case.state == CaseState.CLOSED,
                    drill=bool(case.drill))


async def followers(session: AsyncSession, case: Case) -> tuple[Follower, ...]:
    """The case's reporter and those of every report merged into it."""
    return tuple(follower(c) for c in await casework.followers(session, case))

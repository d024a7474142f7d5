"""What a submitted report sets going: its deadline and clock, the operators' card, leadership, duty check."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bots.services import cluster, surge
from bots.services.case_view import case_view
from core import gazetteer, outbox, roster, sla
from core.config import Deployment
from core.messages import Outbound
from core.models import Case
from workflows import desk_routing, notices, operator_card, sla_notices


async def on_submitted(session: AsyncSession, config: Deployment, case: Case, now: datetime) -> list[Outbound]:
    """Start the clock (types with `sla_minutes`), post the card, and alert the Kabid if no operator is on duty."""
    if (joined := await cluster.join(session, config, case, now)) is not None:
        return joined  # the same incident's open case: its card counts one more report, no card of its own
    case.sla_due_at = sla.deadline(config, case.incident_type, case.submitted_at)
    if case.sla_due_at is not None:
        for due in sla.plan(config, case.submitted_at, case.sla_due_at):
            await sla.arm(session, case.id, due)
    case.desk_chat_id = await choose_desk(session, config, case)
    view = await case_view(session, case, config, now)
    surging = await surge.under_way(session, config, now)  # leaders: one summary every few minutes instead
    out = operator_card.on_submitted(view, config, leaders=not surging)
    out += await surge.first_eyes(session, config, case, view, now)
    if surging:  # first, so it joins the citizen's ticket message (workflows/effects.coalesce)
        out[:0] = surge.citizen_word(case, config)
    if not surging and not await roster.on_duty(session, roster.OPERATOR, now, config.roster.shift_max_hours):
        out += sla_notices.no_operator(view, config)  # in a surge: said in the leaders' summary
    return notices.for_drill(out, config, case.drill)  # LATIHAN: marked, and leaders only if configured


async def choose_desk(session: AsyncSession, config: Deployment, case: Case) -> str | None:
    """The operators' group of a new case's card (workflows/desk_routing.py decides); None: the main group."""
    if not config.operators.desks:
        return None
    await session.flush()  # round_robin takes turns by case id
    waiting = {chat: await outbox.waiting_cards(session, "telegram", chat)
               for chat in config.desk_chats()} if desk_routing.shares(config) else {}
    places = gazetteer.for_config(config)
    name = places.kecamatan_name(case.kecamatan_code) if places is not None and case.kecamatan_code else None
    return desk_routing.choose(config, case.id, case.kecamatan_code, name, waiting)

"""What a submitted report sets going: its deadline and clock, the operators' card, leadership, duty check."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bots.services.case_view import case_view
from core import roster, sla
from core.config import Deployment
from core.messages import Outbound
from core.models import Case
from workflows import notices, operator_card, sla_notices


async def on_submitted(session: AsyncSession, config: Deployment, case: Case, now: datetime) -> list[Outbound]:
    """Start the clock (types with `sla_minutes`), post the card, and alert the Kabid if no operator is on duty."""
    case.sla_due_at = sla.deadline(config, case.incident_type, case.submitted_at)
    if case.sla_due_at is not None:
        for due in sla.plan(config, case.submitted_at, case.sla_due_at):
            await sla.arm(session, case.id, due)
    view = await case_view(session, case, config, now)
    out = operator_card.on_submitted(view, config)
    if not await roster.on_duty(session, roster.OPERATOR, now, config.roster.shift_max_hours):
        out += sla_notices.no_operator(view, config)
    return notices.for_drill(out, config, case.drill)  # LATIHAN: marked, and leaders only if configured

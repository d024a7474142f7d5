"""Reports of one incident join one case at submission (`duplicates.auto_join`): the operators' manual merge
(core/casework.mark_duplicate), done by the system when core/same_incident.py finds the open case."""
from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.services.case_view import case_view, follower
from core import casework, same_incident
from core.config import Deployment
from core.messages import Outbound
from core.models import Case, Reporter
from workflows import cluster, notices

log = structlog.get_logger()
SYSTEM = "system"  # the timeline's actor of a join nobody pressed
ON_PAGE = 50  # reports listed on the case page, newest first


async def join(session: AsyncSession, config: Deployment, case: Case, now: datetime) -> list[Outbound] | None:
    """Join a new report to the open case of the same incident: what everyone hears; None when there is none."""
    if not config.duplicates.auto_join:
        return None
    target = await same_incident.cluster_for(session, case, config)
    if target is None:
        return None
    await casework.mark_duplicate(session, case, target, SYSTEM, now)
    case.desk_chat_id = target.desk_chat_id
    log.info("case_joined", cluster=target.ticket, reports=target.report_count)
    view = await case_view(session, target, config, now)
    return notices.for_drill(cluster.joined(view, follower(case), config), config, case.drill)


async def reports(session: AsyncSession, case_id: int) -> tuple[list[tuple[Case, Reporter]], int]:
    """The reports merged into a case with their reporters, newest first (at most ON_PAGE), and how many in all."""
    stmt = (select(Case, Reporter).join(Reporter, Reporter.id == Case.reporter_id)
            .where(Case.duplicate_of_id == case_id).order_by(Case.id.desc()).limit(ON_PAGE))
    rows = [(c, r) for c, r in await session.execute(stmt)]
    total = len(rows) if len(rows) < ON_PAGE else int(await session.scalar(
        select(func.count()).select_from(Case).where(Case.duplicate_of_id == case_id)) or 0)
    return rows, total

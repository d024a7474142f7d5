"""The figures leadership reads: counts, median time per stage, SLA compliance, pranks, ratings.

`compute` is pure over case rows, so the digest, `/statistik` and the benchmark share one definition.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import sla
from core.cases import OPEN_STATES
from core.models import Case

# (name, from column, to column): each stage of handling, measured on the stored times
STAGES = (("verify", "submitted_at", "verified_at"), ("dispatch", "verified_at", "dispatched_at"),
          ("accept", "dispatched_at", "accepted_at"), ("arrive", "accepted_at", "on_scene_at"),
          ("resolve", "on_scene_at", "resolved_at"), ("close", "resolved_at", "closed_at"),
          ("total_accept", "submitted_at", "accepted_at"))


@dataclass(frozen=True)
class Figures:
    start: datetime
    end: datetime
    total: int
    by_type: dict[str, int]
    by_state: dict[str, int]
    median_seconds: dict[str, float | None]
    urgent_met: int
    urgent_missed: int
    urgent_pending: int
    pranks: int
    ratings: int
    average_rating: float | None
    open_now: int

    @property
    def compliance(self) -> float | None:
        """Share of decided urgent cases accepted within their deadline."""
        decided = self.urgent_met + self.urgent_missed
        return self.urgent_met / decided if decided else None

    @property
    def prank_share(self) -> float | None:
        return self.pranks / self.total if self.total else None


def compute(cases: list[Case], start: datetime, end: datetime, now: datetime, open_now: int) -> Figures:
    """Figures for the cases submitted in [start, end), as they stand at `now`."""
    rows = [c for c in cases if c.submitted_at is not None and start <= c.submitted_at < end]
    medians: dict[str, float | None] = {}
    for name, a, b in STAGES:
        spans = [(getattr(c, b) - getattr(c, a)).total_seconds() for c in rows
                 if getattr(c, a) is not None and getattr(c, b) is not None]
        medians[name] = median(spans) if spans else None
    outcomes = Counter(sla.outcome(state=c.state, due_at=c.sla_due_at, accepted_at=c.accepted_at,
                                   closed_at=c.closed_at, now=now) for c in rows if c.urgent)
    ratings = [c.rating for c in rows if c.rating is not None]
    return Figures(
        start=start, end=end, total=len(rows),
        by_type=dict(Counter(c.incident_type for c in rows).most_common()),
        by_state=dict(Counter(c.state for c in rows).most_common()),
        median_seconds=medians, urgent_met=outcomes["met"], urgent_missed=outcomes["missed"],
        urgent_pending=outcomes["pending"],
        pranks=sum(1 for c in rows if c.state == "rejected" and c.reject_reason == "hoax"),
        ratings=len(ratings), average_rating=sum(ratings) / len(ratings) if ratings else None,
        open_now=open_now)


async def load(session: AsyncSession, start: datetime, end: datetime, now: datetime,
               types: list[str] | None = None) -> Figures:
    """Read the period's cases and the number open now, then compute; `types` limits both to those types."""
    only = [Case.incident_type.in_(types)] if types is not None else []
    cases = list((await session.execute(
        select(Case).where(Case.submitted_at >= start, Case.submitted_at < end, *only))).scalars())
    open_now = (await session.execute(select(func.count()).select_from(Case).where(
        Case.state.in_([s.value for s in OPEN_STATES]), *only))).scalar_one()
    return compute(cases, start, end, now, open_now)

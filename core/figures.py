"""The figures leadership reads: counts, median time per stage, SLA compliance, pranks, ratings, channels, classes.

`compute` is pure over case rows, so the digest, `/statistik`, the dashboard, `/public` and the benchmark share
one definition. Drills (`Case.drill`) are in none of them. Calls an operator entered and classed as information,
ghost or prank (closed or rejected records that paged nobody) count in the channel and class figures only, not
as reports nor in the handling figures, which are about emergencies.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import sla, standards
from core.cases import OPEN_STATES
from core.models import Case
from core.standards import Standard

# (name, from column, to column): each stage of handling, measured on the stored times
STAGES = (("verify", "submitted_at", "verified_at"), ("dispatch", "verified_at", "dispatched_at"),
          ("accept", "dispatched_at", "accepted_at"), ("arrive", "accepted_at", "on_scene_at"),
          ("resolve", "on_scene_at", "resolved_at"), ("close", "resolved_at", "closed_at"),
          ("total_accept", "submitted_at", "accepted_at"))
CHANNELS = ("telegram", "whatsapp", "web", "phone", "radio", "walk_in", "relay")  # Case.intake
OPERATOR_INTAKES = ("phone", "radio", "walk_in", "relay")  # entered by an operator
CLASSES = ("emergency", "information", "ghost", "prank")  # the ministry's classes of 112 traffic
UNCLASSED = "unclassed"  # traffic_class not set yet (a chat report not decided on)
OTHER = "other"  # an intake this version does not know
NO_PLACE = ""  # reports with no kecamatan (a typed address not matched, a pin outside the gazetteer, no gazetteer)
NOT_EMERGENCIES = ("information", "ghost", "prank")


def is_report(case: Case) -> bool:
    """A report in the handling figures: anything but an operator-entered call classed as not an emergency."""
    return not (case.intake in OPERATOR_INTAKES and case.traffic_class in NOT_EMERGENCIES)


def by_channel(cases: list[Case]) -> dict[str, int]:
    """Every channel in a fixed order (zeros kept, for charts), then `other` if any intake is unknown."""
    counts = Counter(c.intake if c.intake in CHANNELS else OTHER for c in cases)
    return {**{ch: counts[ch] for ch in CHANNELS}, **({OTHER: counts[OTHER]} if counts[OTHER] else {})}


def by_kecamatan(cases: list[Case]) -> dict[str, int]:
    """Reports per kecamatan code, most first (ties by code), those without a kecamatan last."""
    counts = Counter(c.kecamatan_code or NO_PLACE for c in cases)
    ranked = sorted((code for code in counts if code != NO_PLACE), key=lambda code: (-counts[code], code))
    return {**{code: counts[code] for code in ranked}, **({NO_PLACE: counts[NO_PLACE]} if counts[NO_PLACE] else {})}


def by_class(cases: list[Case]) -> dict[str, int]:
    """The four classes in the ministry's order, then the not-yet-classed ones."""
    counts = Counter(c.traffic_class if c.traffic_class in CLASSES else UNCLASSED for c in cases)
    return {cls: counts[cls] for cls in (*CLASSES, UNCLASSED)}


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
    traffic: int = 0  # every call and message, reports and not (`total` counts the reports)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_class: dict[str, int] = field(default_factory=dict)
    standards: tuple[Standard, Standard] | None = None  # the call-taking standards, when loaded
    by_kecamatan: dict[str, int] = field(default_factory=dict)  # kecamatan code → reports, most first; NO_PLACE last

    @property
    def compliance(self) -> float | None:
        """Share of decided urgent cases accepted within their deadline."""
        decided = self.urgent_met + self.urgent_missed
        return self.urgent_met / decided if decided else None

    @property
    def prank_share(self) -> float | None:
        return self.pranks / self.total if self.total else None


def compute(cases: list[Case], start: datetime, end: datetime, now: datetime, open_now: int) -> Figures:
    """Figures for the cases submitted in [start, end), as they stand at `now`; drills left out."""
    traffic = [c for c in cases if not c.drill and c.submitted_at is not None and start <= c.submitted_at < end]
    rows = [c for c in traffic if is_report(c)]
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
        open_now=open_now, traffic=len(traffic), by_channel=by_channel(traffic), by_class=by_class(traffic),
        by_kecamatan=by_kecamatan(rows))


async def load(session: AsyncSession, start: datetime, end: datetime, now: datetime,
               types: list[str] | None = None) -> Figures:
    """Read the period's cases and the number open now, then compute; `types` limits both to those types.

    Without `types` the call-taking standards of the same window come along (they know no incident type)."""
    only = [Case.incident_type.in_(types)] if types is not None else []
    only.append(Case.drill.is_(False))
    cases = list((await session.execute(
        select(Case).where(Case.submitted_at >= start, Case.submitted_at < end, *only))).scalars())
    open_now = (await session.execute(select(func.count()).select_from(Case).where(
        Case.state.in_([s.value for s in OPEN_STATES]), *only))).scalar_one()
    fig = compute(cases, start, end, now, open_now)
    return fig if types is not None else replace(fig, standards=await standards.load(session, start, end, now))

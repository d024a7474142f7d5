"""What a step may know beyond its own state, gathered by the service before the step runs."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.config import Deployment


@dataclass(frozen=True)
class CaseSummary:
    ticket: str
    incident_type: str
    state: str
    submitted_at: datetime | None


@dataclass(frozen=True)
class Context:
    config: Deployment
    now: datetime
    ticket: str = ""
    blocked: bool = False
    reports_last_hour: int = 0
    cases: tuple[CaseSummary, ...] = field(default_factory=tuple)

"""What a step may know beyond its own state, gathered by the service before the step runs."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
    phone_known: bool = False  # the reporter's call-back number is on file (a WhatsApp number, or given before)
    places: Any = None  # the regency's gazetteer (workflows.place_step.Places), None when the deployment has none

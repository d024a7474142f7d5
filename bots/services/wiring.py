"""What the pipeline runs: the services, handed to it by the composition root (the pipeline never imports them)."""
from __future__ import annotations

from bots.pipeline.deps import Handlers
from bots.services import dashboard_actions, events, sla_timers
from core import timers


def handlers() -> Handlers:
    """Apply an event with the services; rebuild the pseudo-channels' events; plan the calendar's timers."""
    return Handlers(apply=events.handle,
                    parsers={timers.CHANNEL: events.timer_event, dashboard_actions.CHANNEL: dashboard_actions.parse},
                    plan_calendar=sla_timers.plan_calendar)

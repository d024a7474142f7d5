"""What the clock says out loud: the operators' reminder, the crews' re-ping, leaders' alerts, no-one-on-duty."""
from __future__ import annotations

from datetime import datetime

from core import sla
from core.config import Deployment, LeadershipMember
from core.i18n import t
from core.messages import Outbound, Priority
from workflows.addresses import agency_group, desk_address, leader_address
from workflows.cards import CaseView, agency_name, local_time, type_name


def verify_reminder(view: CaseView, config: Deployment, now: datetime) -> Outbound:
    lang = config.region.default_language
    waited = int((now - view.submitted_at).total_seconds() // 60)
    return Outbound(to=desk_address(config, view.desk), priority=Priority.URGENT, case_id=view.id,
                    text=t(lang, "sla.verify_reminder", ticket=view.ticket,
                           type=type_name(config, view.incident_type, lang),
                           minutes=waited, left=max(sla.minutes_left(now, view.sla_due_at or now), 0)))


def reping(view: CaseView, task_agency: str, config: Deployment, on_duty: list[str]) -> Outbound:
    lang = config.region.default_language
    group = agency_group(config, task_agency)
    assert group is not None, "re-pings go to agencies with a crew group (sla_timers.on_reping)"
    duty = t(lang, "sla.reping_duty", names=", ".join(on_duty)) if on_duty else ""
    return Outbound(to=group, priority=Priority.URGENT, case_id=view.id,
                    text=t(lang, "sla.reping", ticket=view.ticket, type=type_name(config, view.incident_type, lang),
                           time=local_time(config, view.sla_due_at, "%H:%M") if view.sla_due_at else "-",
                           duty=duty))


def holder(view: CaseView, config: Deployment, lang: str) -> str:
    """Who the case is waiting on: the operators, or the agencies dispatched and not yet accepting."""
    waiting = [x.agency for x in view.tasks if x.state == "dispatched" and x.support_of is None]
    if view.state == "dispatched" and waiting:
        return t(lang, "sla.holder_agencies", agencies=", ".join(agency_name(config, a, lang) for a in waiting))
    return t(lang, "sla.holder_operator", name=view.operator_name or t(lang, "sla.nobody"))


def escalation(view: CaseView, config: Deployment, leader: LeadershipMember, now: datetime) -> Outbound:
    lang = config.region.default_language
    it = config.incident_type(view.incident_type)
    return Outbound(to=leader_address(leader), priority=Priority.URGENT, case_id=view.id, template="status_update",
                    text=t(lang, "sla.escalation", ticket=view.ticket, type=type_name(config, view.incident_type, lang),
                           minutes=int((now - view.submitted_at).total_seconds() // 60),
                           target=it.sla_minutes if it else "-",
                           state=t(lang, f"state.{view.state}"), holder=holder(view, config, lang)))


def no_operator(view: CaseView, config: Deployment) -> list[Outbound]:
    """Nobody checked in at the command centre: the configured leader hears of the new report at once."""
    lang = config.region.default_language
    text = t(lang, "roster.no_operator", ticket=view.ticket, type=type_name(config, view.incident_type, lang))
    return [Outbound(to=leader_address(leader), text=text, priority=Priority.URGENT, case_id=view.id,
                     template="status_update", merge="new_reports")
            for leader in config.leaders(config.roster.alert_role)]

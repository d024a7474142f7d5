"""What a surge changes in what people are told: first eyes for operators, one summary for leaders, a truthful
word for citizens (bots/services/surge.py decides when)."""
from __future__ import annotations

from datetime import datetime

from core.config import Deployment
from core.i18n import t
from core.messages import Address, Outbound, Priority
from core.surge import Summary
from workflows.addresses import leader_address
from workflows.card_messages import card_copy
from workflows.cards import CaseView


def first_eyes(view: CaseView, config: Deployment, operators: list[Address]) -> list[Outbound]:
    """The urgent report's card in each operator's private chat too: whoever acts first owns the case, and
    every copy follows the group card's edits (so the others see who did)."""
    return [card_copy(view, config, to) for to in operators]


def citizen_notice(chat: str, lang: str, ticket: str, config: Deployment, *, urgent: bool,
                   case_id: int | None = None) -> Outbound:
    """Right after the ticket: many reports are coming in, theirs is recorded, call 112 if lives are at stake."""
    return Outbound(to=Address.parse(chat), text=t(lang, "surge.citizen", ticket=ticket,
                                                   number=config.region.emergency_number),
                    priority=Priority.URGENT if urgent else Priority.NORMAL, template="status_update",
                    case_id=case_id)


def _minutes(value: float) -> str:
    return f"{value:g}"


def summary_text(fig: Summary, config: Deployment, now: datetime, *, calm: bool, unattended: bool = False) -> str:
    """The period's reports by type, how many urgent and unverified, the oldest waiting; `calm`: its last one;
    `unattended`: no operator is checked in (said here in a surge rather than once per report)."""
    lang, every = config.region.default_language, _minutes(config.surge.leader_summary_minutes)
    lines = [t(lang, "surge.summary_head", minutes=every, total=fig.total, urgent=fig.urgent)]
    if unattended:
        lines.append(t(lang, "surge.summary_no_operator"))
    for code, count in fig.by_type.items():
        it = config.incident_type(code)
        lines.append(t(lang, "surge.summary_type", type=it.name.get(lang) if it else code, count=count))
    if fig.oldest is None:
        lines.append(t(lang, "surge.summary_all_verified"))
    else:
        it = config.incident_type(fig.oldest.incident_type)
        waited = max(0, int((now - fig.oldest.submitted_at).total_seconds() // 60))
        lines.append(t(lang, "surge.summary_unverified", count=fig.unverified, ticket=fig.oldest.ticket,
                       type=it.name.get(lang) if it else fig.oldest.incident_type, minutes=waited))
    lines.append(t(lang, "surge.summary_calm") if calm else t(lang, "surge.summary_next", minutes=every))
    return "\n".join(lines)


def leader_summary(fig: Summary, config: Deployment, now: datetime, *, calm: bool,
                   unattended: bool = False) -> list[Outbound]:
    """One summary to each leader who would have heard at least one of the period's reports one by one (and,
    while no operator is checked in, to the leaders `roster.alert_role` names, as a new report would)."""
    kinds = [it for it in map(config.incident_type, fig.by_type) if it is not None]
    alerted = config.leaders(config.roster.alert_role) if unattended else []
    text = summary_text(fig, config, now, calm=calm, unattended=unattended)
    return [Outbound(to=leader_address(leader), text=text, template="status_update")
            for leader in config.leadership
            if leader in alerted or any(leader.hears_new(it.urgent, it.major) for it in kinds)]

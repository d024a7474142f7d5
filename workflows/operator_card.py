"""What the command centre hears when a report is submitted: the operators' card, and leadership."""
from __future__ import annotations

from core.config import Deployment
from core.i18n import t
from core.messages import Outbound, Priority
from workflows.addresses import leader_address
from workflows.card_messages import card_message
from workflows.cards import CaseView, local_time


def on_submitted(view: CaseView, config: Deployment, entered: bool = False, leaders: bool = True) -> list[Outbound]:
    """The report card (photo, text, buttons, map link: no separate pin, see cards.map_link) and each leader's
    notice (`entered`: an operator took it by phone and dispatches it at once, nothing left to verify;
    `leaders` False in a surge: they get one summary every few minutes instead, bots/services/surge.py)."""
    lang = config.region.default_language
    it = config.incident_type(view.incident_type)
    assert it is not None, "a case's type is one of the deployment's"
    priority = Priority.URGENT if view.urgent else Priority.NORMAL
    out = [card_message(view, config, edit=False)]
    urgency = t(lang, "card.urgent", minutes=it.sla_minutes) if it.urgent else t(lang, "card.normal")
    key = "leader.new_entered" if entered else "leader.new_report"
    notice = t(lang, key, ticket=view.ticket, type=it.name.get(lang), urgency=urgency,
               when=local_time(config, view.submitted_at))
    for leader in config.leadership if leaders else ():
        if leader.hears_new(it.urgent, it.major):  # `notify` in the deployment file: the Bupati not of every one
            out.append(Outbound(to=leader_address(leader), text=notice, priority=priority, case_id=view.id,
                                template="status_update", merge="new_reports"))
    return out


def became_major(view: CaseView, config: Deployment) -> list[Outbound]:
    """An urgent case merged up to `duplicates.raise_priority_at` reports is a major incident: leaders who take
    major incidents but were not told of it as a new report hear of it now, once (at exactly that count)."""
    it = config.incident_type(view.incident_type)
    if it is None or not view.urgent or view.report_count != config.duplicates.raise_priority_at:
        return []
    lang = config.region.default_language
    text = t(lang, "deploy.leader_major", ticket=view.ticket, type=it.name.get(lang), reports=view.report_count)
    return [Outbound(to=leader_address(leader), text=text, priority=Priority.URGENT, case_id=view.id,
                     template="status_update", merge="new_reports")
            for leader in config.leadership if leader.hears("major") and not leader.hears_new(it.urgent, it.major)]

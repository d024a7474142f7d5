"""What the command centre hears when a report is submitted: the operators' card, and leadership."""
from __future__ import annotations

from core.config import Deployment
from core.i18n import t
from core.messages import Outbound, Priority
from workflows.addresses import leader_address
from workflows.card_messages import card_message
from workflows.cards import CaseView, local_time


def on_submitted(view: CaseView, config: Deployment, entered: bool = False) -> list[Outbound]:
    """The report card (photo, text, buttons, map link: no separate pin, see cards.map_link) and each leader's
    notice (`entered`: an operator took it by phone and dispatches it at once, nothing left to verify)."""
    lang = config.region.default_language
    it = config.incident_type(view.incident_type)
    assert it is not None, "a case's type is one of the deployment's"
    priority = Priority.URGENT if view.urgent else Priority.NORMAL
    out = [card_message(view, config, edit=False)]
    urgency = t(lang, "card.urgent", minutes=it.sla_minutes) if it.urgent else t(lang, "card.normal")
    key = "leader.new_entered" if entered else "leader.new_report"
    notice = t(lang, key, ticket=view.ticket, type=it.name.get(lang), urgency=urgency,
               when=local_time(config, view.submitted_at))
    for leader in config.leadership:
        out.append(Outbound(to=leader_address(leader), text=notice, priority=priority, case_id=view.id,
                            template="status_update", merge="new_reports"))
    return out

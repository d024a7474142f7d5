"""What a report that joined an open case of the same incident sets going (pure): one card, not one per report.

The open case's card is edited to count the report and name its reporter (workflows/cards.py); leaders who
take major incidents hear once the count reaches `duplicates.raise_priority_at`; the reporter is told, in their
own language, that their report joined a report already being looked at. From then on they hear every step
of that case as its own reporter does (core/casework.followers): verified, rejected, the crew's ETA, closed.
"""
from __future__ import annotations

from core.config import Deployment
from core.messages import Outbound
from workflows import operator_card
from workflows.card_messages import card_message
from workflows.cards import CaseView
from workflows.desk_replies import Follower, tell


def joined(case: CaseView, reporter: Follower, config: Deployment) -> list[Outbound]:
    """The open case's card edited, leaders if it just became major, and the joining reporter told the truth."""
    key = "cluster.joined_waiting" if case.state == "submitted" else "cluster.joined_handled"
    return [card_message(case, config, edit=True), *operator_card.became_major(case, config),
            *tell((reporter,), key, config, urgent=case.urgent, other=case.ticket, count=case.report_count)]

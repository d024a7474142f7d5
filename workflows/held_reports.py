"""The one card that stands in the operators' group for web reports held past the limits (bots/pipeline/web_hold.py).

Each held report is an ordinary submitted case on the dashboard; the group gets this card, edited in place as more
arrive, instead of a card, leaders' notices and a clock each.
"""
from __future__ import annotations

from core.config import Deployment
from core.i18n import t
from core.messages import Outbound, Priority
from workflows.addresses import operators_address

SHOWN_TICKETS = 10  # the newest tickets on the card; the dashboard lists them all


def summary_card(config: Deployment, *, count: int, tickets: list[str], ref: str, first: bool,
                 overall: bool) -> Outbound:
    """The card as a first send (`ref`) or as an edit of it, counting the reports held so far."""
    lang = config.region.default_language
    text = t(lang, "held.summary_overall" if overall else "held.summary_address", count=count,
             tickets=", ".join(tickets[-SHOWN_TICKETS:]))
    return Outbound(to=operators_address(config), text=text, priority=Priority.NORMAL, ref=ref if first else "",
                    edit_of="" if first else ref)

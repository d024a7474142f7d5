"""What reporters hear as their case moves, in their own language, and the alerts operators get from them."""
from __future__ import annotations

from core.config import Deployment
from core.i18n import t
from core.messages import Address, Choice, Outbound, Priority
from workflows.addresses import leader_address, operators_address
from workflows.cards import agency_name, citizen_lines

__all__ = ["agencies_text", "leader_address", "low_rating_alert", "rating_request", "reporter_update"]


def reporter_update(chat: str, lang: str, key: str, config: Deployment, *, ticket: str, urgent: bool = False,
                    case_id: int | None = None, **params: object) -> Outbound:
    """One status message to a reporter (`chat` is their `channel:id` address)."""
    text = t(lang, key, ticket=ticket, number=config.region.emergency_number, **params)
    return Outbound(to=Address.parse(chat), text=text, priority=Priority.URGENT if urgent else Priority.NORMAL,
                    template="status_update", case_id=case_id)


def agencies_text(codes: list[str], config: Deployment, lang: str) -> str:
    return ", ".join(agency_name(config, c, lang) for c in codes)


def rating_request(chat: str, lang: str, case_id: int, ticket: str) -> Outbound:
    stars = tuple(Choice(f"rate:{case_id}:{n}", "⭐" * n) for n in range(1, 6))
    return Outbound(to=Address.parse(chat), text=t(lang, "rating.ask", ticket=ticket), choices=stars,
                    template="rating_request", case_id=case_id)


def low_rating_alert(config: Deployment, ticket: str, stars: int, comment: str = "") -> Outbound:
    """The operators' alert; the reporter's comment follows quoted, like everything a citizen typed."""
    lang = config.region.default_language
    lines = [t(lang, "rating.low_alert_head", ticket=ticket, stars="⭐" * stars),
             *citizen_lines(lang, comment=(comment, config.limits.max_description_chars))]
    return Outbound(to=operators_address(config), text="\n".join(lines),
                    priority=Priority.NORMAL)

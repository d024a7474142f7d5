"""What reporters hear as their case moves, in their own language, and the alerts operators get from them."""
from __future__ import annotations

from dataclasses import replace

from core.config import Deployment
from core.i18n import LANGUAGES, t
from core.messages import Address, Choice, Outbound, Priority
from workflows.addresses import desk_address, leader_address
from workflows.cards import agency_name, citizen_lines

__all__ = ["agencies_text", "billed", "drill_marked", "for_drill", "leader_address", "low_rating_alert",
           "rating_request", "reporter_update"]


def reporter_update(chat: str, lang: str, key: str, config: Deployment, *, ticket: str, urgent: bool = False,
                    case_id: int | None = None, drill: bool = False, **params: object) -> Outbound:
    """One status message to a reporter (`chat` is their `channel:id` address); a drill case's says LATIHAN."""
    text = drill_marked(lang, t(lang, key, ticket=ticket, number=config.region.emergency_number, **params), drill)
    return Outbound(to=Address.parse(chat), text=text, priority=Priority.URGENT if urgent else Priority.NORMAL,
                    template="status_update", case_id=case_id)


def billed(chat: str) -> bool:
    """WhatsApp bills every message, replies inside the 24-hour window too (since 1 October 2026): reporters
    there are told the steps they need in fewer messages (workflows/desk_replies.py says which)."""
    return chat.startswith("whatsapp:")


def agencies_text(codes: list[str], config: Deployment, lang: str) -> str:
    return ", ".join(agency_name(config, c, lang) for c in codes)


def rating_request(chat: str, lang: str, case_id: int, ticket: str, handled: bool = True,
                   drill: bool = False) -> Outbound:
    """Stars for the handling when a crew took the case on; else for the call centre's service."""
    stars = tuple(Choice(f"rate:{case_id}:{n}", "⭐" * n) for n in range(1, 6))
    text = drill_marked(lang, t(lang, "rating.ask" if handled else "care.rating_ask_service", ticket=ticket), drill)
    return Outbound(to=Address.parse(chat), text=text, choices=stars, template="rating_request", case_id=case_id)


def drill_marked(lang: str, text: str, drill: bool) -> str:
    """A drill case's message begins with the LATIHAN marker."""
    return f"{t(lang, 'drill.marker')}\n{text}" if drill else text


def for_drill(out: list[Outbound], config: Deployment, drill: bool) -> list[Outbound]:
    """Staff messages about a drill case: each says LATIHAN, and leaders hear of it only if the deployment says so."""
    if not drill:
        return out
    leaders = {leader_address(leader) for leader in config.leadership}
    lang, markers = config.region.default_language, tuple(t(code, "drill.marker") for code in LANGUAGES)
    return [replace(m, text=drill_marked(lang, m.text, True)) if m.text and not m.text.startswith(markers) else m
            for m in out if config.drills.alert_leaders or m.to not in leaders]


def low_rating_alert(config: Deployment, ticket: str, stars: int, comment: str = "", *,
                     desk: str | None = None) -> Outbound:
    """The alert to the case's operators' group (`desk`); the reporter's comment follows quoted, like everything
    a citizen typed."""
    lang = config.region.default_language
    lines = [t(lang, "rating.low_alert_head", ticket=ticket, stars="⭐" * stars),
             *citizen_lines(lang, comment=(comment, config.limits.max_description_chars))]
    return Outbound(to=desk_address(config, desk), text="\n".join(lines),
                    priority=Priority.NORMAL)

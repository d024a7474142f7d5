"""Which operators' group shows a new report's card (`operators.desks`): each group has its own 20 messages a minute.

"area": the desk that lists the case's kecamatan (by code, or by name as the gazetteer spells it), else the main
group. "round_robin": the group with the fewest new cards still waiting for its share of Telegram's limit
(core/outbox.py `waiting_cards`), so a surge spreads over every desk at the pace each can show; on a tie (a calm
day: none waiting) the case id takes turns, the main group first. The answer is stored as `Case.desk_chat_id`
(None: the main group), and every later message about the case goes there (workflows/addresses.desk_address).
"""
from __future__ import annotations

from collections.abc import Mapping

from core.config import Deployment


def shares(config: Deployment) -> bool:
    """Whether the choice depends on how many cards each group has waiting (only round_robin asks)."""
    return bool(config.operators.desks) and config.operators.routing == "round_robin"


def by_area(config: Deployment, kecamatan_code: str | None, kecamatan_name: str | None) -> str | None:
    """The desk listing this kecamatan; None (the main group) for a place no desk lists or no place known."""
    if not kecamatan_code:
        return None
    desk = next((d for d in config.operators.desks if d.lists(kecamatan_code, kecamatan_name)), None)
    return str(desk.telegram_chat_id) if desk else None


def by_turn(config: Deployment, case_id: int, waiting: Mapping[str, int]) -> str | None:
    """The group with the fewest cards waiting (`waiting` by chat id, missing: none); ties go round by case id."""
    chats = config.desk_chats()
    pick = min(range(len(chats)), key=lambda i: (waiting.get(chats[i], 0), (i - case_id) % len(chats)))
    return chats[pick] if pick else None


def choose(config: Deployment, case_id: int, kecamatan_code: str | None, kecamatan_name: str | None,
           waiting: Mapping[str, int]) -> str | None:
    """The desk of a new case (its chat id), or None for the main group."""
    if not config.operators.desks:
        return None
    if config.operators.routing == "round_robin":
        return by_turn(config, case_id, waiting)
    return by_area(config, kecamatan_code, kecamatan_name)

"""Where the desk's messages go: the operators' group, an agency's crew group, a leader's chat."""
from __future__ import annotations

from core.config import Deployment, LeadershipMember
from core.messages import Address


def operators_address(config: Deployment) -> Address:
    """The command centre's Telegram group, where report cards and alerts for operators go."""
    return Address("telegram", str(config.operators.telegram_chat_id))


def desk_address(config: Deployment, desk_chat_id: str | None) -> Address:
    """The operators' group a case belongs to (`Case.desk_chat_id`, one of `operators.desks`); None: the main one."""
    return Address("telegram", desk_chat_id) if desk_chat_id else operators_address(config)


def agency_group(config: Deployment, code: str) -> Address | None:
    """An agency's crew group on Telegram, or None for an agency reached only 1:1."""
    agency = config.agency(code)
    if agency is None or agency.telegram_chat_id is None:
        return None
    return Address("telegram", str(agency.telegram_chat_id))


def leader_address(leader: LeadershipMember) -> Address:
    """Leaders are reached on Telegram when they have it, else on WhatsApp."""
    if leader.telegram_user_id is not None:
        return Address("telegram", str(leader.telegram_user_id))
    return Address("whatsapp", leader.whatsapp or "")

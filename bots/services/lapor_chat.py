"""`/lapor`: opened from the operators' group in the operator's private chat, walked by workflows/lapor_intake.py,
entered through bots/services/phone_intake.py. Its state lives under `lapor:<operator>`, apart from the citizen
conversation of that chat, and only while it is open do the operator's private messages come here."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bots.services import phone_intake
from core import repository
from core.casework import NotAllowed
from core.config import Deployment
from core.i18n import t
from core.messages import Address, Inbound, Kind, Outbound
from core.models import Conversation
from workflows import lapor_intake, notices
from workflows.actions import Pressed
from workflows.operator_intake import validate

if TYPE_CHECKING:
    from bots.services.desk import Desk

KEY = "lapor:"
STALE = timedelta(hours=2)  # an intake left open this long no longer takes the operator's messages


def _save(conv: Conversation, state: dict[str, str] | None, now: datetime) -> None:
    conv.state, conv.version, conv.updated_at = state or {}, conv.version + 1, now


async def open_from_group(desk: Desk, pressed: Pressed) -> None:
    """`/lapor` in the operators' group: the intake goes to the operator's private chat, the group hears so."""
    sender = desk.event.sender
    if desk.event.is_private or sender.channel != "telegram":
        raise NotAllowed("desk.unknown_action")
    private = Address(sender.channel, sender.id)
    if await desk.s.get(Conversation, str(private)) is None:  # never wrote to the bot: it may not write to them
        desk.answer(t(desk.lang, "intake.start_bot_first", name=desk.name))
        return
    conv = await repository.conversation_for_update(desk.s, KEY + str(private))
    opened = lapor_intake.start(desk.config, desk.now, private)
    _save(conv, opened.state, desk.now)
    desk.out += opened.out
    desk.answer(t(desk.lang, "intake.opened_private", name=desk.name))


async def takes(session: AsyncSession, config: Deployment, event: Inbound, now: datetime) -> bool:
    """Whether an operator's private-chat event belongs to the intake rather than the citizen conversation."""
    if event.kind == Kind.TIMER or not config.is_operator(event.sender.channel, event.sender.id):
        return False
    if (event.kind == Kind.COMMAND and event.command == "lapor") or event.choice.startswith(lapor_intake.PREFIX):
        return True
    conv = await session.get(Conversation, KEY + str(event.sender))
    return bool(conv is not None and conv.state and now - conv.updated_at < STALE)


async def step(session: AsyncSession, config: Deployment, event: Inbound, now: datetime, ticket: str,
               live: frozenset[str] | None = None) -> list[Outbound]:
    """One answer in the intake; at Send, the case is entered and dispatched in this transaction."""
    lang = config.region.default_language
    conv = await repository.conversation_for_update(session, KEY + str(event.sender))
    if event.kind == Kind.COMMAND and event.command == "lapor":
        opened = lapor_intake.start(config, now, event.chat)
        _save(conv, opened.state, now)
        return opened.out
    if not conv.state or now - conv.updated_at >= STALE:
        return [Outbound(to=event.chat, text=t(lang, "intake.closed"))]
    moved = lapor_intake.step(dict(conv.state), event, config)
    if not moved.submit:
        _save(conv, moved.state, now)
        return moved.out
    report = validate(lapor_intake.fields(conv.state), config, now)
    if isinstance(report, dict):
        return [lapor_intake.ask(conv.state, config, next(iter(report.values())))]
    name = config.person_name(event.sender.channel, event.sender.id) or event.sender_name or "-"
    as_desk = phone_intake.operator_event(event.chat, event.sender, name, private=True, callback_id=event.callback_id)
    savepoint = await session.begin_nested()
    try:
        case, out = await phone_intake.create(session, config, report, as_desk, now, ticket, live)
    except NotAllowed as exc:
        await savepoint.rollback()  # nothing of the case stays
        return [Outbound(to=event.chat, text=t(lang, exc.key, **exc.params))]
    await savepoint.commit()
    _save(conv, None, now)
    agencies = notices.agencies_text(list(report.agencies), config, lang)
    return [*out, Outbound(to=event.chat, text=t(lang, "intake.done", ticket=case.ticket, agencies=agencies))]

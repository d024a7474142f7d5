"""Operators' and crews' actions (group chats, or 1:1 on WhatsApp): check who may act, apply, notify everyone.

Every action runs inside the processing transaction with the case row locked, so the first crew member
to accept wins and two operators cannot both act on one card. Each runs in a savepoint: a refused action
(`NotAllowed`, from a decision or from core/casework.py) is rolled back whole and only answered.
Presses and commands are dispatched through the action table (workflows/actions.py): report-card buttons
to bots/services/operator_desk.py, task buttons to crew_tasks.py, commands to the handler registered below.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bots.services import (
    abandoned_drafts,
    crew_tasks,
    lapor_chat,
    open_card,
    operator_commands,
    operator_desk,
    staff,
)
from bots.services.case_view import case_view, drill_marked
from bots.services.crew_tasks import finishing_task
from core.casework import NotAllowed
from core.config import Deployment
from core.i18n import t
from core.messages import Inbound, Kind, Outbound
from core.models import Case
from workflows import actions as A
from workflows.cards import CaseView
from workflows.desk_replies import DeskContext, Refusal, Reply, answered

__all__ = ["HANDLERS", "Desk", "case_view", "finishing_task", "is_crew_member", "is_desk_event"]


class Desk:
    """One operator or crew event, handled in the caller's transaction; returns the messages to send."""

    def __init__(self, session: AsyncSession, config: Deployment, event: Inbound, now: datetime, *,
                 live: frozenset[str] | None = None) -> None:
        self.s, self.config, self.event, self.now = session, config, event, now
        self.lang = config.region.default_language
        self.actor = str(event.sender)
        self.name = config.person_name(event.sender.channel, event.sender.id) or event.sender_name or "-"
        self.ctx = DeskContext(config, now, self.actor, self.name, self.lang, event.chat, event.is_private,
                               event.callback_id, live=live)
        self.out: list[Outbound] = []
        self.refused: NotAllowed | None = None  # why the action was refused, for the dashboard to show

    async def handle(self) -> list[Outbound]:
        pressed = A.parse(self.event)
        savepoint = await self.s.begin_nested()
        try:
            if pressed is None:
                await crew_tasks.on_message(self)
            else:
                if pressed.action.right != A.Right.CREW:  # a task's agency is known once the task is loaded
                    self.refuse_unless_allowed(pressed.action)
                await HANDLERS[pressed.action](self, pressed)
            await savepoint.commit()
            self.out = await drill_marked(self.s, self.config, self.out)  # LATIHAN on every message of a drill
        except NotAllowed as exc:
            await savepoint.rollback()  # a refused action changes nothing
            self.out, self.refused = [], exc
            self.answer(t(self.lang, exc.key, **exc.params))
        return self.out

    def refuse_unless_allowed(self, action: A.Action, task_agency: str | None = None) -> None:
        if (key := A.refusal(action, self.event, self.config, task_agency)) is not None:
            raise NotAllowed(key)

    def answer(self, text: str) -> None:
        """Answer the button press (a toast), or reply in the chat to a command."""
        self.out = answered(self.out, self.ctx, text)

    def reply(self, reply: Reply | Refusal) -> None:
        """Queue a decision's messages and answer, or refuse (rolling the action back)."""
        if isinstance(reply, Refusal):
            raise NotAllowed(reply.key, **reply.params)
        self.out += reply.messages
        if reply.answer is not None:
            self.answer(reply.answer)

    async def view(self, case: Case) -> CaseView:
        return await case_view(self.s, case, self.config, self.now)


Handler = Callable[[Desk, A.Pressed], Awaitable[None]]
HANDLERS: dict[A.Action, Handler] = {
    **{action: operator_desk.press for action in A.TABLE if action.scope == "case"},  # decisions: operator_desk
    **{action: crew_tasks.press for action in A.TABLE if action.scope == "task"},     # decisions: crew_tasks
    A.CASE_OPEN: open_card.open_case,  # a line of a list of waiting cards: the card in a private chat
    A.TASK_OPEN: open_card.open_task,
    A.DRAFT_MAKE: abandoned_drafts.make_case,
    A.CMD_KASUS: operator_commands.kasus,
    A.CMD_TUTUP: operator_commands.tutup,
    A.CMD_BLOKIR: operator_commands.blokir,
    A.CMD_BUKA_BLOKIR: operator_commands.buka_blokir,
    A.CMD_CATATAN: operator_desk.catatan,
    A.CMD_MASUK: staff.masuk,
    A.CMD_KELUAR: staff.keluar,
    A.CMD_PIKET: staff.piket,
    A.CMD_STATISTIK: staff.statistik,
    A.CMD_LAPOR: lapor_chat.open_from_group,
}
if missing := [a.code for a in A.TABLE if a not in HANDLERS]:
    raise RuntimeError(f"desk actions without a handler: {missing}")


def is_desk_event(event: Inbound, config: Deployment) -> bool:
    """A private-chat event for the desk rather than the citizen flow: a task or operator button, or a
    roster or figures command from staff or leadership."""
    if event.kind == Kind.COMMAND and event.command in A.STAFF_COMMANDS:
        channel, who = event.sender.channel, event.sender.id
        return (config.is_operator(channel, who) or config.is_leader(channel, who)
                or bool(config.agencies_of(channel, who)))
    return A.is_desk_press(event)


def is_crew_member(event: Inbound, config: Deployment) -> bool:
    return any(a.has_member(event.sender.channel, event.sender.id) for a in config.agencies)

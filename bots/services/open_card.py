"""A line of a list of waiting cards pressed: the whole card goes to the presser's private chat, and the line
shows who opened it. Nothing about the case changes; the card's buttons act from there."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from core import casework, outbox
from core import outbox_lists as lists
from core.casework import NotAllowed
from core.messages import Address, Outbound
from core.models import Conversation, OutboxItem, Task
from workflows.actions import Pressed
from workflows.batch_card import opened_toast, private_chat_first
from workflows.card_messages import card_copy, edit_priority, task_copy
from workflows.cards import priority_of

if TYPE_CHECKING:
    from bots.services.desk import Desk


async def open_case(desk: Desk, pressed: Pressed) -> None:
    """`case:open:<case id>`, by an operator: the report card in their private chat."""
    case = await casework.load_case(desk.s, pressed.target)
    if case is None:
        raise NotAllowed("desk.unknown_case")
    if (to := await _private_chat(desk)) is None:
        return
    view = await desk.view(case)
    if not await _has_copy(desk, f"card:{case.id}", to):  # first eyes may have sent it already: not twice
        desk.out.append(card_copy(view, desk.config, to))
    await _opened(desk, f"card:{case.id}", priority_of(view, desk.config))
    desk.answer(opened_toast(desk.lang, case.ticket))


async def open_task(desk: Desk, pressed: Pressed) -> None:
    """`task:open:<task id>`, by a member of the task's agency: the task card (and its pin) in their private chat."""
    task = await desk.s.get(Task, pressed.target)
    desk.refuse_unless_allowed(pressed.action, task.agency if task else None)
    if task is None:
        raise NotAllowed("desk.unknown_case")
    case = await casework.load_case(desk.s, task.case_id)
    if case is None:
        raise NotAllowed("desk.unknown_case")
    if (to := await _private_chat(desk)) is None:
        return
    view = await desk.view(case)
    shown = view.task(task.id)
    if shown is None:
        raise NotAllowed("desk.unknown_case")
    if not await _has_copy(desk, f"task:{task.id}", to):  # a second press: the card is there already
        desk.out += task_copy(view, shown, desk.config, to)
    await _opened(desk, f"task:{task.id}", priority_of(view, desk.config))
    desk.answer(opened_toast(desk.lang, case.ticket))


async def _private_chat(desk: Desk) -> Address | None:
    """The presser's private chat, if they ever wrote to the bot there (Telegram bots cannot write first);
    otherwise they are told to start it, and nothing is sent."""
    to = desk.event.sender
    if await desk.s.get(Conversation, str(to)) is None:
        desk.answer(private_chat_first(desk.lang))
        return None
    return to


async def _has_copy(desk: Desk, ref: str, to: Address) -> bool:
    """Whether this person's private chat has (or is about to get) a copy of the card; its edits keep it current."""
    return (await desk.s.execute(select(OutboxItem.id).where(
        OutboxItem.ref == outbox.copy_ref(ref, to),
        OutboxItem.status.in_(("pending", "sending", "sent"))).limit(1))).first() is not None


async def _opened(desk: Desk, ref: str, priority: int) -> None:
    """The card's line in its list shows who opened it (an edit of the list, rendered when it is sent)."""
    list_ref = await lists.list_of(desk.s, ref)
    if list_ref is None:
        return
    relisted = await lists.relist(desk.s, list_ref, ref, opened=desk.name)
    if relisted is not None and relisted.due:
        desk.out.append(Outbound(to=lists.group_of(relisted.row), edit_of=list_ref, priority=edit_priority(priority)))

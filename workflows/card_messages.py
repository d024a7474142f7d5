"""The cards as messages: the report card in the operators' group, task cards in crew groups and 1:1 chats."""
from __future__ import annotations

from dataclasses import replace

from core.config import Deployment
from core.i18n import t
from core.messages import Address, Choice, GeoPoint, Outbound, Priority
from core.outbox import copy_ref
from workflows.addresses import agency_group, desk_address
from workflows.batch_card import case_line, task_line
from workflows.cards import CaseView, TaskView, priority_of, report_text, task_text
from workflows.keyboards import report_buttons, task_buttons


def edit_priority(priority: int) -> int:
    """Below every new message: in a surge a group gets each new report before updates of those it already
    shows (Telegram allows 20 a minute per group; waiting edits of one card collapse into one)."""
    return min(priority, Priority.NORMAL) - 1


def card_message(view: CaseView, config: Deployment, *, edit: bool, menu: str = "",
                 choices: tuple[Choice, ...] | None = None) -> Outbound:
    """The report card as a first send (photo, buttons) or as an edit in place."""
    ops = desk_address(config, view.desk)
    buttons = choices if choices is not None else report_buttons(view, config, menu)
    priority = priority_of(view, config)
    ref, line = f"card:{view.id}", case_line(view, config)  # `line`: the card in a list of waiting cards
    if edit:
        return Outbound(to=ops, text=report_text(view, config), choices=buttons, columns=2,
                        priority=edit_priority(priority), edit_of=ref, case_id=view.id, line=line)
    return Outbound(to=ops, text=report_text(view, config), photo_media_id=view.photo_media_id, choices=buttons,
                    columns=2, priority=priority, ref=ref, case_id=view.id, line=line)


def card_copy(view: CaseView, config: Deployment, to: Address) -> Outbound:
    """The report card in one operator's private chat (a surge's first eyes, or a line of a list opened there):
    same text and buttons, and every edit of the group's card edits it too (core/outbox.py)."""
    card = card_message(view, config, edit=False)
    return replace(card, to=to, ref=copy_ref(card.ref, to))


def task_copy(view: CaseView, task: TaskView, config: Deployment, to: Address) -> list[Outbound]:
    """A task card (and its pin) in one crew member's private chat, following the group card's edits."""
    return [replace(m, to=to, ref=copy_ref(m.ref, to) if m.ref else "")
            for m in task_messages(view, task, config, edit=False)]


def task_messages(view: CaseView, task: TaskView, config: Deployment, *, edit: bool, menu: str = "") -> list[Outbound]:
    """A new task card (with photo and pin) for the agency's group, or its edit in place."""
    group = agency_group(config, task.agency)
    if group is None:
        return []  # an agency without a crew group is reached by its members directly
    priority = priority_of(view, config)
    text, buttons, ref = task_text(view, task, config), task_buttons(view, task, config, menu), f"task:{task.id}"
    line = task_line(view, task, config)
    if edit:
        return [Outbound(to=group, text=text, choices=buttons, columns=2, priority=edit_priority(priority),
                         edit_of=ref, case_id=view.id, line=line)]
    out = [Outbound(to=group, text=text, photo_media_id=view.photo_media_id, choices=buttons, columns=2,
                    priority=priority, ref=ref, case_id=view.id, line=line)]
    if view.latitude is not None and view.longitude is not None:
        out.append(Outbound(to=group, location=GeoPoint(view.latitude, view.longitude), priority=priority,
                            case_id=view.id))
    return out


def crew_whatsapp_tasks(view: CaseView, task: TaskView, config: Deployment) -> list[Outbound]:
    """WhatsApp groups cannot carry buttons, so each of the agency's members on WhatsApp gets the task 1:1."""
    agency = config.agency(task.agency)
    out: list[Outbound] = []
    for member in agency.members if agency else []:
        if member.whatsapp:
            to = Address("whatsapp", member.whatsapp)
            out.append(crew_direct(view, task, config, to))
            if view.latitude is not None and view.longitude is not None:
                out.append(Outbound(to=to, location=GeoPoint(view.latitude, view.longitude), case_id=view.id,
                                    priority=priority_of(view, config)))
    return out


def crew_direct(view: CaseView, task: TaskView, config: Deployment, to: Address, menu: str = "") -> Outbound:
    """The task with its current buttons, as a new message in a crew member's 1:1 chat."""
    first = task.state == "dispatched" and not menu
    return Outbound(to=to, text=task_text(view, task, config), choices=task_buttons(view, task, config, menu),
                    photo_media_id=view.photo_media_id if first else None, case_id=view.id, template="crew_task",
                    priority=priority_of(view, config))


def crew_taken_notices(view: CaseView, task: TaskView, config: Deployment, except_: Address) -> list[Outbound]:
    """Tell the agency's other members on WhatsApp who took the task, so nobody else sets out."""
    agency = config.agency(task.agency)
    lang = config.region.default_language
    return [Outbound(to=Address("whatsapp", m.whatsapp), case_id=view.id, template="status_update",
                     text=t(lang, "crew.taken_by", ticket=view.ticket, name=task.owner_name or "-"))
            for m in (agency.members if agency else []) if m.whatsapp and Address("whatsapp", m.whatsapp) != except_]

"""The crews' decisions on a task card, and what everyone hears after (pure: no database).

`decide` turns a press on a task card into a domain command, a menu or a refusal, from the case and the
task as they stand; the service (bots/services/crew_tasks.py) applies the command through core/casework.py
with the case locked (the first crew member to accept wins), reads the case again, and `messages` says
what the groups, the crew members on WhatsApp, the operators and the reporters are sent.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.button_data import number
from core.config import OVER_AN_HOUR, Deployment
from core.i18n import t
from core.messages import Outbound, Priority
from workflows import actions as A
from workflows.addresses import desk_address
from workflows.card_messages import card_message, crew_direct, crew_taken_notices, crew_whatsapp_tasks, task_messages
from workflows.cards import NAME_CHARS, CaseView, TaskView
from workflows.desk_replies import (
    DeskContext,
    Follower,
    Refusal,
    Reply,
    ShowMenu,
    accepted,
    agency,
    on_scene,
    ratings,
    task_menu,
    tell,
)


@dataclass(frozen=True)
class Accept:
    task: int
    eta: int


@dataclass(frozen=True)
class Refuse:
    task: int
    reason: str


@dataclass(frozen=True)
class Arrive:
    task: int


@dataclass(frozen=True)
class RequestSupport:
    task: int
    agency: str


@dataclass(frozen=True)
class StartFinishing:
    """The crew is done on scene and will send documentation."""

    task: int


@dataclass(frozen=True)
class Finish:
    task: int


@dataclass(frozen=True)
class AcceptFor:
    """An operator enters a crew's acceptance heard by radio: the crew member's address (or the agency's
    radio) owns the task."""

    task: int
    eta: int
    crew: str
    crew_name: str


@dataclass(frozen=True)
class ArriveFor:
    task: int


@dataclass(frozen=True)
class FinishFor:
    task: int
    note: str = ""


OnBehalf = AcceptFor | ArriveFor | FinishFor
Command = Accept | Refuse | Arrive | RequestSupport | StartFinishing | Finish | OnBehalf
Decision = Command | ShowMenu | Refusal


@dataclass(frozen=True)
class Outcome:
    """What applying a command changed, as the service read it back."""

    view: CaseView                        # the case after the change
    followers: tuple[Follower, ...] = ()  # its reporter first, then those of reports merged into it
    new_tasks: tuple[int, ...] = ()       # the support task a request created
    returned: bool = False                # a refusal sent the case back to the operators
    resolved: bool = False                # the last task finished
    photos: int = 0                       # documentation photos of the finished task


def _dispatched_only(task: TaskView, then: Decision, key: str) -> Decision:
    if task.state == "dispatched":
        return then
    return Refusal(key, {"name": task.owner_name or "-"} if key == "crew.already_taken" else {})


def _eta(task: TaskView, arg: str, ctx: DeskContext) -> Decision:
    offered = ctx.config.cases.eta_choices
    eta = number(arg, 1, max(offered, default=1))
    return Accept(task.id, eta) if eta is not None and eta in offered else Refusal("desk.unknown_action")


def _refuse_why(task: TaskView, arg: str, ctx: DeskContext) -> Decision:
    return Refuse(task.id, arg) if arg in A.REFUSE_REASONS else Refusal("desk.unknown_action")


def _support(task: TaskView, arg: str, ctx: DeskContext) -> Decision:
    if task.owner != ctx.actor:
        return Refusal("crew.not_owner", {"name": task.owner_name or "-"})
    return ShowMenu("support")


def _support_from(task: TaskView, arg: str, ctx: DeskContext) -> Decision:
    target = ctx.config.agency(arg)
    if target is None or target.telegram_chat_id is None:
        return Refusal("desk.unknown_action")
    return RequestSupport(task.id, arg)


def crew_of(agency_code: str, name: str, config: Deployment) -> tuple[str, str]:
    """The crew an operator named: a member of the agency from the deployment file (their chat address, so they
    can go on from their phone), or a crew named in free text, reached through the agency's radio."""
    agency = config.agency(agency_code)
    for member in agency.members if agency else []:
        if member.name.casefold() == name.casefold():
            if member.telegram_user_id is not None:
                return f"telegram:{member.telegram_user_id}", member.name
            if member.whatsapp:
                return f"whatsapp:{member.whatsapp}", member.name
    return f"radio:{agency_code}", name


def _accept_for(task: TaskView, arg: str, ctx: DeskContext) -> Decision:
    minutes, _, name = arg.partition(":")
    eta = number(minutes, 1, 240)
    name = "".join(ch for ch in " ".join(name.split()) if ch.isprintable())[:NAME_CHARS]
    if eta is None or not name:
        return Refusal("casepage.crew_step_incomplete")
    crew, crew_name = crew_of(task.agency, name, ctx.config)
    return _dispatched_only(task, AcceptFor(task.id, eta, crew, crew_name), "crew.already_taken")


def _finish_for(task: TaskView, arg: str, ctx: DeskContext) -> Decision:
    if task.state not in ("accepted", "on_scene", "finishing"):
        return Refusal("crew.wrong_task_state")
    return FinishFor(task.id, " ".join(arg.split())[: ctx.config.limits.max_description_chars])


DECISIONS: dict[A.Action, Callable[[TaskView, str, DeskContext], Decision]] = {
    A.TASK_ACCEPT: lambda task, arg, ctx: _dispatched_only(task, ShowMenu("eta"), "crew.already_taken"),
    A.TASK_ETA: _eta,
    A.TASK_REFUSE: lambda task, arg, ctx: _dispatched_only(task, ShowMenu("refuse"), "crew.wrong_task_state"),
    A.TASK_REFUSE_WHY: _refuse_why,
    A.TASK_ARRIVED: lambda task, arg, ctx: Arrive(task.id),
    A.TASK_SUPPORT: _support,
    A.TASK_SUPPORT_FROM: _support_from,
    A.TASK_DONE: lambda task, arg, ctx: StartFinishing(task.id),
    A.TASK_SEND: lambda task, arg, ctx: Finish(task.id),
    A.TASK_BACK: lambda task, arg, ctx: ShowMenu(""),
    A.TASK_FOR_ACCEPT: _accept_for,
    A.TASK_FOR_ARRIVE: lambda task, arg, ctx: (ArriveFor(task.id) if task.state == "accepted"
                                               else Refusal("crew.wrong_task_state")),
    A.TASK_FOR_DONE: _finish_for,
}
assert set(DECISIONS) == {a for a in A.TABLE if a.scope == "task"} - A.OPENERS, "a task-card button without a decision"


def decide(pressed: A.Pressed, task: TaskView, ctx: DeskContext) -> Decision:
    """What a press on a task card asks for, given the task as it stands."""
    return DECISIONS[pressed.action](task, pressed.arg, ctx)


def after_change(view: CaseView, task: TaskView, ctx: DeskContext) -> list[Outbound]:
    """Edit the report card, this task's card and the card of the task it supports; a crew member acting
    1:1 (WhatsApp) gets the task again with their next buttons."""
    config = ctx.config
    out = [card_message(view, config, edit=True), *task_messages(view, task, config, edit=True)]
    parent = view.task(task.support_of) if task.support_of is not None else None
    if parent is not None:
        out += task_messages(view, parent, config, edit=True)
    if ctx.private:
        out.append(crew_direct(view, task, config, ctx.chat))
    return out


def messages(decision: Decision, before: CaseView, outcome: Outcome, ctx: DeskContext, task_id: int) -> Reply:
    """What the groups, the crews, the operators and the reporters are sent once the decision is applied."""
    view, config, lang = outcome.view, ctx.config, ctx.lang
    task = view.task(task_id)
    if task is None:
        return Reply()
    if isinstance(decision, ShowMenu):
        return Reply(tuple(task_menu(view, task_id, ctx, decision.menu)))
    primary, ops = task.support_of is None, desk_address(config, view.desk)
    out = after_change(view, task, ctx)
    match decision:
        case Accept(eta=eta) | AcceptFor(eta=eta):
            out += crew_taken_notices(view, task, config, except_=ctx.chat)
            if primary and before.state == "dispatched":
                out += accepted(outcome.followers, view, config, agency(ctx, task.agency, view.language), eta)
            answer = t(lang, "deploy.crew_accepted_over_hour" if eta > OVER_AN_HOUR else "crew.accepted", eta=eta)
            return Reply(tuple(out), answer)
        case Refuse(_, reason):
            out.append(Outbound(to=ops, text=t(lang, "desk.task_refused", ticket=view.ticket,
                                                agency=agency(ctx, task.agency), reason=t(lang, f"refuse.{reason}"),
                                                back=t(lang, "desk.returned") if outcome.returned else ""),
                                priority=Priority.URGENT if view.urgent else Priority.NORMAL, case_id=view.id))
            return Reply(tuple(out + resolution(view, outcome, config)), t(lang, "crew.refused"))
        case Arrive() | ArriveFor():
            if primary and before.state == "accepted":
                out += on_scene(outcome.followers, view, config, agency(ctx, task.agency, view.language))
            return Reply(tuple(out), t(lang, "crew.on_scene"))
        case RequestSupport(_, code):
            new = [x for x in map(view.task, outcome.new_tasks) if x is not None]
            first = [m for x in new
                     for m in task_messages(view, x, config, edit=False) + crew_whatsapp_tasks(view, x, config)]
            return Reply((*first, *out), t(lang, "crew.support_requested", agency=agency(ctx, code)))
        case StartFinishing():
            out.append(Outbound(to=ctx.chat, force_reply=True, case_id=view.id,
                                text=t(lang, "crew.send_documentation", name=ctx.name, ticket=view.ticket)))
            return Reply(tuple(out))
        case Finish() | FinishFor():
            name = task.owner_name or "-" if isinstance(decision, FinishFor) else ctx.name
            out.append(Outbound(to=ops, case_id=view.id, text=t(lang, "desk.crew_report", ticket=view.ticket,
                                agency=agency(ctx, task.agency), name=name, note=task.note or "-",
                                photos=outcome.photos)))
            return Reply(tuple(out + resolution(view, outcome, config)), t(lang, "crew.finished"))
    return Reply(tuple(out))


def resolution(view: CaseView, outcome: Outcome, config: Deployment) -> list[Outbound]:
    """The last open task ended (finished, or the last other agency refused): reporters hear, and rate if closed."""
    if not outcome.resolved:
        return []
    out = tell(outcome.followers, "notice.resolved", config, urgent=view.urgent)
    return out + (ratings(outcome.followers, config, view) if view.state == "closed" else [])


def documentation_kept(ticket: str, case_id: int, task_agency: str, media_id: int, ctx: DeskContext,
                       desk: str | None = None) -> Reply:
    """A documentation photo reached the case's operators' group (`desk`); the crew member hears it was kept."""
    text = t(ctx.lang, "desk.documentation", ticket=ticket, agency=agency(ctx, task_agency), name=ctx.name)
    return Reply((Outbound(to=desk_address(ctx.config, desk), photo_media_id=media_id, case_id=case_id, text=text),),
                 t(ctx.lang, "crew.photo_kept"))

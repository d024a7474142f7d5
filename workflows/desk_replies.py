"""What the desk's decisions share: who acts and where, refusals, menus, and what reporters hear."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.config import OVER_AN_HOUR, Deployment
from core.messages import Address, Outbound, Priority
from workflows import notices
from workflows.card_messages import crew_direct, task_messages
from workflows.cards import CaseView, agency_name


@dataclass(frozen=True)
class DeskContext:
    """One press or command: the deployment, the time, who acted (`channel:id` and name) and in which chat."""

    config: Deployment
    now: datetime
    actor: str
    name: str
    lang: str
    chat: Address
    private: bool = False
    callback_id: str = ""
    live: frozenset[str] | None = None  # chat channels that carry crews' tasks now; None: not known, assume all


@dataclass(frozen=True)
class Follower:
    """A reporter who hears of a case: its own, or that of a report merged into it."""

    case_id: int
    ticket: str
    chat: str
    language: str
    closed: bool = False
    drill: bool = False  # a rehearsal: what they hear says LATIHAN


@dataclass(frozen=True)
class Refusal:
    """Not allowed, not now: the catalog key and its placeholders, answered to the sender."""

    key: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ShowMenu:
    """Show the card again with a sub-menu of buttons ("" for the card's own buttons)."""

    menu: str = ""


@dataclass(frozen=True)
class Reply:
    """The messages to send and the answer to the sender (None: no answer)."""

    messages: tuple[Outbound, ...] = ()
    answer: str | None = None


def answered(out: list[Outbound], ctx: DeskContext, text: str | None) -> list[Outbound]:
    """Answer the button press (a toast) first, or reply in the chat to a command."""
    if text is None:
        return out
    if ctx.callback_id:
        return [Outbound(to=ctx.chat, answer_callback=ctx.callback_id, text=text, priority=Priority.CALLBACK),
                *(o for o in out if not o.answer_callback)]
    return [Outbound(to=ctx.chat, text=text), *out] if text else out


def tell(followers: tuple[Follower, ...], key: str, config: Deployment, *, urgent: bool = False,
         **params: object) -> list[Outbound]:
    """Each reporter hears the step, in their own language."""
    return [notices.reporter_update(f.chat, f.language, key, config, ticket=f.ticket, urgent=urgent,
                                    case_id=f.case_id, drill=f.drill, **params) for f in followers]


def verified_later(f: Follower, view: CaseView) -> bool:
    """On WhatsApp an urgent case's "verified" is said in the crew's ETA notice, minutes later (every message is
    billed; the ticket already said an operator is checking): one message instead of two."""
    return view.urgent and notices.billed(f.chat)


def accepted(followers: tuple[Follower, ...], view: CaseView, config: Deployment, agency: str,
             eta: int) -> list[Outbound]:
    """The crew is on its way: each reporter hears the ETA ("more than an hour" above 60 minutes), with the
    verification folded in where it was not said on its own."""
    out: list[Outbound] = []
    for f in followers:
        key = {(False, False): "notice.accepted", (False, True): "deploy.notice_accepted_over_hour",
               (True, False): "deploy.notice_verified_accepted",
               (True, True): "deploy.notice_verified_accepted_over_hour"}[
            (verified_later(f, view), eta > OVER_AN_HOUR)]
        out += tell((f,), key, config, urgent=view.urgent, agency=agency, eta=eta)
    return out


def on_scene(followers: tuple[Follower, ...], view: CaseView, config: Deployment, agency: str) -> list[Outbound]:
    """"The crew has arrived" adds nothing a reporter at the scene does not see, and the reporter elsewhere
    hears "handled" soon after: not sent on WhatsApp, where every message is billed."""
    told = tuple(f for f in followers if not notices.billed(f.chat))
    return tell(told, "notice.on_scene", config, urgent=view.urgent, agency=agency)


def ratings(followers: tuple[Follower, ...], config: Deployment, view: CaseView | None = None) -> list[Outbound]:
    """The case is closed: each reporter hears so and is asked for stars (about the service when no crew
    ever took it on)."""
    out: list[Outbound] = []
    handled = view is None or crew_accepted(view)
    for f in followers:
        out.append(notices.reporter_update(f.chat, f.language, "notice.closed", config, ticket=f.ticket,
                                           case_id=f.case_id, drill=f.drill))
        out.append(notices.rating_request(f.chat, f.language, f.case_id, f.ticket, handled, f.drill))
    return out


def crew_accepted(view: CaseView) -> bool:
    """Whether any crew ever accepted a task of the case."""
    return view.accepted_at is not None or any(
        x.owner or x.state in ("accepted", "on_scene", "done") for x in view.tasks)


def agency(ctx: DeskContext, code: str, lang: str | None = None) -> str:
    return agency_name(ctx.config, code, lang or ctx.lang)


def task_menu(view: CaseView, task_id: int, ctx: DeskContext, menu: str = "") -> list[Outbound]:
    """A task's buttons (or a sub-menu): an edit of the group card, or a new message in a 1:1 chat."""
    task = view.task(task_id)
    if task is None:
        return []
    if ctx.private:
        return [crew_direct(view, task, ctx.config, ctx.chat, menu=menu)]
    return task_messages(view, task, ctx.config, edit=True, menu=menu)

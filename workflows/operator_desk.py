"""The operators' decisions on a report card, and what everyone hears after (pure: no database).

`decide` turns a press on the card into a domain command, a menu or a refusal, from the case as it stands;
the service (bots/services/operator_desk.py) applies the command through core/casework.py, reads the case
again, and `messages` says what the groups, crews and reporters are sent.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.button_data import MAX_ID, number
from core.i18n import t
from core.messages import Outbound
from workflows import actions as A
from workflows import crew_reach, notices, operator_card
from workflows.card_messages import card_message, crew_whatsapp_tasks, task_messages
from workflows.cards import CaseView
from workflows.desk_replies import DeskContext, Follower, Refusal, Reply, ShowMenu, ratings, tell, verified_later
from workflows.keyboards import duplicate_buttons


@dataclass(frozen=True)
class Verify:
    """Verify the report (when new) and send it to these agencies."""

    agencies: tuple[str, ...]


@dataclass(frozen=True)
class Reject:
    reason: str


@dataclass(frozen=True)
class ListDuplicates:
    """Offer the open cases this report could duplicate."""


@dataclass(frozen=True)
class MarkDuplicate:
    target: int


@dataclass(frozen=True)
class NoteCallback:
    """The operator calls the reporter back."""


@dataclass(frozen=True)
class Close:
    note: str = ""


@dataclass(frozen=True)
class AddNote:
    """A note typed on the case page, into the timeline."""

    text: str


@dataclass(frozen=True)
class RecordCallback:
    """The caller was called back, with the rating they gave on the phone (None: none given)."""

    stars: int | None = None


Command = Verify | Reject | ListDuplicates | MarkDuplicate | NoteCallback | Close | AddNote | RecordCallback
Decision = Command | ShowMenu | Refusal


@dataclass(frozen=True)
class Outcome:
    """What applying a command changed, as the service read it back."""

    view: CaseView                          # the case after the change
    followers: tuple[Follower, ...] = ()    # its reporter first, then those of reports merged into it
    new_tasks: tuple[int, ...] = ()         # tasks a dispatch created
    other: CaseView | None = None           # the case a duplicate was merged into
    other_followers: tuple[Follower, ...] = ()
    candidates: tuple[tuple[int, str, str], ...] = ()  # open cases it could duplicate: (id, ticket, type)


def _submitted_only(view: CaseView, then: Decision) -> Decision:
    return then if view.state == "submitted" else Refusal("desk.wrong_state", {"state": view.state})


def _send_to(view: CaseView, arg: str, ctx: DeskContext) -> Decision:
    """One agency (a button), or several the operator ticked on the case page (`damkar,pdam`)."""
    codes = tuple(dict.fromkeys(arg.split(",")))
    known = len(codes) <= len(ctx.config.agencies) and all(ctx.config.agency(c) is not None for c in codes)
    return Verify(codes) if arg and known else Refusal("desk.unknown_action")


def _note(view: CaseView, arg: str, ctx: DeskContext) -> Decision:
    text = " ".join(arg.split())[: ctx.config.limits.max_description_chars]
    return AddNote(text) if text else Refusal("casepage.note_empty")


def _called_back(view: CaseView, arg: str, ctx: DeskContext) -> Decision:
    if not arg:
        return RecordCallback()
    stars = number(arg, 1, 5)
    return RecordCallback(stars) if stars is not None else Refusal("desk.unknown_action")


def _verify(view: CaseView, arg: str, ctx: DeskContext) -> Decision:
    """The type's agencies; a type with none (e.g. "other") opens the agency picker instead of reaching nobody."""
    kind = ctx.config.incident_type(view.incident_type)
    return Verify(tuple(kind.agencies)) if kind and kind.agencies else ShowMenu("pick")


def _reject_why(view: CaseView, arg: str, ctx: DeskContext) -> Decision:
    return Reject(arg) if arg in A.REJECT_REASONS else Refusal("desk.unknown_action")


def _same_as(view: CaseView, arg: str, ctx: DeskContext) -> Decision:
    other = number(arg, 1, MAX_ID)
    return MarkDuplicate(other) if other is not None else Refusal("desk.unknown_case")


DECISIONS: dict[A.Action, Callable[[CaseView, str, DeskContext], Decision]] = {
    A.CASE_VERIFY: _verify,
    A.CASE_SEND_TO: _send_to,
    A.CASE_PICK_AGENCY: lambda view, arg, ctx: ShowMenu("pick"),
    A.CASE_REJECT: lambda view, arg, ctx: _submitted_only(view, ShowMenu("reject")),
    A.CASE_REJECT_WHY: _reject_why,
    A.CASE_DUPLICATE: lambda view, arg, ctx: _submitted_only(view, ListDuplicates()),
    A.CASE_SAME_AS: _same_as,
    A.CASE_CALL: lambda view, arg, ctx: NoteCallback(),
    A.CASE_BACK: lambda view, arg, ctx: ShowMenu(""),
    A.CASE_CLOSE: lambda view, arg, ctx: Close(""),
    A.CASE_NOTE: _note,
    A.CASE_CALLED_BACK: _called_back,
}
assert set(DECISIONS) == {a for a in A.TABLE if a.scope == "case"} - A.OPENERS, "a card button without a decision"


def decide(pressed: A.Pressed, view: CaseView, ctx: DeskContext) -> Decision:
    """What a press on the report card asks for, given the case as it stands."""
    return DECISIONS[pressed.action](view, pressed.arg, ctx)


def messages(decision: Decision, before: CaseView, outcome: Outcome, ctx: DeskContext) -> Reply | Refusal:
    """What the operators' group, the crews and the reporters are sent once the decision is applied."""
    config, view, lang = ctx.config, outcome.view, ctx.lang
    card = card_message(view, config, edit=True)
    match decision:
        case ShowMenu(menu):
            return Reply((card_message(view, config, edit=True, menu=menu),))
        case ListDuplicates():
            if not outcome.candidates:
                return Refusal("desk.no_duplicate_candidates")
            choices = duplicate_buttons(view, list(outcome.candidates), config)
            return Reply((card_message(view, config, edit=True, choices=choices),))
        case Verify():
            out: list[Outbound] = [card]
            for task_id in outcome.new_tasks:
                task = view.task(task_id)
                if task is not None:
                    out += task_messages(view, task, config, edit=False) + crew_whatsapp_tasks(view, task, config)
            sent = [x.agency for x in map(view.task, outcome.new_tasks) if x is not None]
            names = notices.agencies_text(sent, config, view.language)
            missed = crew_reach.unreached(config, sent, ctx.live)  # no chat reaches them: operators phone
            if before.state == "submitted":  # on WhatsApp an urgent case's is said with the ETA (desk_replies)
                told = outcome.followers if missed else tuple(f for f in outcome.followers
                                                              if not verified_later(f, view))
                out += crew_reach.verified_notices(told, sent, missed, config, view)
            out += [crew_reach.phone_alert(view, missed, config)] if missed else []
            answer = t(lang, "desk.dispatched", agencies=names)
            return Reply(tuple(out), crew_reach.dispatched_answer(answer, missed, config, lang))
        case Reject(reason):
            out = [card, *tell(outcome.followers, f"notice.rejected_{reason}", config, urgent=view.urgent)]
            return Reply(tuple(out), t(lang, "desk.rejected"))
        case MarkDuplicate():
            other = outcome.other
            assert other is not None
            out = [card, card_message(other, config, edit=True), *operator_card.became_major(other, config),
                   *tell(outcome.followers[:1], "notice.duplicate", config, other=other.ticket),
                   *tell(outcome.other_followers[:1], "notice.merged", config, urgent=other.urgent,
                         other=view.ticket)]
            return Reply(tuple(out), t(lang, "desk.marked_duplicate", ticket=other.ticket))
        case NoteCallback():
            return Reply((card,), t(lang, "desk.calling", contact=view.contact))
        case AddNote():
            return Reply((), t(lang, "casepage.noted"))
        case RecordCallback(stars):
            return Reply((), t(lang, "casepage.called_back") if stars is None
                         else t(lang, "casepage.called_back_rated", stars=stars))
        case Close():
            return Reply((card, *ratings(outcome.followers, config, view)), t(lang, "desk.closed", ticket=view.ticket))
    return Reply()

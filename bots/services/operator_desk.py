"""The report card's buttons: load the case, let workflows/operator_desk.py decide, apply, send what it says."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bots.services.case_view import follower, followers
from core import casework, sla
from core.cases import CaseState
from core.casework import NotAllowed
from core.models import Case
from workflows import actions as A
from workflows import operator_desk as decisions
from workflows.actions import Pressed
from workflows.cards import CaseView
from workflows.desk_replies import Follower, Refusal, ShowMenu
from workflows.operator_desk import (
    AddNote,
    Close,
    Decision,
    ListDuplicates,
    MarkDuplicate,
    NoteCallback,
    Outcome,
    RecordCallback,
    Reject,
    Verify,
)

if TYPE_CHECKING:
    from bots.services.desk import Desk


async def press(desk: Desk, pressed: Pressed) -> None:
    """A press on the report card of the case `pressed.target`."""
    case = await casework.load_case(desk.s, pressed.target)
    if case is None:
        raise NotAllowed("desk.unknown_case")
    before = await desk.view(case)
    await carry_out(desk, case, before, decisions.decide(pressed, before, desk.ctx))


async def catatan(desk: Desk, pressed: Pressed) -> None:
    """/catatan TICKET text: the case page's note, typed in the operators' group."""
    ticket, _, text = pressed.arg.strip().partition(" ")
    case = await casework.case_by_ticket(desk.s, ticket.upper()[:20])
    if case is None:
        raise NotAllowed("desk.ticket_unknown", ticket=ticket[:20] or "-")
    before = await desk.view(case)
    await carry_out(desk, case, before, decisions.decide(Pressed(A.CASE_NOTE, case.id, text), before, desk.ctx))


async def carry_out(desk: Desk, case: Case, before: CaseView, decision: Decision) -> None:
    """Apply the decision through core/casework.py, read the case again and queue what everyone hears."""
    if isinstance(decision, Refusal):
        raise NotAllowed(decision.key, **decision.params)
    outcome = await apply(desk, case, before, decision)
    desk.reply(decisions.messages(decision, before, outcome, desk.ctx))


async def apply(desk: Desk, case: Case, before: CaseView, decision: Decision) -> Outcome:
    s, actor, now = desk.s, desk.actor, desk.now
    match decision:
        case ShowMenu():
            return Outcome(before)
        case ListDuplicates():
            open_cases = await casework.open_cases(s)
            candidates = tuple((c.id, c.ticket, c.incident_type) for c in open_cases if c.id != case.id)
            return Outcome(before, candidates=candidates)
        case Verify(agencies):
            tasks = await casework.verify(s, case, actor, list(agencies), now)
            if case.sla_due_at is not None and sla.waiting(case.state):
                for task in tasks:
                    await sla.arm(s, case.id, sla.reping(desk.config, now, task.id))
            return Outcome(await desk.view(case), await followers(s, case), new_tasks=tuple(x.id for x in tasks))
        case Reject(reason):
            casework.reject(s, case, actor, reason, now)
            return Outcome(await desk.view(case), await followers(s, case))
        case MarkDuplicate(target_id):
            target = await casework.load_case(s, target_id)
            if target is None:
                raise NotAllowed("desk.unknown_case")
            await casework.mark_duplicate(s, case, target, actor, now)
            return Outcome(await desk.view(case), (follower(case),), other=await desk.view(target),
                           other_followers=(follower(target),))
        case NoteCallback():
            casework.note_callback(s, case, actor, now)
            return Outcome(await desk.view(case))
        case AddNote(text):
            casework.add_note(s, case, actor, text, now)
            return Outcome(await desk.view(case))
        case RecordCallback(stars):
            casework.record_callback(s, case, actor, stars, now)
            return Outcome(await desk.view(case))
        case Close(note):
            casework.close(s, case, actor, now, note)
            view = await desk.view(case)
            return Outcome(view, await close_followers(desk, case))
    raise AssertionError(f"no way to apply {decision!r}")


async def close_followers(desk: Desk, case: Case) -> tuple[Follower, ...]:
    """The case is closed: so is every report merged into it (a timeline note each); all their reporters hear."""
    merged = await casework.followers(desk.s, case)
    for c in merged:
        if c.state != CaseState.CLOSED:
            casework.record(desk.s, c, "system", desk.now, note="closed_with:" + case.ticket, to=CaseState.CLOSED)
    return tuple(follower(c) for c in merged)

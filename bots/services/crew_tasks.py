"""The task cards' buttons and the documentation crews send: load, let workflows/crew_tasks.py decide, apply."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.services.case_view import followers
from bots.services.operator_desk import close_followers
from core import casework
from core.cases import CaseState
from core.casework import NotAllowed, TaskState
from core.i18n import t
from core.messages import Kind
from core.models import Case, Task
from workflows import crew_tasks as decisions
from workflows.actions import Pressed
from workflows.cards import CaseView
from workflows.crew_tasks import (
    Accept,
    AcceptFor,
    Arrive,
    ArriveFor,
    Decision,
    Finish,
    FinishFor,
    Outcome,
    Refuse,
    RequestSupport,
    StartFinishing,
)
from workflows.desk_replies import Follower, Refusal, ShowMenu

if TYPE_CHECKING:
    from bots.services.desk import Desk

HELP_COMMANDS = ("bantuan", "help", "start")


async def press(desk: Desk, pressed: Pressed) -> None:
    """A press on the card of the task `pressed.target`, by a member of its agency."""
    task = await desk.s.get(Task, pressed.target)
    desk.refuse_unless_allowed(pressed.action, task.agency if task else None)
    if task is None:  # an operator's step for a crew (case page) names a task that is not there
        raise NotAllowed("desk.unknown_case")
    case = await casework.load_case(desk.s, task.case_id)
    await desk.s.refresh(task)  # read again under the case lock: someone may have just accepted
    before = await desk.view(case)
    decision = decisions.decide(pressed, before.task(task.id), desk.ctx)
    if isinstance(decision, Refusal):
        raise NotAllowed(decision.key, **decision.params)
    outcome = await apply(desk, case, task, before, decision)
    desk.reply(decisions.messages(decision, before, outcome, desk.ctx, task.id))


async def apply(desk: Desk, case: Case, task: Task, before: CaseView, decision: Decision) -> Outcome:
    s, actor, now = desk.s, desk.actor, desk.now
    match decision:
        case ShowMenu():
            return Outcome(before)
        case Accept(_, eta):
            casework.accept(s, case, task, actor, desk.name, eta, now)
            return Outcome(await desk.view(case), await followers(s, case))
        case Refuse(_, reason):
            back = await casework.refuse(s, case, task, actor, reason, now)
            resolved = not back and task.support_of_id is None and await casework.resolve_if_done(
                s, case, actor, now, auto_close=desk.config.cases.close_when_crew_done)  # the others had finished
            told = await resolution_followers(desk, case) if resolved else ()
            return Outcome(await desk.view(case), told, returned=back, resolved=resolved)
        case Arrive():
            casework.arrive(s, case, task, actor, now)
            return Outcome(await desk.view(case), await followers(s, case))
        case RequestSupport(_, agency):
            support = await casework.request_support(s, case, task, agency, actor, now)
            return Outcome(await desk.view(case), new_tasks=(support.id,))
        case StartFinishing():
            casework.start_finishing(s, case, task, actor, now)
            return Outcome(await desk.view(case))
        case Finish():
            resolved = await casework.finish(s, case, task, actor, task.note or "", now,
                                             auto_close=desk.config.cases.close_when_crew_done)
            view = await desk.view(case)
            photos = len(await casework.attachments(s, task.id))
            told = await (resolution_followers(desk, case) if resolved else followers(s, case))
            return Outcome(view, told, resolved=resolved, photos=photos)
        case AcceptFor() | ArriveFor() | FinishFor():
            return await apply_for(desk, case, task, decision)
    raise AssertionError(f"no way to apply {decision!r}")


async def apply_for(desk: Desk, case: Case, task: Task, decision: AcceptFor | ArriveFor | FinishFor) -> Outcome:
    """A crew's step heard by radio, entered by the operator: the crew's own step, and who entered it."""
    s, operator, now = desk.s, desk.actor, desk.now
    match decision:
        case AcceptFor(_, eta, crew, crew_name):
            casework.accept_for(s, case, task, operator, crew, crew_name, eta, now)
        case ArriveFor():
            casework.arrive_for(s, case, task, operator, now)
        case FinishFor(_, note):
            if await casework.finish_for(s, case, task, operator, note, now,
                                         auto_close=desk.config.cases.close_when_crew_done):
                return Outcome(await desk.view(case), await resolution_followers(desk, case), resolved=True)
    return Outcome(await desk.view(case), await followers(s, case))


async def resolution_followers(desk: Desk, case: Case) -> tuple[Follower, ...]:
    """Who hears that the case was resolved: with the reports merged into it closed too when it closed."""
    return await (close_followers(desk, case) if case.state == CaseState.CLOSED else followers(desk.s, case))


async def on_message(desk: Desk) -> None:
    """A crew member finishing a task sends documentation photos and a note; anything else is ignored."""
    event, config = desk.event, desk.config
    agency = config.agency_of_chat(event.chat.id)
    if (agency is None and not event.is_private) or event.kind not in (Kind.PHOTO, Kind.DOCUMENT, Kind.TEXT):
        if event.kind == Kind.COMMAND and event.command in HELP_COMMANDS:
            desk.answer(t(desk.lang, "help.operator" if agency is None else "help.crew"))
        return
    task = await finishing_task(desk.s, desk.actor, agency.code if agency else None)
    if task is None:
        return
    case = await casework.load_case(desk.s, task.case_id)
    note = (event.text or "").strip()
    if note:
        task.note = note[: config.limits.max_description_chars]
    media = event.media
    if media is not None and media.problem:
        return desk.answer(t(desk.lang, f"photo.{media.problem}", max_mb=f"{config.limits.max_photo_mb:g}"))
    if media is not None and media.media_id:
        await casework.attach(desk.s, case, task, media.media_id, desk.actor, desk.now)
        desk.reply(decisions.documentation_kept(case.ticket, case.id, task.agency, media.media_id, desk.ctx,
                                                case.desk_chat_id))


async def finishing_task(session: AsyncSession, actor: str, agency: str | None) -> Task | None:
    """The task this crew member is sending documentation for (in that agency's group, or anywhere 1:1)."""
    stmt = select(Task).where(Task.owner == actor, Task.state == TaskState.FINISHING)
    if agency is not None:
        stmt = stmt.where(Task.agency == agency)
    return (await session.execute(stmt.order_by(Task.id.desc()).limit(1))).scalar_one_or_none()

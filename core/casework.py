"""Domain commands on a case after submission: verify, reject, dispatch, crew steps, close, rate.

Each command checks the lifecycle, changes the rows and leaves a timeline entry with actor and time.
A command that cannot apply raises `NotAllowed` with a catalog key, so the person gets a clear answer.
"""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import case as sql_case
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cases import OPEN_STATES, CaseState, can_move
from core.models import Attachment, Case, CaseEvent, Task

S = CaseState


class TaskState(StrEnum):
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    ON_SCENE = "on_scene"
    FINISHING = "finishing"
    DONE = "done"
    REFUSED = "refused"


STAGE_TIMES = {S.VERIFIED: "verified_at", S.DISPATCHED: "dispatched_at", S.ACCEPTED: "accepted_at",
               S.ON_SCENE: "on_scene_at", S.RESOLVED: "resolved_at", S.CLOSED: "closed_at"}
ACTIVE = frozenset({TaskState.DISPATCHED, TaskState.ACCEPTED, TaskState.ON_SCENE, TaskState.FINISHING})


class NotAllowed(Exception):
    """The action does not fit the case as it stands now; `key` names the explanation in the catalogs."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


async def load_case(session: AsyncSession, case_id: int) -> Case | None:
    """The case locked for this transaction, so two groups acting at once take turns."""
    return (await session.execute(select(Case).where(Case.id == case_id).with_for_update())).scalar_one_or_none()


async def case_by_ticket(session: AsyncSession, ticket: str) -> Case | None:
    return (await session.execute(select(Case).where(Case.ticket == ticket).with_for_update())).scalar_one_or_none()


async def tasks_of(session: AsyncSession, case_id: int) -> list[Task]:
    return list((await session.execute(select(Task).where(Task.case_id == case_id).order_by(Task.id))).scalars())


async def agencies_by_case(session: AsyncSession, case_ids: list[int] | None = None) -> dict[int, list[str]]:
    """The agencies each case was dispatched to, in order, for lists of many cases (one query, not one each)."""
    stmt = select(Task.case_id, Task.agency).order_by(Task.id)
    if case_ids is not None:
        stmt = stmt.where(Task.case_id.in_(case_ids))
    found: dict[int, list[str]] = {}
    for case_id, agency in await session.execute(stmt):
        if agency not in found.setdefault(case_id, []):
            found[case_id].append(agency)
    return found


def record(session: AsyncSession, case: Case, actor: str, at: datetime, note: str = "",
           to: CaseState | None = None) -> None:
    """Add a timeline entry; with `to`, move the case there first (the lifecycle must allow it)."""
    before = case.state
    if to is not None and to != before:
        if not can_move(before, to):
            raise NotAllowed("desk.wrong_state", state=before)
        case.state = to
        column = STAGE_TIMES.get(CaseState(to))
        if column and getattr(case, column) is None:  # the first time counts, for the figures
            setattr(case, column, at)
    case.updated_at = at
    session.add(CaseEvent(case_id=case.id, at=at, actor=actor, from_state=before, to_state=case.state, note=note))


def _claim(case: Case, actor: str, at: datetime) -> None:
    """The first operator to act owns the card; when they first acted is the call-taking figure."""
    if case.first_action_at is None:
        case.first_action_at = at
    if case.operator is None:
        case.operator = actor
    elif case.operator != actor:
        raise NotAllowed("desk.owned_by_other")


async def verify(session: AsyncSession, case: Case, actor: str, agencies: list[str], at: datetime) -> list[Task]:
    """Verify (when still submitted) and dispatch to the agencies that do not have an active task yet."""
    if case.state not in (S.SUBMITTED, S.VERIFIED, S.DISPATCHED, S.ACCEPTED, S.ON_SCENE):
        raise NotAllowed("desk.wrong_state", state=case.state)
    _claim(case, actor, at)
    if case.state == S.SUBMITTED:
        record(session, case, actor, at, to=S.VERIFIED)
        case.traffic_class = case.traffic_class or "emergency"
    existing = {t.agency for t in await tasks_of(session, case.id) if t.state in ACTIVE}
    new = [a for a in agencies if a not in existing]
    if not new:
        raise NotAllowed("desk.already_dispatched")
    tasks = [Task(case_id=case.id, agency=a, state=TaskState.DISPATCHED, created_at=at) for a in new]
    session.add_all(tasks)
    await session.flush()
    record(session, case, actor, at, note="dispatch:" + ",".join(new),
           to=S.DISPATCHED if case.state == S.VERIFIED else None)
    return tasks


def reject(session: AsyncSession, case: Case, actor: str, reason: str, at: datetime) -> None:
    if case.state != S.SUBMITTED:
        raise NotAllowed("desk.wrong_state", state=case.state)
    _claim(case, actor, at)
    case.reject_reason = reason
    if reason == "hoax":
        case.traffic_class = "prank"
    record(session, case, actor, at, note=f"reason:{reason}", to=S.REJECTED)


async def mark_duplicate(session: AsyncSession, case: Case, target: Case, actor: str, at: datetime) -> None:
    """Link the case to an open one: its reporter (and those merged into it) follow the surviving case."""
    if case.state != S.SUBMITTED:
        raise NotAllowed("desk.wrong_state", state=case.state)
    if target.id == case.id or target.state not in OPEN_STATES:
        raise NotAllowed("desk.duplicate_target_closed")
    _claim(case, actor, at)
    merged = list((await session.execute(select(Case).where(Case.duplicate_of_id == case.id))).scalars())
    for earlier in merged:
        earlier.duplicate_of_id = target.id
    case.duplicate_of_id = target.id
    target.report_count = (target.report_count or 1) + (case.report_count or 1)
    record(session, case, actor, at, note=f"duplicate_of:{target.ticket}", to=S.DUPLICATE)
    record(session, target, actor, at, note=f"merged:{case.ticket}")


def note_callback(session: AsyncSession, case: Case, actor: str, at: datetime) -> None:
    _claim(case, actor, at)
    case.callback_requested = True
    record(session, case, actor, at, note="calling_reporter")


def close(session: AsyncSession, case: Case, actor: str, at: datetime, note: str = "") -> None:
    if case.state in (S.CLOSED, S.DRAFT):
        raise NotAllowed("desk.wrong_state", state=case.state)
    record(session, case, actor, at, note=note, to=S.CLOSED)


def accept(session: AsyncSession, case: Case, task: Task, actor: str, name: str, eta: int, at: datetime) -> None:
    """The first member to accept owns the task; the case counts as accepted from the first primary task."""
    if task.state != TaskState.DISPATCHED:
        raise NotAllowed("crew.already_taken", name=task.owner_name or "-")
    task.state, task.owner, task.owner_name, task.eta_minutes, task.accepted_at = (
        TaskState.ACCEPTED, actor, name, eta, at)
    primary = task.support_of_id is None
    record(session, case, actor, at, note=f"accepted:{task.agency}:eta={eta}",
           to=S.ACCEPTED if primary and case.state == S.DISPATCHED else None)


async def refuse(session: AsyncSession, case: Case, task: Task, actor: str, reason: str, at: datetime) -> bool:
    """Refuse before accepting; True when no agency is left on the case, which goes back to the operators."""
    if task.state != TaskState.DISPATCHED:
        raise NotAllowed("crew.wrong_task_state")
    task.state, task.refuse_reason, task.owner = TaskState.REFUSED, reason, actor
    others = [t for t in await tasks_of(session, case.id)
              if t.id != task.id and t.support_of_id is None and t.state in ACTIVE]
    back = task.support_of_id is None and not others and case.state == S.DISPATCHED
    record(session, case, actor, at, note=f"refused:{task.agency}:{reason}", to=S.VERIFIED if back else None)
    return back


def _owner_only(task: Task, actor: str, *states: TaskState) -> None:
    if task.owner != actor:
        raise NotAllowed("crew.not_owner", name=task.owner_name or "-")
    if task.state not in states:
        raise NotAllowed("crew.wrong_task_state")


def arrive(session: AsyncSession, case: Case, task: Task, actor: str, at: datetime) -> None:
    _owner_only(task, actor, TaskState.ACCEPTED)
    task.state, task.on_scene_at = TaskState.ON_SCENE, at
    primary = task.support_of_id is None
    record(session, case, actor, at, note=f"on_scene:{task.agency}",
           to=S.ON_SCENE if primary and case.state == S.ACCEPTED else None)


async def request_support(session: AsyncSession, case: Case, task: Task, agency: str, actor: str,
                          at: datetime) -> Task:
    """A linked task for another agency (Damkar needs water → PDAM), with its own lifecycle."""
    _owner_only(task, actor, TaskState.ACCEPTED, TaskState.ON_SCENE, TaskState.FINISHING)
    if any(t.agency == agency and t.state in ACTIVE for t in await tasks_of(session, case.id)):
        raise NotAllowed("crew.support_already")
    support = Task(case_id=case.id, agency=agency, support_of_id=task.id, state=TaskState.DISPATCHED, created_at=at)
    session.add(support)
    await session.flush()
    record(session, case, actor, at, note=f"support:{task.agency}->{agency}")
    return support


def start_finishing(session: AsyncSession, case: Case, task: Task, actor: str, at: datetime) -> None:
    _owner_only(task, actor, TaskState.ACCEPTED, TaskState.ON_SCENE)
    task.state = TaskState.FINISHING


async def attach(session: AsyncSession, case: Case, task: Task, media_id: int, actor: str, at: datetime) -> None:
    _owner_only(task, actor, TaskState.FINISHING)
    session.add(Attachment(case_id=case.id, task_id=task.id, media_id=media_id, by=actor, created_at=at))


async def attachments(session: AsyncSession, task_id: int) -> list[Attachment]:
    return list((await session.execute(select(Attachment).where(Attachment.task_id == task_id)
                                       .order_by(Attachment.id))).scalars())


async def finish(session: AsyncSession, case: Case, task: Task, actor: str, note: str, at: datetime,
                 auto_close: bool) -> bool:
    """The crew's final report; True when that resolved the case (every primary task done)."""
    _owner_only(task, actor, TaskState.FINISHING)
    if not await attachments(session, task.id):
        raise NotAllowed("crew.photo_needed")
    task.state, task.done_at, task.note = TaskState.DONE, at, note or task.note
    record(session, case, actor, at, note=f"done:{task.agency}")
    return task.support_of_id is None and await resolve_if_done(session, case, actor, at, auto_close)


async def resolve_if_done(session: AsyncSession, case: Case, actor: str, at: datetime, auto_close: bool) -> bool:
    """Resolve the case (and close it, if the deployment says so) once no agency's own task is still open and
    at least one was done: the last crew may finish, or the last other agency refuse, in either order."""
    primary = [t for t in await tasks_of(session, case.id) if t.support_of_id is None]
    if any(t.state in ACTIVE for t in primary) or not any(t.state == TaskState.DONE for t in primary) \
            or case.state not in (S.ACCEPTED, S.ON_SCENE):
        return False
    record(session, case, actor, at, to=S.RESOLVED)
    if auto_close:
        record(session, case, "system", at, note="auto_close", to=S.CLOSED)
    return True


def rate(session: AsyncSession, case: Case, stars: int, actor: str, at: datetime) -> None:
    """A rating is accepted once, and only on a closed case."""
    if case.rating is not None:
        raise NotAllowed("rating.already")
    if case.state != S.CLOSED or not 1 <= stars <= 5:
        raise NotAllowed("rating.not_open")
    case.rating, case.rated_at = stars, at
    record(session, case, actor, at, note=f"rating:{stars}")


def comment(session: AsyncSession, case: Case, text: str, actor: str, at: datetime) -> None:
    if case.rating is None or case.rating_comment:
        raise NotAllowed("rating.already")
    case.rating_comment = text
    record(session, case, actor, at, note="rating_comment")


async def followers(session: AsyncSession, case: Case) -> list[Case]:
    """The case and every case merged into it: their reporters all hear the outcome."""
    merged = (await session.execute(select(Case).where(Case.duplicate_of_id == case.id))).scalars()
    return [case, *merged]


async def open_cases(session: AsyncSession, limit: int = 30, action_first: bool = False) -> list[Case]:
    """Open cases, newest first; `action_first` (the dashboard) takes every urgent case still waiting for a crew,
    then the reports still waiting for an operator, before the rest, so a limit never drops one of them."""
    stmt = select(Case).where(Case.state.in_([s.value for s in OPEN_STATES]))
    if action_first:
        waiting = [s.value for s in (S.SUBMITTED, S.VERIFIED, S.DISPATCHED)]
        stmt = stmt.order_by(sql_case((Case.urgent.is_(True) & Case.state.in_(waiting), 0),
                                      (Case.state == S.SUBMITTED.value, 1), else_=2))
    stmt = stmt.order_by(Case.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


# --- the case page: notes, call-backs, and crew steps an operator enters for a crew on the radio -------------
PHONE_INTAKES = frozenset({"phone", "radio", "walk_in", "relay"})  # reports an operator entered: no reporter chat
RADIO = "radio"  # the owner channel of a task accepted on behalf of a crew named in free text


def add_note(session: AsyncSession, case: Case, actor: str, text: str, at: datetime) -> None:
    """A free-text note into the timeline (it does not claim the card: anyone at the desk may add one)."""
    record(session, case, actor, at, note="note:" + text)


def record_callback(session: AsyncSession, case: Case, actor: str, stars: int | None, at: datetime) -> None:
    """The caller was called back; a rating they gave on the phone counts only where they have no chat to rate in."""
    if stars is not None:
        if case.intake not in PHONE_INTAKES:
            raise NotAllowed("casepage.rating_has_chat")
        rate(session, case, stars, actor, at)
    record(session, case, actor, at, note="called_back")


def entered_for(session: AsyncSession, case: Case, task: Task, operator: str, at: datetime) -> None:
    """Who typed in a crew's step heard by radio, and for which crew, right after the step itself."""
    record(session, case, operator, at, note=f"for_crew:{task.agency}:{task.owner_name or '-'}")


def accept_for(session: AsyncSession, case: Case, task: Task, operator: str, crew: str, crew_name: str, eta: int,
               at: datetime) -> None:
    """A crew accepts by radio: the same acceptance (first wins, the clock stops), owned by that crew member
    (`crew` is their chat address, so they can go on from their phone) or by the agency's radio."""
    accept(session, case, task, crew, crew_name, eta, at)
    entered_for(session, case, task, operator, at)


def arrive_for(session: AsyncSession, case: Case, task: Task, operator: str, at: datetime) -> None:
    """The crew that accepted says by radio it is on scene: the same step, entered by an operator."""
    if task.state != TaskState.ACCEPTED or task.owner is None:
        raise NotAllowed("crew.wrong_task_state")
    arrive(session, case, task, task.owner, at)
    entered_for(session, case, task, operator, at)


async def finish_for(session: AsyncSession, case: Case, task: Task, operator: str, note: str, at: datetime,
                     auto_close: bool) -> bool:
    """The crew says by radio it is done (no photos over the radio); True when that resolved the case."""
    if task.state not in (TaskState.ACCEPTED, TaskState.ON_SCENE, TaskState.FINISHING) or task.owner is None:
        raise NotAllowed("crew.wrong_task_state")
    task.state, task.done_at, task.note = TaskState.DONE, at, note or task.note
    record(session, case, task.owner, at, note=f"done:{task.agency}")
    entered_for(session, case, task, operator, at)
    return task.support_of_id is None and await resolve_if_done(session, case, task.owner, at, auto_close)

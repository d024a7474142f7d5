"""Operators' and crews' actions (group chats, or 1:1 on WhatsApp): check who may act, apply, notify everyone.

Every handler runs inside the processing transaction with the case row locked, so the first crew member
to accept wins and two operators cannot both act on one card.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.services.staff import StaffCommands
from core import button_data, casework, same_incident, sla
from core.casework import NotAllowed, TaskState
from core.cases import CaseState
from core.config import Deployment
from core.i18n import t
from core.messages import Address, Inbound, Kind, Outbound, Priority
from core.models import Case, CaseEvent, Reporter, Task
from core.tickets import normalize_ticket
from workflows import cards, notices, timeline
from workflows.cards import CaseView, TaskView
from workflows.desk_actions import REFUSE_REASONS, REJECT_REASONS, STAFF_COMMANDS, Action, parse, refusal


class Desk(StaffCommands):
    """One operator or crew event, handled in the caller's transaction; returns the messages to send."""

    def __init__(self, session: AsyncSession, config: Deployment, event: Inbound, now: datetime) -> None:
        self.s, self.config, self.event, self.now = session, config, event, now
        self.lang = config.region.default_language
        self.actor = str(event.sender)
        self.name = config.person_name(event.sender.channel, event.sender.id) or event.sender_name or "-"
        self.out: list[Outbound] = []

    async def handle(self) -> list[Outbound]:
        action = parse(self.event)
        savepoint = await self.s.begin_nested()
        try:
            if action is None:
                await self.on_message()
            elif action.scope == "op":
                await self.on_operator(action)
            elif action.scope == "staff":
                await getattr(self, f"staff_{action.name}")(action.arg)
            else:
                await self.on_crew(action)
            await savepoint.commit()
        except NotAllowed as exc:
            await savepoint.rollback()  # a refused action changes nothing
            self.out = []
            self.answer(t(self.lang, exc.key, **exc.params))
        return self.out

    # --- replies -------------------------------------------------------------------------------------

    @property
    def ops(self) -> Address:
        return Address("telegram", str(self.config.operators.telegram_chat_id))

    def answer(self, text: str) -> None:
        """Answer the button press (a toast), or reply in the chat to a command."""
        if self.event.callback_id:
            self.out = [o for o in self.out if not o.answer_callback]
            self.out.insert(0, Outbound(to=self.event.chat, answer_callback=self.event.callback_id, text=text,
                                        priority=Priority.CALLBACK))
        elif text:
            self.out.insert(0, Outbound(to=self.event.chat, text=text))

    # --- operators -----------------------------------------------------------------------------------

    async def on_operator(self, action: Action) -> None:
        if (key := refusal(action, self.event, self.config, None)) is not None:
            raise NotAllowed(key)
        if self.event.kind == Kind.COMMAND:
            return await getattr(self, f"cmd_{action.name}")(action.arg)
        case = await casework.load_case(self.s, action.target)
        if case is None:
            raise NotAllowed("desk.unknown_case")
        handler = getattr(self, f"op_{action.name}", None)
        if handler is None:
            raise NotAllowed("desk.unknown_action")
        await handler(case, action.arg)

    async def op_verify(self, case: Case, _arg: str) -> None:
        await self._dispatch(case, list(self.config.incident_type(case.incident_type).agencies))

    async def op_to(self, case: Case, agency: str) -> None:
        if self.config.agency(agency) is None:
            raise NotAllowed("desk.unknown_action")
        await self._dispatch(case, [agency])

    async def _dispatch(self, case: Case, agencies: list[str]) -> None:
        first = case.state == CaseState.SUBMITTED
        tasks = await casework.verify(self.s, case, self.actor, agencies, self.now)
        if case.sla_due_at is not None and sla.waiting(case.state):
            for task in tasks:
                await sla.arm(self.s, case.id, sla.reping(self.config, self.now, task.id))
        view = await self.view(case)
        self.out.append(cards.card_message(view, self.config, edit=True))
        for task in tasks:
            self.out += cards.task_messages(view, view.task(task.id), self.config, edit=False)
            self.out += cards.crew_whatsapp_tasks(view, view.task(task.id), self.config)
        names = notices.agencies_text([x.agency for x in tasks], self.config, case.language)
        if first:
            await self.tell_reporters(case, "notice.verified", agencies=names)
        self.answer(t(self.lang, "desk.dispatched", agencies=names))

    async def op_pick(self, case: Case, _arg: str) -> None:
        self.out.append(cards.card_message(await self.view(case), self.config, edit=True, menu="pick"))

    async def op_reject(self, case: Case, _arg: str) -> None:
        if case.state != CaseState.SUBMITTED:
            raise NotAllowed("desk.wrong_state", state=case.state)
        self.out.append(cards.card_message(await self.view(case), self.config, edit=True, menu="reject"))

    async def op_rr(self, case: Case, reason: str) -> None:
        if reason not in REJECT_REASONS:
            raise NotAllowed("desk.unknown_action")
        casework.reject(self.s, case, self.actor, reason, self.now)
        self.out.append(cards.card_message(await self.view(case), self.config, edit=True))
        await self.tell_reporters(case, "notice.rejected", reason=t(case.language, f"reject.{reason}"))
        self.answer(t(self.lang, "desk.rejected"))

    async def op_duplicate(self, case: Case, _arg: str) -> None:
        if case.state != CaseState.SUBMITTED:
            raise NotAllowed("desk.wrong_state", state=case.state)
        candidates = [(c.id, c.ticket, c.incident_type) for c in await casework.open_cases(self.s) if c.id != case.id]
        if not candidates:
            raise NotAllowed("desk.no_duplicate_candidates")
        view = await self.view(case)
        self.out.append(cards.card_message(view, self.config, edit=True,
                                           choices=cards.duplicate_buttons(view, candidates, self.config)))

    async def op_dupto(self, case: Case, target_id: str) -> None:
        other = button_data.number(target_id, 1, button_data.MAX_ID)
        target = await casework.load_case(self.s, other) if other is not None else None
        if target is None:
            raise NotAllowed("desk.unknown_case")
        await casework.mark_duplicate(self.s, case, target, self.actor, self.now)
        self.out.append(cards.card_message(await self.view(case), self.config, edit=True))
        self.out.append(cards.card_message(await self.view(target), self.config, edit=True))
        self.out.append(notices.reporter_update(case.chat, case.language, "notice.duplicate", self.config,
                                                ticket=case.ticket, other=target.ticket, case_id=case.id))
        await self.tell_reporters(target, "notice.merged", other=case.ticket, only_main=True)
        self.answer(t(self.lang, "desk.marked_duplicate", ticket=target.ticket))

    async def op_call(self, case: Case, _arg: str) -> None:
        casework.note_callback(self.s, case, self.actor, self.now)
        self.out.append(cards.card_message(await self.view(case), self.config, edit=True))
        self.answer(t(self.lang, "desk.calling", contact=(await self.view(case)).contact))

    async def op_back(self, case: Case, _arg: str) -> None:
        self.out.append(cards.card_message(await self.view(case), self.config, edit=True))

    async def op_close(self, case: Case, _arg: str) -> None:
        await self._close(case, "")

    async def _close(self, case: Case, note: str) -> None:
        casework.close(self.s, case, self.actor, self.now, note)
        self.out.append(cards.card_message(await self.view(case), self.config, edit=True))
        await self.ask_ratings(case)
        self.answer(t(self.lang, "desk.closed", ticket=case.ticket))

    async def cmd_kasus(self, arg: str) -> None:
        if arg.strip():
            case = await self.case_for_ticket(arg)
            names = await self.actor_names(case)
            events = (await self.s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                           .order_by(CaseEvent.at, CaseEvent.id))).scalars()
            rows = [(e.at, names.get(e.actor, e.actor), e.to_state, e.note) for e in events]
            return self.answer(timeline.timeline_text(case.ticket, rows, self.config))
        rows = [(c.ticket, c.incident_type, c.state, c.submitted_at) for c in await casework.open_cases(self.s)]
        self.answer(timeline.open_cases_text(rows, self.now, self.config))

    async def cmd_tutup(self, arg: str) -> None:
        ticket, _, note = arg.strip().partition(" ")
        await self._close(await self.case_for_ticket(ticket), note.strip())

    async def cmd_blokir(self, arg: str) -> None:
        await self._block(arg, True)

    async def cmd_buka_blokir(self, arg: str) -> None:
        await self._block(arg, False)

    async def _block(self, arg: str, blocked: bool) -> None:
        case = await self.case_for_ticket(arg)
        reporter = await self.s.get(Reporter, case.reporter_id)
        reporter.blocked = blocked
        casework.record(self.s, case, self.actor, self.now, note="blocked" if blocked else "unblocked")
        self.answer(t(self.lang, "desk.blocked" if blocked else "desk.unblocked", ticket=case.ticket))

    async def case_for_ticket(self, text: str) -> Case:
        ticket = normalize_ticket(text, self.config.region.ticket_prefix) if text.strip() else None
        case = await casework.case_by_ticket(self.s, ticket) if ticket else None
        if case is None:
            raise NotAllowed("desk.ticket_unknown", ticket=text.strip() or "-")
        return case

    # --- crews ---------------------------------------------------------------------------------------

    async def on_crew(self, action: Action) -> None:
        task = await self.s.get(Task, action.target)
        if (key := refusal(action, self.event, self.config, task.agency if task else None)) is not None:
            raise NotAllowed(key)
        case = await casework.load_case(self.s, task.case_id)
        await self.s.refresh(task)  # read again under the case lock: someone may have just accepted
        handler = getattr(self, f"tk_{action.name}", None)
        if handler is None:
            raise NotAllowed("desk.unknown_action")
        await handler(case, task, action.arg)

    async def tk_acc(self, case: Case, task: Task, _arg: str) -> None:
        if task.state != TaskState.DISPATCHED:
            raise NotAllowed("crew.already_taken", name=task.owner_name or "-")
        await self.edit_task(case, task, menu="eta")

    async def tk_eta(self, case: Case, task: Task, minutes: str) -> None:
        eta = button_data.number(minutes, 1, max(self.config.cases.eta_choices, default=1))
        if eta not in self.config.cases.eta_choices:  # only the minutes the ETA menu offered
            raise NotAllowed("desk.unknown_action")
        was = case.state
        casework.accept(self.s, case, task, self.actor, self.name, eta, self.now)
        view = await self.after_task_change(case, task)
        self.out += cards.crew_taken_notices(view, view.task(task.id), self.config, except_=self.event.chat)
        if task.support_of_id is None and was == CaseState.DISPATCHED:
            await self.tell_reporters(case, "notice.accepted", agency=self.agency(task.agency, case.language),
                                      eta=eta)
        self.answer(t(self.lang, "crew.accepted", eta=eta))

    async def tk_ref(self, case: Case, task: Task, _arg: str) -> None:
        if task.state != TaskState.DISPATCHED:
            raise NotAllowed("crew.wrong_task_state")
        await self.edit_task(case, task, menu="refuse")

    async def tk_rr(self, case: Case, task: Task, reason: str) -> None:
        if reason not in REFUSE_REASONS:
            raise NotAllowed("desk.unknown_action")
        back = await casework.refuse(self.s, case, task, self.actor, reason, self.now)
        await self.after_task_change(case, task)
        lang = self.lang
        self.out.append(Outbound(to=self.ops, text=t(lang, "desk.task_refused", ticket=case.ticket,
                                        agency=self.agency(task.agency, lang), reason=t(lang, f"refuse.{reason}"),
                                        back=t(lang, "desk.returned") if back else ""),
                                 priority=Priority.URGENT if case.urgent else Priority.NORMAL, case_id=case.id))
        self.answer(t(lang, "crew.refused"))

    async def tk_arr(self, case: Case, task: Task, _arg: str) -> None:
        was = case.state
        casework.arrive(self.s, case, task, self.actor, self.now)
        await self.after_task_change(case, task)
        if task.support_of_id is None and was == CaseState.ACCEPTED:
            await self.tell_reporters(case, "notice.on_scene", agency=self.agency(task.agency, case.language))
        self.answer(t(self.lang, "crew.on_scene"))

    async def tk_sup(self, case: Case, task: Task, _arg: str) -> None:
        if task.owner != self.actor:
            raise NotAllowed("crew.not_owner", name=task.owner_name or "-")
        await self.edit_task(case, task, menu="support")

    async def tk_supto(self, case: Case, task: Task, agency: str) -> None:
        target = self.config.agency(agency)
        if target is None or target.telegram_chat_id is None:
            raise NotAllowed("desk.unknown_action")
        support = await casework.request_support(self.s, case, task, agency, self.actor, self.now)
        view = await self.view(case)
        self.out += cards.task_messages(view, view.task(support.id), self.config, edit=False)
        self.out += cards.crew_whatsapp_tasks(view, view.task(support.id), self.config)
        await self.after_task_change(case, task, view=view)
        self.answer(t(self.lang, "crew.support_requested", agency=self.agency(agency, self.lang)))

    async def tk_done(self, case: Case, task: Task, _arg: str) -> None:
        casework.start_finishing(self.s, case, task, self.actor, self.now)
        await self.after_task_change(case, task)
        self.out.append(Outbound(to=self.event.chat, force_reply=True, case_id=case.id,
                                 text=t(self.lang, "crew.send_documentation", name=self.name, ticket=case.ticket)))

    async def tk_send(self, case: Case, task: Task, _arg: str) -> None:
        resolved = await casework.finish(self.s, case, task, self.actor, task.note or "", self.now,
                                         auto_close=self.config.cases.close_when_crew_done)
        view = await self.after_task_change(case, task)
        photos = len(await casework.attachments(self.s, task.id))
        self.out.append(Outbound(to=self.ops, case_id=case.id, text=t(self.lang, "desk.crew_report", ticket=case.ticket,
                                        agency=self.agency(task.agency, self.lang), name=self.name,
                                        note=task.note or "-", photos=photos)))
        if resolved:
            await self.tell_reporters(case, "notice.resolved")
            if case.state == CaseState.CLOSED:
                await self.ask_ratings(case)
        self.answer(t(self.lang, "crew.finished"))

    async def tk_back(self, case: Case, task: Task, _arg: str) -> None:
        await self.edit_task(case, task)

    async def on_message(self) -> None:
        """A crew member finishing a task sends documentation photos and a note; anything else is ignored."""
        agency = self.config.agency_of_chat(self.event.chat.id)
        if (agency is None and not self.event.is_private) or \
                self.event.kind not in (Kind.PHOTO, Kind.DOCUMENT, Kind.TEXT):
            if self.event.kind == Kind.COMMAND and self.event.command in ("bantuan", "help", "start"):
                key = "help.operator" if agency is None else "help.crew"
                self.answer(t(self.lang, key))
            return
        task = await finishing_task(self.s, self.actor, agency.code if agency else None)
        if task is None:
            return
        case = await casework.load_case(self.s, task.case_id)
        note = (self.event.text or "").strip()
        if note:
            task.note = note[: self.config.limits.max_description_chars]
        media = self.event.media
        if media is not None and media.problem:
            return self.answer(t(self.lang, f"photo.{media.problem}", max_mb=f"{self.config.limits.max_photo_mb:g}"))
        if media is not None and media.media_id:
            await casework.attach(self.s, case, task, media.media_id, self.actor, self.now)
            self.out.append(Outbound(to=self.ops, photo_media_id=media.media_id, case_id=case.id,
                                     text=t(self.lang, "desk.documentation", ticket=case.ticket,
                                            agency=self.agency(task.agency, self.lang), name=self.name)))
            self.answer(t(self.lang, "crew.photo_kept"))

    # --- shared --------------------------------------------------------------------------------------

    def agency(self, code: str, lang: str) -> str:
        return cards.agency_name(self.config, code, lang)

    async def edit_task(self, case: Case, task: Task, menu: str = "") -> None:
        """Show the task's buttons (or a sub-menu): an edit of the group card, or a new message in a 1:1 chat."""
        view = await self.view(case)
        if self.event.is_private:
            self.out.append(cards.crew_direct(view, view.task(task.id), self.config, self.event.chat, menu=menu))
        else:
            self.out += cards.task_messages(view, view.task(task.id), self.config, edit=True, menu=menu)

    async def after_task_change(self, case: Case, task: Task, view: CaseView | None = None) -> CaseView:
        """Edit the report card, this task's card and the card of the task it supports; crew members on
        WhatsApp hear the change directly (the one who acted gets their next buttons)."""
        view = view or await self.view(case)
        self.out.append(cards.card_message(view, self.config, edit=True))
        self.out += cards.task_messages(view, view.task(task.id), self.config, edit=True)
        if task.support_of_id is not None:
            self.out += cards.task_messages(view, view.task(task.support_of_id), self.config, edit=True)
        if self.event.is_private:
            self.out.append(cards.crew_direct(view, view.task(task.id), self.config, self.event.chat))
        return view

    async def tell_reporters(self, case: Case, key: str, only_main: bool = False, **params) -> None:
        """The case's reporter and those of every report merged into it hear the step."""
        for c in [case] if only_main else await casework.followers(self.s, case):
            self.out.append(notices.reporter_update(c.chat, c.language, key, self.config, ticket=c.ticket,
                                                    urgent=case.urgent, case_id=c.id, **params))

    async def ask_ratings(self, case: Case) -> None:
        for c in await casework.followers(self.s, case):
            if c.state != CaseState.CLOSED:
                casework.record(self.s, c, "system", self.now, note="closed_with:" + case.ticket, to=CaseState.CLOSED)
            self.out.append(notices.reporter_update(c.chat, c.language, "notice.closed", self.config, ticket=c.ticket,
                                                    case_id=c.id))
            self.out.append(notices.rating_request(c.chat, c.language, c.id, c.ticket))

    async def view(self, case: Case) -> CaseView:
        return await case_view(self.s, case, self.config, self.now)

    async def actor_names(self, case: Case) -> dict[str, str]:
        reporter = await self.s.get(Reporter, case.reporter_id)
        names = {f"{reporter.channel}:{reporter.external_id}": t(self.lang, "timeline.reporter", name=reporter.name),
                 "system": t(self.lang, "timeline.system")}
        for ev in (await self.s.execute(select(CaseEvent.actor).where(CaseEvent.case_id == case.id))).scalars():
            if ev not in names and ":" in ev:
                names[ev] = self.config.person_name(*ev.split(":", 1)) or ev
        return names


async def case_view(session: AsyncSession, case: Case, config: Deployment, now: datetime | None = None) -> CaseView:
    """Read the case, its reporter and tasks into the snapshot the cards are rendered from."""
    await session.flush()
    similar = ()
    if case.state == CaseState.SUBMITTED:
        similar = tuple(cards.Similar(c.id, c.ticket, metres, max(int((case.submitted_at - c.submitted_at)
                                                                     .total_seconds() // 60), 0))
                        for c, metres in await same_incident.probable_duplicates(session, case, config))
    reporter = await session.get(Reporter, case.reporter_id)
    tasks = await casework.tasks_of(session, case.id)
    duplicate_of = (await session.get(Case, case.duplicate_of_id)).ticket if case.duplicate_of_id else None
    operator = (config.person_name(*case.operator.split(":", 1)) or case.operator.split(":", 1)[1]) \
        if case.operator else None
    contact = reporter.phone or t(config.region.default_language, "card.contact_chat",
                                  channel=cards.CHANNEL_NAMES.get(reporter.channel, reporter.channel))
    return CaseView(
        id=case.id, ticket=case.ticket, state=case.state, incident_type=case.incident_type, urgent=case.urgent,
        submitted_at=case.submitted_at, updated_at=case.updated_at, reporter_name=reporter.name, channel=reporter.channel, contact=contact,
        latitude=case.latitude, longitude=case.longitude, address_text=case.address_text,
        description=case.description, photo_media_id=case.photo_media_id, operator_name=operator,
        reject_reason=case.reject_reason, duplicate_of=duplicate_of, callback_requested=case.callback_requested,
        tasks=tuple(TaskView(x.id, x.agency, x.state, x.owner_name, x.eta_minutes, x.support_of_id,
                             x.refuse_reason, x.note, x.done_at or x.on_scene_at or x.accepted_at or x.created_at)
                    for x in tasks),
        now=now or case.updated_at, sla_due_at=case.sla_due_at, accepted_at=case.accepted_at,
        report_count=case.report_count or 1, similar=similar,
        history=await same_incident.reporter_history(session, case.reporter_id, case.id))


async def finishing_task(session: AsyncSession, actor: str, agency: str | None) -> Task | None:
    """The task this crew member is sending documentation for (in that agency's group, or anywhere 1:1)."""
    stmt = select(Task).where(Task.owner == actor, Task.state == TaskState.FINISHING)
    if agency is not None:
        stmt = stmt.where(Task.agency == agency)
    return (await session.execute(stmt.order_by(Task.id.desc()).limit(1))).scalar_one_or_none()


def is_desk_event(event: Inbound, config: Deployment) -> bool:
    """A private-chat event for the desk rather than the citizen flow: a task or operator button, or a
    roster or figures command from staff or leadership."""
    if event.kind == Kind.COMMAND and event.command in STAFF_COMMANDS:
        channel, who = event.sender.channel, event.sender.id
        return (config.is_operator(channel, who) or config.is_leader(channel, who)
                or bool(config.agencies_of(channel, who)))
    return event.kind == Kind.CHOICE and event.choice.split(":")[0] in ("tk", "op")


def is_crew_member(event: Inbound, config: Deployment) -> bool:
    return any(a.has_member(event.sender.channel, event.sender.id) for a in config.agencies)

"""The operators' chat commands: /kasus (open cases, a timeline), /tutup, /blokir and /buka_blokir."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from bots.services.operator_desk import carry_out
from core import casework
from core.casework import NotAllowed
from core.i18n import t
from core.models import Case, CaseEvent, Reporter
from core.tickets import normalize_ticket
from workflows import timeline
from workflows.actions import Pressed
from workflows.operator_desk import Close

if TYPE_CHECKING:
    from bots.services.desk import Desk


async def kasus(desk: Desk, pressed: Pressed) -> None:
    """One case's timeline (`/kasus TICKET`), or the open cases."""
    if pressed.arg.strip():
        case = await case_for_ticket(desk, pressed.arg)
        names = await actor_names(desk, case)
        events = (await desk.s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                       .order_by(CaseEvent.at, CaseEvent.id))).scalars()
        rows = [(e.at, names.get(e.actor, e.actor), e.to_state, e.note) for e in events]
        return desk.answer(timeline.timeline_text(case.ticket, rows, desk.config))
    rows = [(c.ticket, c.incident_type, c.state, c.submitted_at) for c in await casework.open_cases(desk.s)]
    desk.answer(timeline.open_cases_text(rows, desk.now, desk.config))


async def tutup(desk: Desk, pressed: Pressed) -> None:
    """`/tutup TICKET note`: close the case, as the card's close button does."""
    ticket, _, note = pressed.arg.strip().partition(" ")
    case = await case_for_ticket(desk, ticket)
    await carry_out(desk, case, await desk.view(case), Close(note.strip()))


async def blokir(desk: Desk, pressed: Pressed) -> None:
    await _block(desk, pressed.arg, True)


async def buka_blokir(desk: Desk, pressed: Pressed) -> None:
    await _block(desk, pressed.arg, False)


async def _block(desk: Desk, arg: str, blocked: bool) -> None:
    case = await case_for_ticket(desk, arg)
    reporter = await desk.s.get(Reporter, case.reporter_id)
    reporter.blocked = blocked
    casework.record(desk.s, case, desk.actor, desk.now, note="blocked" if blocked else "unblocked")
    desk.answer(t(desk.lang, "desk.blocked" if blocked else "desk.unblocked", ticket=case.ticket))


async def case_for_ticket(desk: Desk, text: str) -> Case:
    ticket = normalize_ticket(text, desk.config.region.ticket_prefix) if text.strip() else None
    case = await casework.case_by_ticket(desk.s, ticket) if ticket else None
    if case is None:
        raise NotAllowed("desk.ticket_unknown", ticket=text.strip() or "-")
    return case


async def actor_names(desk: Desk, case: Case) -> dict[str, str]:
    """Who did each step, as the timeline names them."""
    reporter = await desk.s.get(Reporter, case.reporter_id)
    names = {f"{reporter.channel}:{reporter.external_id}": t(desk.lang, "timeline.reporter", name=reporter.name),
             "system": t(desk.lang, "timeline.system")}
    for ev in (await desk.s.execute(select(CaseEvent.actor).where(CaseEvent.case_id == case.id))).scalars():
        if ev not in names and ":" in ev:
            names[ev] = desk.config.person_name(*ev.split(":", 1)) or ev
    return names

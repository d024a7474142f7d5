"""One case on the dashboard: its details, timeline, photos and messages, and every desk action on it."""
from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from bots.services import case_view, cluster, dashboard_actions
from bots.web import auth
from bots.web.case_words import Words, refusal_text
from bots.web.pages import language, render
from core import casework, open_data, outbox
from core.cases import OPEN_STATES
from core.i18n import t
from core.models import Account, Attachment, Case, CaseEvent, Media, OutboxItem, Reporter, Task
from workflows import actions as A
from workflows import cards
from workflows.actions import REJECT_REASONS

router = APIRouter(prefix="/dashboard", include_in_schema=False)
# The case page's forms (`action` values) as entries of the desk's action table, with an argument of the kind
# each carries (what was typed or ticked goes in its place; the desk's decisions check it). Task forms press on
# a task, the others on the case.
ACTIONS: dict[str, tuple[A.Action, str]] = {
    "verify": (A.CASE_VERIFY, ""), "dispatch": (A.CASE_SEND_TO, "damkar"), "reject": (A.CASE_REJECT_WHY, "hoax"),
    "duplicate": (A.CASE_SAME_AS, "1"), "note": (A.CASE_NOTE, "catatan"), "called_back": (A.CASE_CALLED_BACK, "5"),
    "close": (A.CASE_CLOSE, ""), "for_accept": (A.TASK_FOR_ACCEPT, "10"), "for_arrive": (A.TASK_FOR_ARRIVE, ""),
    "for_done": (A.TASK_FOR_DONE, "padam")}
TASK_FORMS = {name: action for name, (action, _) in ACTIONS.items() if action.scope == "task"}
CASE_FORMS = {name: action for name, (action, _) in ACTIONS.items() if action.scope == "case"}
MAX_FIELD = 2000  # any longer field is not from this page
OPEN = [s.value for s in OPEN_STATES]


@router.post("/cases/{ticket}/act")
async def act(ticket: str, request: Request, action: str = Form(""), csrf: str = Form(""), reason: str = Form(""),
              agencies: Annotated[list[str] | None, Form()] = None, target: str = Form(""),
              target_ticket: str = Form(""), text: str = Form(""), stars: str = Form(""), task: str = Form(""),
              eta: str = Form(""), crew: str = Form("")):
    """Every desk action of the case page, as the same desk command as the buttons in the groups; a refusal
    is shown on the page, in the operator's language, with nothing changed."""
    account, web_session = await auth.require(request)
    deps, lang, agencies = request.app.state.deps, language(request), agencies or []
    fields = (reason, target, target_ticket, text, stars, task, eta, crew, *agencies)
    if not auth.csrf_ok(web_session.csrf, csrf):
        return render(request, "message.html", status=403, message=t(lang, "web.bad_form"))
    if not account.can_act:
        return render(request, "message.html", status=403, message=t(lang, "web.forbidden"))
    if action.startswith("rr:"):  # the reject form of earlier pages
        action, reason = "reject", action[3:]
    if (action not in CASE_FORMS and action not in TASK_FORMS) or any(len(f) > MAX_FIELD for f in fields) \
            or len(agencies) > len(deps.config.agencies):
        return render(request, "message.html", status=400, message=t(lang, "web.bad_form"))
    async with deps.sessions() as session:
        case_id = (await session.execute(select(Case.id).where(Case.ticket == ticket))).scalar_one_or_none()
        task_id = (await session.execute(select(Task.id).where(Task.id == int(task), Task.case_id == case_id))
                   ).scalar_one_or_none() if task.isdigit() and len(task) < 10 else None
        if case_id is None or (action in TASK_FORMS and task_id is None):
            return render(request, "message.html", status=404, message=t(lang, "web.not_found"))
        other = await _case_by_ticket(session, target_ticket or target) if action == "duplicate" else None
    if action == "duplicate" and other is None:
        result = dashboard_actions.Result("desk.ticket_unknown", {"ticket": (target_ticket or target)[:20] or "-"})
    elif action in ("dispatch", "verify") and not agencies:  # verify too: a type may have no default agency
        result = dashboard_actions.Result("casepage.pick_agency")
    else:
        pressed, arg = _pressed(action, reason, agencies, other, text, stars, eta, crew)
        data = pressed.data(task_id if action in TASK_FORMS else case_id, arg)
        result = await dashboard_actions.submit(deps, account.username, account.name, data)
    await auth.record(request, account.username, "case_action", case_id=case_id, ticket=ticket,
                      detail=action + (f" refused:{result.refused}" if result.refused else ""))
    if result.refused:
        return await _page(request, account, web_session.csrf, ticket, status=409,
                           refusal=refusal_text(lang, result.refused, result.params))
    return RedirectResponse(f"/dashboard/cases/{ticket}", status_code=303)


def _pressed(action: str, reason: str, agencies: list[str], other: int | None, text: str, stars: str, eta: str,
             crew: str) -> tuple[A.Action, str]:
    """The table entry and the argument a form asks for (the desk's decisions check the argument)."""
    if action == "verify" and agencies:  # the type's agencies were ticked for it; others may be ticked too
        return A.CASE_SEND_TO, ",".join(a.strip() for a in agencies)
    if action in TASK_FORMS:
        return TASK_FORMS[action], {"for_accept": f"{eta.strip()}:{crew}", "for_done": text}.get(action, "")
    args = {"dispatch": ",".join(a.strip() for a in agencies), "reject": reason, "duplicate": str(other),
            "note": text, "called_back": stars.strip()}
    return CASE_FORMS[action], args.get(action, "")


async def _case_by_ticket(session, typed: str) -> int | None:
    """The case a typed ticket names, with or without its dashes and prefix (`SMP-48-29-13`, `482913`)."""
    norm = re.sub(r"[^A-Za-z0-9]", "", typed).upper()[:20]
    if not norm:
        return None
    plain = func.upper(func.replace(Case.ticket, "-", ""))
    stmt = select(Case.id).where((plain == norm) | plain.like(f"%{norm}") if norm.isdigit() and len(norm) == 6
                                 else plain == norm)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


@router.get("/cases/{ticket}")
async def case_page(ticket: str, request: Request):
    account, web_session = await auth.require(request)
    return await _page(request, account, web_session.csrf, ticket)


async def _page(request: Request, account: Account, csrf: str, ticket: str, status: int = 200,
                refusal: str | None = None) -> Response:
    deps, lang = request.app.state.deps, language(request)
    config = deps.config
    async with deps.sessions() as session:
        case = (await session.execute(select(Case).where(Case.ticket == ticket))).scalar_one_or_none()
        if case is None:
            return render(request, "message.html", status=404, message=t(lang, "web.not_found"))
        reporter = await session.get(Reporter, case.reporter_id)
        events = list((await session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                             .order_by(CaseEvent.at, CaseEvent.id))).scalars())
        tasks = await casework.tasks_of(session, case.id)
        photos = [case.photo_media_id] if case.photo_media_id else []
        photos += list((await session.execute(select(Attachment.media_id).where(Attachment.case_id == case.id)
                                              .order_by(Attachment.id))).scalars())
        sent = list((await session.execute(select(OutboxItem).where(OutboxItem.case_id == case.id)
                                           .order_by(OutboxItem.id))).scalars())
        usernames = {a.split(":", 1)[1] for a in [e.actor for e in events] + [case.entered_by or ""]
                     if a.startswith("dashboard:")}
        staff = {f"dashboard:{a.username}": a.name for a in (await session.execute(
            select(Account).where(Account.username.in_(usernames)))).scalars()} if usernames else {}
        joined, joined_total = await cluster.reports(session, case.id) if (case.report_count or 1) > 1 else ([], 0)
        searched = request.query_params.get("dup", "")[:20]
        candidates = await _candidates(session, case, searched) \
            if account.can_act and case.state == "submitted" else []
    await auth.record(request, account.username, "case_view", case_id=case.id, ticket=case.ticket)
    words = Words(config, lang, f"{reporter.channel}:{reporter.external_id}", reporter.name or "-", staff)
    exact = auth.sees_exact_place(account)
    shown = (lambda text: text) if exact else (lambda text: _hide_place(text, case))
    messages = [(m.created_at, words.recipient(out.to), shown(out.text)[:300],
                 words.delivery(m.delivery_status or m.status))
                for m, out in ((m, outbox.message_of(m)) for m in sent) if not out.answer_callback]
    place = (case.latitude, case.longitude) if exact else (open_data.coarse(case.latitude),
                                                           open_data.coarse(case.longitude))
    kind = config.incident_type(case.incident_type)
    busy = {x.agency for x in tasks if x.state in casework.ACTIVE}
    return render(request, "case.html", status=status, account=account, csrf=csrf, case=case, reporter=reporter,
                  reasons=REJECT_REASONS, messages=messages, exact=exact, place=place, refusal=refusal,
                  place_line=case_view.place_line(case, config, lang),
                  timeline=words.timeline(events, tasks), tasks=tasks, photos=photos, words=words,
                  entered=case.intake in casework.PHONE_INTAKES, searched=searched, candidates=candidates,
                  default_agencies=list(kind.agencies) if kind else [],
                  free_agencies=[a.code for a in config.agencies if a.code not in busy],
                  members={a.code: [m.name for m in a.members] for a in config.agencies},
                  eta_choices=config.cases.eta_choices, active=casework.ACTIVE,
                  type_name=cards.type_name(config, case.incident_type, lang), joined=joined,
                  joined_total=joined_total)


async def _candidates(session, case: Case, searched: str) -> list[tuple[str, str, str]]:
    """Open cases this report may duplicate: those whose ticket holds what was typed, else recent ones of its
    type; as (ticket, type code, state)."""
    stmt = select(Case.ticket, Case.incident_type, Case.state).where(Case.state.in_(OPEN), Case.id != case.id)
    norm = re.sub(r"[^A-Za-z0-9]", "", searched).upper()
    if norm:
        stmt = stmt.where(func.upper(func.replace(Case.ticket, "-", "")).like(f"%{norm}%"))
    else:
        stmt = stmt.where(Case.incident_type == case.incident_type)
    return [tuple(row) for row in await session.execute(stmt.order_by(Case.id.desc()).limit(8))]


@router.get("/media/{media_id}")
async def media(request: Request, media_id: int = Path(ge=1, le=2**31 - 1)):  # an `integer` column
    """A photo as received (the evidence), only for signed-in staff and only when it belongs to a case."""
    account, _ = await auth.require(request, page=False, touch=False)  # loaded by a page already counted
    async with request.app.state.deps.sessions() as session:
        used = (await session.execute(select(Case.id).where(Case.photo_media_id == media_id).limit(1))).first() or \
            (await session.execute(select(Attachment.case_id).where(Attachment.media_id == media_id).limit(1))).first()
        row = await session.get(Media, media_id) if used else None
    if row is None:
        return Response(status_code=404)
    await auth.record(request, account.username, "photo_view", case_id=used[0], detail=f"media={media_id}")
    return Response(row.original, media_type=row.mime, headers={"Cache-Control": "private, no-store"})


def _hide_place(text: str, case: Case) -> str:
    """A message as a leader may read it: the case's exact pin rounded, its typed address left out."""
    for value in (case.latitude, case.longitude):
        if value is not None:
            text = text.replace(f"{value:.5f}", f"{open_data.coarse(value):.2f}")
    if case.address_text:
        text = text.replace(case.address_text, "…")
    return text

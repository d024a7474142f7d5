"""The command-centre dashboard: open cases, a case with its timeline and photos, figures (sign-in and
exports are in signin_pages.py and exports.py).

Every page and file here needs a signed-in operator or leader; forms carry a CSRF token.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from bots.services import dashboard_actions
from bots.web import auth
from bots.web.pages import language, render
from core import casework, figures, inbox, open_data, outbox, sla
from core.i18n import t
from core.messages import Address
from core.models import Account, Attachment, Case, CaseEvent, Media, OutboxItem, Reporter, Task
from workflows import actions as desk_actions
from workflows import cards, figures_text
from workflows.actions import REJECT_REASONS

router = APIRouter(prefix="/dashboard", include_in_schema=False)
# The case page's forms (`action` values) as entries of the desk's action table, with their argument.
ACTIONS = {"verify": (desk_actions.CASE_VERIFY, ""), "close": (desk_actions.CASE_CLOSE, ""),
           **{f"rr:{reason}": (desk_actions.CASE_REJECT_WHY, reason) for reason in REJECT_REASONS}}


@router.get("")
async def open_cases(request: Request):
    """The open cases, newest first; the table reloads itself every few seconds (htmx)."""
    account, web_session = await auth.require(request)
    return render(request, "cases.html", account=account, csrf=web_session.csrf, **await _rows(request))


@router.get("/rows")
async def open_case_rows(request: Request):
    """The live table's refresh: it does not count as activity, and an ended session sends the page to sign-in."""
    try:
        await auth.require(request, page=False, touch=False)
    except auth.SignedOut:
        return Response(status_code=401, headers={"HX-Redirect": "/dashboard/login"})
    return render(request, "case_rows.html", **await _rows(request))


async def _rows(request: Request) -> dict:
    deps = request.app.state.deps
    now, lang = deps.clock.now(), language(request)
    async with deps.sessions() as session:
        cases = await casework.open_cases(session, limit=200)
        agencies = await casework.agencies_by_case(session, [c.id for c in cases]) if cases else {}
        parked = await inbox.parked_count(session)  # deliveries and events set aside: someone should look
    rows = []
    for case in cases:
        left = sla.minutes_left(now, case.sla_due_at) if case.sla_due_at and sla.waiting(case.state) else None
        rows.append((case, ", ".join(cards.agency_name(deps.config, a, lang) for a in agencies.get(case.id, [])), left))
    return {"rows": rows, "parked": parked, "type_name": lambda code: cards.type_name(deps.config, code, lang),
            "local": lambda at: cards.local_time(deps.config, at) if at else "–"}


@router.post("/cases/{ticket}/act")
async def act(ticket: str, request: Request, action: str = Form(""), csrf: str = Form("")):
    """Verify, reject with a reason, or close — the same desk commands as the buttons in the operators' group."""
    account, web_session = await auth.require(request)
    deps, lang = request.app.state.deps, language(request)
    if not auth.csrf_ok(web_session.csrf, csrf):
        return render(request, "message.html", status=403, message=t(lang, "web.bad_form"))
    if not account.can_act:
        return render(request, "message.html", status=403, message=t(lang, "web.forbidden"))
    if action not in ACTIONS:
        return render(request, "message.html", status=400, message=t(lang, "web.bad_form"))
    async with deps.sessions() as session:
        case_id = (await session.execute(select(Case.id).where(Case.ticket == ticket))).scalar_one_or_none()
    if case_id is None:
        return render(request, "message.html", status=404, message=t(lang, "web.not_found"))
    pressed, arg = ACTIONS[action]
    await dashboard_actions.submit(deps, account.username, account.name, pressed.data(case_id, arg))
    await auth.record(request, account.username, "case_action", case_id=case_id, ticket=ticket, detail=action)
    return RedirectResponse(f"/dashboard/cases/{ticket}", status_code=303)


@router.get("/cases/{ticket}")
async def case_page(ticket: str, request: Request):
    account, web_session = await auth.require(request)
    deps = request.app.state.deps
    lang = language(request)
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
        usernames = {e.actor.split(":", 1)[1] for e in events if e.actor.startswith("dashboard:")}
        staff = {f"dashboard:{a.username}": a.name for a in (await session.execute(
            select(Account).where(Account.username.in_(usernames)))).scalars()} if usernames else {}
    await auth.record(request, account.username, "case_view", case_id=case.id, ticket=case.ticket)
    reporter_actor = f"{reporter.channel}:{reporter.external_id}"

    def who(actor: str) -> str:
        if actor == reporter_actor:
            return t(lang, "timeline.reporter", name=reporter.name or "-")
        if actor == "system":
            return t(lang, "timeline.system")
        return staff.get(actor) or deps.config.person_name(*actor.split(":", 1)) or actor

    exact = auth.sees_exact_place(account)
    shown = (lambda text: text) if exact else (lambda text: _hide_place(text, case))
    said = [(m, outbox.message_of(m)) for m in sent]
    messages = [(m.created_at, _recipient(deps.config, out.to, reporter_actor, lang), shown(out.text)[:300],
                 m.delivery_status or m.status) for m, out in said if not out.answer_callback]
    place = (case.latitude, case.longitude) if exact else (open_data.coarse(case.latitude),
                                                           open_data.coarse(case.longitude))
    return render(request, "case.html", account=account, csrf=web_session.csrf, case=case, reporter=reporter,
                  reasons=REJECT_REASONS, who=who, messages=messages, exact=exact, place=place,
                  events=events, tasks=tasks, photos=photos,
                  type_name=cards.type_name(deps.config, case.incident_type, lang),
                  agency=lambda code: cards.agency_name(deps.config, code, lang),
                  local=lambda at: cards.local_time(deps.config, at, "%d-%m-%Y %H:%M:%S") if at else "–")


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


def _recipient(config, to: Address, reporter_actor: str, lang: str) -> str:
    """Who a message about the case went to, in words: the reporter, a group, or a person by name."""
    if str(to) == reporter_actor:
        return t(lang, "web.to_reporter")
    channel, ident = to.channel, to.id
    if ident == str(config.operators.telegram_chat_id):
        return t(lang, "web.to_operators")
    agency = config.agency_of_chat(ident)
    return cards.agency_name(config, agency.code, lang) if agency else (config.person_name(channel, ident) or channel)


@router.get("/figures")
async def figures_page(request: Request):
    """Charts of the last 30 days: reports per day and type, SLA compliance, time per stage, ratings, agencies."""
    account, web_session = await auth.require(request)
    deps = request.app.state.deps
    now, lang = deps.clock.now(), language(request)
    _, start, end = figures_text.period_window(deps.config, "bulan", now)
    async with deps.sessions() as session:
        cases = list((await session.execute(select(Case).where(Case.submitted_at >= start, Case.submitted_at < end)))
                     .scalars())
        by_agency = Counter(code for (code,) in await session.execute(
            select(Task.agency).join(Case, Case.id == Task.case_id).where(Case.submitted_at >= start)))
        total = await figures.load(session, start, end, now)
    days = [start.astimezone(deps.config.region.tz).date() + timedelta(days=i) for i in range(30)]
    daily = [figures.compute(cases, *figures_text.day_window(deps.config, d), now, 0) for d in days]
    types = [it for it in deps.config.incident_types if any(f.by_type.get(it.code) for f in daily)]
    data = {
        "days": [d.strftime("%d-%m") for d in days],
        "types": [{"label": it.name.get(lang), "data": [f.by_type.get(it.code, 0) for f in daily]} for it in types],
        "compliance": [None if f.compliance is None else round(f.compliance * 100) for f in daily],
        "stages": {"labels": [t(lang, f"stage.{name}") for name, _, _ in figures.STAGES],
                   "minutes": [None if total.median_seconds[name] is None else round(total.median_seconds[name] / 60, 1)
                               for name, _, _ in figures.STAGES]},
        "ratings": [sum(1 for c in cases if c.rating == n) for n in range(1, 6)],
        "agencies": {"labels": [cards.agency_name(deps.config, code, lang) for code in by_agency],
                     "data": list(by_agency.values())},
    }
    return render(request, "figures.html", account=account, csrf=web_session.csrf, total=total, data=data,
                  percent=lambda share: figures_text.percent(share, "–"))

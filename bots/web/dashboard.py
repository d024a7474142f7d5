"""The command-centre dashboard: sign-in, open cases, a case with its timeline and photos, exports.

Every page and file here needs a signed-in operator or leader; forms carry a CSRF token.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from bots.pipeline.cpu import run_cpu
from bots.services import dashboard_actions
from bots.web import auth
from bots.web.pages import language, render
from core import accounts, casework, figures, inbox, open_data, passwords, sla
from core.i18n import t
from core.models import Account, Attachment, Case, CaseEvent, Media, OutboxItem, Reporter, Task
from workflows import cards, figures_text
from workflows.desk_actions import REJECT_REASONS

router = APIRouter(prefix="/dashboard", include_in_schema=False)
ACTIONS = {"verify", "close", *(f"rr:{reason}" for reason in REJECT_REASONS)}
EXPORT_COLUMNS = ("ticket", "incident_type", "urgent", "state", "submitted_at", "verified_at", "dispatched_at",
                  "accepted_at", "on_scene_at", "resolved_at", "closed_at", "sla_due_at", "sla", "agencies",
                  "report_count", "reject_reason", "rating", "latitude", "longitude")


@router.get("/login")
async def login_page(request: Request):
    token = auth.new_login_token()
    response = render(request, "login.html", csrf=token, error="")
    response.set_cookie(auth.LOGIN_COOKIE, token, httponly=True, samesite="strict", max_age=3600)
    return response


@router.post("/login")
async def login(request: Request, username: str = Form(""), password: str = Form(""), code: str = Form(""),
                csrf: str = Form("")):
    """Unknown usernames, wrong passwords and wrong codes get one answer; only the (username, address) pair
    that keeps failing waits, longer each time (auth.sign_in)."""
    lang = language(request)
    if not auth.csrf_ok(request.cookies.get(auth.LOGIN_COOKIE), csrf):
        return render(request, "login.html", status=403, csrf=csrf, error=t(lang, "web.bad_form"))
    if not await auth.login_allowed(request):
        return render(request, "login.html", status=429, csrf=csrf, error=t(lang, "web.locked", minutes=5))
    outcome, token = await auth.sign_in(request, username, password, code[:16])
    if token is None:
        if outcome.problem == "wait":
            return render(request, "login.html", status=429, csrf=csrf,
                          error=t(lang, "web.signin_wait", seconds=outcome.seconds))
        return render(request, "login.html", status=401, csrf=csrf, error=t(lang, "web.signin_failed"))
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(auth.COOKIE, token, httponly=True, samesite="strict", max_age=int(accounts.SESSION_TTL.total_seconds()),
                        secure=request.url.scheme == "https")
    response.delete_cookie(auth.LOGIN_COOKIE)
    return response


@router.post("/logout")
async def logout(request: Request, csrf: str = Form("")):
    account, web_session = await auth.require(request)
    if not auth.csrf_ok(web_session.csrf, csrf):
        return render(request, "message.html", status=403, message=t(language(request), "web.bad_form"))
    async with request.app.state.deps.sessions() as session, session.begin():
        await accounts.close_session(session, request.cookies[auth.COOKIE])
    await auth.record(request, account.username, "signout")
    response = auth.to_login()
    response.delete_cookie(auth.COOKIE)
    return response


@router.get("/password")
async def password_page(request: Request):
    account, web_session = await auth.require(request)
    return render(request, "password.html", account=account, csrf=web_session.csrf, error="", done="")


@router.post("/password")
async def change_password(request: Request, current: str = Form(""), new: str = Form(""), again: str = Form(""),
                          csrf: str = Form("")):
    """A new password for the signed-in account; its other sessions end, this one stays."""
    account, web_session = await auth.require(request)
    deps, lang = request.app.state.deps, language(request)
    page = lambda status, error="", done="": render(request, "password.html", status=status,  # noqa: E731
                                                    account=account, csrf=web_session.csrf, error=error, done=done)
    if not auth.csrf_ok(web_session.csrf, csrf):
        return page(403, t(lang, "web.bad_form"))
    if not await auth.login_allowed(request):  # the current password must not be guessable here either
        return page(429, t(lang, "web.locked", minutes=5))
    if not await run_cpu(accounts.verify_password, account.password_hash, current[:200]):
        await auth.record(request, account.username, "password_change_refused", detail="wrong_current")
        return page(400, t(lang, "web.password_wrong_current"))
    if new != again:
        return page(400, t(lang, "web.password_mismatch"))
    problem = passwords.problem(new, account.username)
    if problem:
        return page(400, {"short": t(lang, "web.password_short", min=passwords.MIN_LENGTH),
                          "long": t(lang, "web.password_long", max=passwords.MAX_LENGTH),
                          "common": t(lang, "web.password_common"), "pattern": t(lang, "web.password_pattern"),
                          "username": t(lang, "web.password_username")}[problem])
    hashed = await run_cpu(accounts.hash_password, new)
    async with deps.sessions() as session, session.begin():
        row = await session.get(Account, account.id)
        ended = await accounts.set_password(session, row, hashed, keep_token=request.cookies.get(auth.COOKIE))
    await auth.record(request, account.username, "password_changed", detail=f"other_sessions_ended={ended}")
    return page(200, done=t(lang, "web.password_changed"))


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
    name, _, arg = action.partition(":")
    await dashboard_actions.submit(deps, account.username, account.name, f"op:{name}:{case_id}" + (f":{arg}" if arg else ""))
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

    exact = sees_exact_place(account)
    shown = (lambda text: text) if exact else (lambda text: _hide_place(text, case))
    messages = [(m.created_at, _recipient(deps.config, m, reporter_actor, lang),
                 shown(m.payload.get("text") or "")[:300], m.delivery_status or m.status)
                for m in sent if not m.payload.get("answer_callback")]
    place = (case.latitude, case.longitude) if exact else (open_data.coarse(case.latitude),
                                                           open_data.coarse(case.longitude))
    return render(request, "case.html", account=account, csrf=web_session.csrf, case=case, reporter=reporter,
                  reasons=REJECT_REASONS, who=who, messages=messages, exact=exact, place=place,
                  events=events, tasks=tasks, photos=photos, type_name=cards.type_name(deps.config, case.incident_type, lang),
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


def sees_exact_place(account: Account) -> bool:
    """Only operators, who send help, see where exactly; leaders read positions rounded to about 1 km."""
    return account.role == "operator"


def _hide_place(text: str, case: Case) -> str:
    """A message as a leader may read it: the case's exact pin rounded, its typed address left out."""
    for value in (case.latitude, case.longitude):
        if value is not None:
            text = text.replace(f"{value:.5f}", f"{open_data.coarse(value):.2f}")
    if case.address_text:
        text = text.replace(case.address_text, "…")
    return text


@router.get("/export.csv")
async def export_csv(request: Request):
    account, _ = await auth.require(request, page=False)
    rows = await _export_rows(request, exact=sees_exact_place(account))
    await auth.record(request, account.username, "export", detail=f"csv rows={len(rows)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(rows)
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="siaga112-cases.csv"',
                             "Cache-Control": "private, no-store"})


@router.get("/export.xlsx")
async def export_xlsx(request: Request):
    account, _ = await auth.require(request, page=False)
    from openpyxl import Workbook
    book = Workbook()
    sheet = book.active
    sheet.title = "cases"
    sheet.append(EXPORT_COLUMNS)
    rows = await _export_rows(request, exact=sees_exact_place(account))
    for row in rows:
        sheet.append(row)
    await auth.record(request, account.username, "export", detail=f"xlsx rows={len(rows)}")
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(), headers={"Content-Disposition": 'attachment; filename="siaga112-cases.xlsx"',
                                                "Cache-Control": "private, no-store"},
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


async def _export_rows(request: Request, exact: bool) -> list[list]:
    """Every case with its stage times and outcome; no reporter name, phone, photo or description, and the
    position exact only for operators (`exact`), rounded to about 1 km for everyone else."""
    deps = request.app.state.deps
    now = deps.clock.now()
    async with deps.sessions() as session:
        cases = list((await session.execute(select(Case).where(Case.submitted_at.is_not(None))
                                            .order_by(Case.submitted_at))).scalars())
        agencies = await casework.agencies_by_case(session)
    iso = lambda at: at.isoformat() if at else ""  # noqa: E731
    place = (lambda value: value) if exact else open_data.coarse  # noqa: E731
    return [[c.ticket, c.incident_type, c.urgent, c.state, iso(c.submitted_at), iso(c.verified_at),
             iso(c.dispatched_at), iso(c.accepted_at), iso(c.on_scene_at), iso(c.resolved_at), iso(c.closed_at),
             iso(c.sla_due_at), sla.outcome(state=c.state, due_at=c.sla_due_at, accepted_at=c.accepted_at,
                                            closed_at=c.closed_at, now=now) or "",
             " ".join(agencies.get(c.id, [])), c.report_count, c.reject_reason or "",
             c.rating or "", place(c.latitude) if c.latitude is not None else "",
             place(c.longitude) if c.longitude is not None else ""]
            for c in cases]


def _recipient(config, message: OutboxItem, reporter_actor: str, lang: str) -> str:
    """Who a message about the case went to, in words: the reporter, a group, or a person by name."""
    to = f"{message.payload['to']['channel']}:{message.payload['to']['id']}"
    if to == reporter_actor:
        return t(lang, "web.to_reporter")
    channel, ident = to.split(":", 1)
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

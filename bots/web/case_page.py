"""One case on the dashboard: its details, timeline, photos and messages, and the desk actions on it."""
from __future__ import annotations

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from bots.services import dashboard_actions
from bots.web import auth
from bots.web.pages import language, render
from core import casework, open_data, outbox
from core.i18n import t
from core.messages import Address
from core.models import Account, Attachment, Case, CaseEvent, Media, OutboxItem, Reporter
from workflows import actions as desk_actions
from workflows import cards
from workflows.actions import REJECT_REASONS

router = APIRouter(prefix="/dashboard", include_in_schema=False)
# The case page's forms (`action` values) as entries of the desk's action table, with their argument.
ACTIONS = {"verify": (desk_actions.CASE_VERIFY, ""), "close": (desk_actions.CASE_CLOSE, ""),
           **{f"rr:{reason}": (desk_actions.CASE_REJECT_WHY, reason) for reason in REJECT_REASONS}}


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

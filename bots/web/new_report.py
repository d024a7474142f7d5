"""The dashboard's "new report" form: a phone call, radio call, walk-in or relay entered by an operator.

One short form (type, caller, place on the map or typed, what happened; channel, time of the call and agencies
defaulted), checked by workflows/operator_intake.py and entered by bots/services/phone_intake.py: verified and
dispatched at once by the signed-in operator. Re-shown with its values and a reason per field when refused.
"""
from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from bots.services import phone_intake
from bots.web import auth
from bots.web.pages import language, render
from core.casework import NotAllowed
from core.i18n import t
from workflows import cards
from workflows.operator_intake import CLASS_KEYS, VIA_KEYS, validate

router = APIRouter(prefix="/dashboard", include_in_schema=False)
FIELDS = ("incident_type", "caller_name", "caller_phone", "latitude", "longitude", "address_text", "description",
          "intake", "called_at", "traffic_class", "follow_up")
FIELD_CHARS = 4000  # anything longer is cut before the checks, which then refuse it as too long
MAX_FIELDS = 40


def _page(request: Request, account, web_session, values: dict[str, str], errors: dict[str, str],
          form_id: str, status: int = 200):
    deps, lang = request.app.state.deps, language(request)
    config, now = deps.config, deps.clock.now()
    lat_min, lon_min, lat_max, lon_max = config.region.bounds
    types = [(it.code, cards.type_name(config, it.code, lang), ",".join(it.agencies), it.urgent)
             for it in config.incident_types]
    chosen = set(filter(None, values.get("agencies", "").split(",")))
    return render(
        request, "new_report.html", status=status, account=account, csrf=web_session.csrf, values=values,
        errors={name: t(lang, key) for name, key in errors.items()}, form_id=form_id, types=types,
        agencies=[(a.code, cards.agency_name(config, a.code, lang), a.code in chosen) for a in config.agencies],
        intakes=[(code, t(lang, key)) for code, key in VIA_KEYS.items()],
        classes=[(code, t(lang, key)) for code, key in CLASS_KEYS.items()], whatsapp="whatsapp" in deps.channels,
        zone=cards.zone_label(config, now), center=((lat_min + lat_max) / 2, (lon_min + lon_max) / 2),
        now_local=now.astimezone(config.region.tz).strftime("%Y-%m-%dT%H:%M"))


async def _operator(request: Request):
    """The signed-in account, if it may act; else the page that says why."""
    account, web_session = await auth.require(request)
    if not account.can_act:
        return None, render(request, "message.html", status=403, message=t(language(request), "web.forbidden"))
    return (account, web_session), None


@router.get("/new")
async def new_report(request: Request):
    """The empty form, its defaults filled: phone call, emergency, called now."""
    signed, refused = await _operator(request)
    if refused is not None:
        return refused
    return _page(request, *signed, values={}, errors={}, form_id=secrets.token_urlsafe(18))


def _values(form: FormData) -> dict[str, str]:
    values = {name: str(form.get(name) or "")[:FIELD_CHARS] for name in FIELDS}
    picked = [str(a)[:32] for a in form.getlist("agencies")[:MAX_FIELDS]]
    values["agencies"] = ",".join(picked)
    return values


@router.post("/new")
async def enter_report(request: Request):
    """Check the form, then enter the report: to the case page on success, the form again with reasons if not."""
    signed, refused = await _operator(request)
    if refused is not None:
        return refused
    account, web_session = signed
    lang = language(request)
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    if not auth.csrf_ok(web_session.csrf, str(form.get("csrf") or "")):
        return render(request, "message.html", status=403, message=t(lang, "web.bad_form"))
    form_id = str(form.get("form_id") or "")
    if not phone_intake.FORM_ID.fullmatch(form_id):
        return render(request, "message.html", status=400, message=t(lang, "web.bad_form"))
    values = _values(form)
    deps = request.app.state.deps
    report = validate(values, deps.config, deps.clock.now())
    if isinstance(report, dict):
        return _page(request, account, web_session, values, report, form_id, status=400)
    try:
        entered = await phone_intake.submit(deps, form_id, report, account.username, account.name)
    except NotAllowed as exc:
        return _page(request, account, web_session, values, {"form": exc.key}, form_id, status=409)
    if not entered.duplicate:
        await auth.record(request, account.username, "case_entered", case_id=entered.case_id, ticket=entered.ticket,
                          detail=f"{report.intake}:{report.traffic_class}")
    return RedirectResponse(f"/dashboard/cases/{entered.ticket}", status_code=303)

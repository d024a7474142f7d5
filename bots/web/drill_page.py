"""The dashboard's drill switch: everyone signed in sees whether a drill runs; only admins start or stop one."""
from __future__ import annotations

from fastapi import APIRouter, Form, Request

from bots.web import auth
from bots.web.pages import language, render
from core import drills
from core.i18n import t
from core.models import Account
from workflows.drill_text import describe

router = APIRouter(prefix="/dashboard", include_in_schema=False)
ADMIN = "admin"


@router.get("/drill")
async def drill_page(request: Request):
    account, web_session = await auth.require(request)
    return await _page(request, account, web_session.csrf)


@router.post("/drill")
async def drill_switch(request: Request, action: str = Form(""), csrf: str = Form(""), minutes: str = Form(""),
                       testers: str = Form("")):
    """Start or stop the drill: admins only, with the page's CSRF token; a refusal changes nothing."""
    account, web_session = await auth.require(request)
    lang = language(request)
    if not auth.csrf_ok(web_session.csrf, csrf):
        return render(request, "message.html", status=403, message=t(lang, "web.bad_form"))
    if account.role != ADMIN:
        await auth.record(request, account.username, "drill_refused", detail=action[:16])
        return await _page(request, account, web_session.csrf, status=403, error=t(lang, "drill.admins_only"))
    deps = request.app.state.deps
    now = deps.clock.now()
    try:
        async with deps.sessions() as session, session.begin():
            if action == "start":
                length = int(minutes) if minutes.strip().isdigit() and len(minutes.strip()) <= 5 else None
                if minutes.strip() and length is None:
                    raise drills.DrillError("drill.bad_minutes")
                drill = await drills.start(session, by=f"dashboard:{account.username}", now=now, minutes=length,
                                           testers=testers[:4000].split())
                detail = f"start minutes={length or '-'} testers={len(drill.testers or [])}"
            elif action == "stop":
                stopped = await drills.stop(session, now)
                detail = "stop" if stopped else "stop none"
            else:
                return await _page(request, account, web_session.csrf, status=400)
    except drills.DrillError as exc:
        return await _page(request, account, web_session.csrf, status=400, error=t(lang, exc.key, **exc.params))
    await auth.record(request, account.username, "drill", detail=detail)
    return await _page(request, account, web_session.csrf,
                       notice=t(lang, "drill.started" if action == "start" else "drill.stopped"))


async def _page(request: Request, account: Account, csrf: str, status: int = 200, error: str = "",
                notice: str = ""):
    deps = request.app.state.deps
    lang = language(request)
    async with deps.sessions() as session:
        drill = await drills.active(session, deps.clock.now())
    return render(request, "drill.html", status=status, account=account, csrf=csrf, running=drill is not None,
                  status_line=describe(drill, deps.config, lang), admin=account.role == ADMIN, error=error,
                  notice=notice)

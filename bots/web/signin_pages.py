"""The dashboard's sign-in, sign-out and password change: one answer for every failure, a CSRF token on each form."""
from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from bots.pipeline.cpu import run_cpu
from bots.web import auth
from bots.web.pages import language, render
from core import accounts, passwords
from core.i18n import t
from core.models import Account

router = APIRouter(prefix="/dashboard", include_in_schema=False)


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
    response.set_cookie(auth.COOKIE, token, httponly=True, samesite="strict",
                        max_age=int(accounts.SESSION_TTL.total_seconds()), secure=request.url.scheme == "https")
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

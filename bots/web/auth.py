"""Who is signed in: the session cookie, the CSRF check on every form, sign-in throttling and the audit trail."""
from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import Request
from fastapi.responses import RedirectResponse

from bots.pipeline.cpu import run_cpu
from core import accounts, audit
from core.coordination import Limit
from core.models import Account, WebSession
from core.signing import keyed_hash

COOKIE = "siaga_session"
LOGIN_COOKIE = "siaga_login_csrf"
PER_ADDRESS = Limit("", 10, 300)  # sign-in attempts per client address in five minutes, whatever the usernames


class SignedOut(Exception):
    """Raised by `require` so the app answers with the sign-in page (or 401 for data)."""

    def __init__(self, page: bool) -> None:
        self.page = page


def address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy: what FORWARDED_ALLOW_IPS lets through)."""
    return request.client.host if request.client else "-"


async def signed_in(request: Request, touch: bool = True) -> tuple[Account, WebSession] | None:
    deps = request.app.state.deps
    idle = timedelta(minutes=deps.config.dashboard.idle_minutes)
    async with deps.sessions() as session, session.begin():
        return await accounts.current(session, request.cookies.get(COOKIE), deps.clock.now(), idle, touch)


async def require(request: Request, page: bool = True, touch: bool = True) -> tuple[Account, WebSession]:
    """The signed-in account; `touch=False` for requests the page makes by itself (the live table's refresh),
    which must not keep an unattended session alive."""
    found = await signed_in(request, touch)
    if found is None:
        raise SignedOut(page)
    return found


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


async def login_allowed(request: Request) -> bool:
    """Slow down guessing from one address, whatever usernames it tries."""
    limit = Limit(f"login:{address(request)}", PER_ADDRESS.count, PER_ADDRESS.window)
    return await request.app.state.deps.coord.take([limit]) == 0


async def sign_in(request: Request, username: str, password: str, code: str) -> tuple[accounts.SignIn, str | None]:
    """Check a sign-in and open a session: (outcome, cookie token or None). The throttle counts tries of this
    username from this address only, so nobody elsewhere can lock the account; unknown usernames go through
    the same steps, Argon2 included, and get the same answers."""
    deps, now, where = request.app.state.deps, request.app.state.deps.clock.now(), address(request)
    username = accounts.normal(username[:64])
    key = keyed_hash(deps.secret_key, "signin", f"{username}\x00{where}", 32)
    async with deps.sessions() as session, session.begin():
        attempt = await accounts.begin(session, key, username, now)
        if isinstance(attempt, accounts.SignIn):
            audit.record(session, actor=await _actor(session, username), action="signin_throttled", at=now,
                         address=where)
            return attempt, None
    password_ok = await run_cpu(accounts.verify_password, attempt.password_hash, password[:200])
    async with deps.sessions() as session, session.begin():
        outcome = await accounts.finish(session, attempt, password_ok, code, deps.clock.now())
        token = await accounts.open_session(session, outcome.account, deps.clock.now()) if outcome.account else None
        action = "signin_ok" if token else (
            "signin_bad_code" if password_ok and attempt.account_id else "signin_failed")
        audit.record(session, actor=username if attempt.account_id else "?", action=action, at=now, address=where,
                     detail="" if attempt.account_id else "unknown_username")
    return outcome, token


async def _actor(session, username: str) -> str:
    """An existing account's name; "?" for an unknown one (what was typed may be a mistyped password)."""
    return username if await accounts.find(session, username) else "?"


async def record(request: Request, actor: str, action: str, *, case_id: int | None = None, ticket: str | None = None,
                 detail: str = "") -> None:
    """An audit entry for something a signed-in person did in the dashboard (its own short transaction)."""
    deps = request.app.state.deps
    async with deps.sessions() as session, session.begin():
        audit.record(session, actor=actor, action=action, at=deps.clock.now(), case_id=case_id, ticket=ticket,
                     detail=detail, address=address(request))


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def to_login() -> RedirectResponse:
    return RedirectResponse("/dashboard/login", status_code=303)


def sees_exact_place(account: Account) -> bool:
    """Only operators, who send help, see where exactly; leaders read positions rounded to about 1 km."""
    return account.role == "operator"

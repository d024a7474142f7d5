"""Who is signed in: the session cookie, the CSRF check on every form, and sign-in rate limits."""
from __future__ import annotations

import hmac
import secrets

from fastapi import Request
from fastapi.responses import RedirectResponse

from core import accounts
from core.coordination import Limit
from core.models import Account, WebSession

COOKIE = "siaga_session"
LOGIN_COOKIE = "siaga_login_csrf"
PER_ADDRESS = Limit("", 10, 300)  # sign-in attempts per client address in five minutes


class SignedOut(Exception):
    """Raised by `require` so the app answers with the sign-in page (or 401 for data)."""

    def __init__(self, page: bool) -> None:
        self.page = page


async def signed_in(request: Request) -> tuple[Account, WebSession] | None:
    deps = request.app.state.deps
    async with deps.sessions() as session:
        return await accounts.current(session, request.cookies.get(COOKIE), deps.clock.now())


async def require(request: Request, page: bool = True) -> tuple[Account, WebSession]:
    found = await signed_in(request)
    if found is None:
        raise SignedOut(page)
    return found


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given)


async def login_allowed(request: Request) -> bool:
    """Slow down guessing from one address, whatever usernames it tries."""
    address = request.client.host if request.client else "-"
    limit = Limit(f"login:{address}", PER_ADDRESS.count, PER_ADDRESS.window)
    return await request.app.state.deps.coord.take([limit]) == 0


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def to_login() -> RedirectResponse:
    return RedirectResponse("/dashboard/login", status_code=303)

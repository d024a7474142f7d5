"""Dashboard accounts and sessions: Argon2 passwords, lock-out after repeated failures, server-side sessions.

Roles: `operator` (may act on cases from the dashboard) and `leader` (reads; may act only when created
with `can_act`). Sessions live in the database so every `web` process knows them and sign-out is final.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Account, WebSession

ROLES = ("operator", "leader")
MAX_FAILURES, LOCK = 5, timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)  # one shift
HASHER = PasswordHasher()
# Verifying against this when the user is unknown keeps the answer time the same as for a wrong password.
_DUMMY = HASHER.hash(secrets.token_hex(16))


class AccountError(Exception):
    """A problem with creating an account, worded for the command line."""


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the account, or why not (`bad` or `locked` with minutes left)."""

    account: Account | None = None
    problem: str = ""
    minutes: int = 0


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(session: AsyncSession, username: str, password: str, role: str, name: str = "",
                 can_act: bool | None = None) -> Account:
    username = username.strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise AccountError("username: 1-64 letters, digits, . or _")
    if len(password) < 10:
        raise AccountError("password: at least 10 characters")
    if (await session.execute(select(Account.id).where(Account.username == username))).first():
        raise AccountError(f"account {username!r} exists already")
    account = Account(username=username, name=name or username, password_hash=HASHER.hash(password), role=role,
                      can_act=role == "operator" if can_act is None else can_act)
    session.add(account)
    await session.flush()
    return account


async def authenticate(session: AsyncSession, username: str, password: str, now: datetime) -> SignIn:
    """Check the password; five failures in a row lock the account for 15 minutes."""
    account = (await session.execute(select(Account).where(Account.username == username.strip().lower(),
                                                            Account.active.is_(True)))).scalar_one_or_none()
    if account is None:
        _verify(_DUMMY, password)
        return SignIn(problem="bad")
    if account.locked_until is not None and account.locked_until > now:
        return SignIn(problem="locked", minutes=max(1, int((account.locked_until - now).total_seconds() // 60) + 1))
    if not _verify(account.password_hash, password):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILURES:
            account.failed_logins, account.locked_until = 0, now + LOCK
        return SignIn(problem="bad")
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = HASHER.hash(password)
    return SignIn(account=account)


def _verify(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


async def open_session(session: AsyncSession, account: Account, now: datetime) -> str:
    """A new session; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash_token(token), account_id=account.id, csrf=secrets.token_urlsafe(24),
                           created_at=now, expires_at=now + SESSION_TTL))
    await session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token


async def current(session: AsyncSession, token: str | None, now: datetime) -> tuple[Account, WebSession] | None:
    if not token:
        return None
    row = (await session.execute(select(WebSession, Account).join(Account, Account.id == WebSession.account_id)
                                 .where(WebSession.token_hash == _hash_token(token), WebSession.expires_at > now,
                                        Account.active.is_(True)))).first()
    return (row[1], row[0]) if row else None


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == _hash_token(token)))

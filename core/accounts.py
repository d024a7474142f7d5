"""Dashboard accounts and sessions: Argon2 passwords, sign-in throttling without lock-outs, TOTP, sessions.

Roles: `operator` (may act on cases from the dashboard) and `leader` (reads; may act only when created
with `can_act`). Nobody can lock an operator out: failures are counted per (username, client address)
pair, and only that pair waits — longer after each failure — so a correct password from another address
always works. Unknown usernames are counted and answered exactly like known ones. Sessions live in the
database so every `web` process knows them and sign-out is final; they end after 24 hours, or earlier
when no real action (the dashboard's own polling does not count) happened within the idle time.

Argon2 is CPU work: `verify_password` and `hash_password` are plain functions the web layer runs off the
event loop (`bots.pipeline.cpu.run_cpu`); everything else here only touches the database.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import passwords
from core.db import dialect_insert, rows_affected
from core.models import Account, SigninThrottle, WebSession

ROLES = ("operator", "leader", "admin")  # admin: also starts and stops drills (dashboard)
SESSION_TTL = timedelta(hours=24)  # a whole 24-hour shift
IDLE = timedelta(minutes=60)  # default; the deployment file's `dashboard.idle_minutes`
TOUCH_EVERY = timedelta(seconds=30)  # a session's last-seen time is written at most this often
FREE_FAILURES = 3  # failures of one (username, address) before tries have to wait
MAX_DELAY = timedelta(minutes=15)
FORGET_AFTER = timedelta(days=1)  # a pair with no try for this long starts afresh (and the row is pruned)
TOTP_ISSUER = "Siaga112"
HASHER = PasswordHasher()
# Verifying against this when the user is unknown keeps the answer time the same as for a wrong password.
DUMMY_HASH = HASHER.hash(secrets.token_hex(16))


class AccountError(Exception):
    """A problem with creating or changing an account, worded for the command line."""


@dataclass(frozen=True)
class Attempt:
    """A sign-in try let through the throttle: what verifying it needs (a dummy hash for unknown users)."""

    key: str
    account_id: int | None
    password_hash: str
    totp_secret: str | None


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: the account, or why not (`bad`, or `wait` with seconds left)."""

    account: Account | None = None
    problem: str = ""
    seconds: int = 0


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normal(username: str) -> str:
    return username.strip().lower()


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def check_password(password: str, username: str) -> None:
    """Raise AccountError when the password is too short, too common or trivial."""
    problem = passwords.problem(password, username)
    if problem:
        raise AccountError(passwords.REASONS[problem])


async def find(session: AsyncSession, username: str) -> Account | None:
    return (await session.execute(select(Account).where(Account.username == normal(username)))).scalar_one_or_none()


async def create(session: AsyncSession, username: str, password: str, role: str, name: str = "",
                 can_act: bool | None = None) -> Account:
    username = normal(username)
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    if not username or len(username) > 64 or not username.replace("_", "").replace(".", "").isalnum():
        raise AccountError("username: 1-64 letters, digits, . or _")
    check_password(password, username)
    if (await session.execute(select(Account.id).where(Account.username == username))).first():
        raise AccountError(f"account {username!r} exists already")
    account = Account(username=username, name=name or username, password_hash=hash_password(password), role=role,
                      can_act=role == "operator" if can_act is None else can_act)
    session.add(account)
    await session.flush()
    return account


async def set_password(session: AsyncSession, account: Account, password_hash: str,
                       keep_token: str | None = None) -> int:
    """Store a new (already hashed) password and end the account's sessions, except `keep_token`'s; returns
    how many ended."""
    account.password_hash = password_hash
    return await end_sessions(session, account.id, keep_token)


async def end_sessions(session: AsyncSession, account_id: int, keep_token: str | None = None) -> int:
    """Sign the account out everywhere (but `keep_token`'s session); how many sessions ended."""
    query = delete(WebSession).where(WebSession.account_id == account_id)
    if keep_token:
        query = query.where(WebSession.token_hash != _hash_token(keep_token))
    return rows_affected(await session.execute(query))


# ---- throttling: per (username, address) pair, growing delays, never a lock ----

def delay_after(failures: int) -> timedelta:
    """How long the pair waits after its n-th failure in a row: nothing for the first few, then 2, 4, 8 … s."""
    if failures < FREE_FAILURES:
        return timedelta()
    return min(MAX_DELAY, timedelta(seconds=2 ** min(failures - FREE_FAILURES + 1, 20)))


async def begin(session: AsyncSession, key: str, username: str, now: datetime) -> SignIn | Attempt:
    """Let a try through the pair's throttle or say how long to wait. A try let through is counted as a
    failure at once (several tries in parallel are all counted); `succeed` forgives it."""
    await session.execute(dialect_insert(session, SigninThrottle)
                          .values(key=key, failures=0, next_allowed_at=now, updated_at=now)
                          .on_conflict_do_nothing(index_elements=["key"]))
    row = (await session.execute(select(SigninThrottle).where(SigninThrottle.key == key).with_for_update())
           ).scalar_one()
    if row.updated_at < now - FORGET_AFTER:
        row.failures = 0
    if row.next_allowed_at > now:
        return SignIn(problem="wait", seconds=max(1, int((row.next_allowed_at - now).total_seconds() + 0.999)))
    row.failures += 1
    row.next_allowed_at, row.updated_at = now + delay_after(row.failures), now
    account = (await session.execute(select(Account).where(Account.username == normal(username),
                                                           Account.active.is_(True)))).scalar_one_or_none()
    if account is None:
        return Attempt(key, None, DUMMY_HASH, None)
    return Attempt(key, account.id, account.password_hash, account.totp_secret)


async def finish(session: AsyncSession, attempt: Attempt, password_ok: bool, code: str, now: datetime) -> SignIn:
    """After the password was verified (off the event loop): check the TOTP code if the account has one;
    on success forgive the pair's failures."""
    if not password_ok or attempt.account_id is None:
        return SignIn(problem="bad")
    if attempt.totp_secret:
        step = totp_step(attempt.totp_secret, code, now)
        # The step is stored only if it is newer than the last one used: a code works once, in any process.
        if step is None or not rows_affected(await session.execute(
                update(Account).where(Account.id == attempt.account_id,
                                      or_(Account.totp_last_step.is_(None), Account.totp_last_step < step))
                .values(totp_last_step=step))):
            return SignIn(problem="bad")
    account = await session.get(Account, attempt.account_id)
    if account is None or not account.active:
        return SignIn(problem="bad")
    account.last_login_at = now
    await session.execute(delete(SigninThrottle).where(SigninThrottle.key == attempt.key))
    return SignIn(account=account)


async def prune_throttle(session: AsyncSession, now: datetime) -> int:
    """Forget pairs with no try for a day (run by the nightly pass)."""
    return rows_affected(await session.execute(
        delete(SigninThrottle).where(SigninThrottle.updated_at < now - FORGET_AFTER)))


# ---- TOTP (RFC 6238, 30-second steps, 6 digits) ----

def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code this is (the current one or a neighbour, for clock drift), or None."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


# ---- sessions ----

async def open_session(session: AsyncSession, account: Account, now: datetime) -> str:
    """A new session; returns the cookie token (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_hash_token(token), account_id=account.id, csrf=secrets.token_urlsafe(24),
                           created_at=now, expires_at=now + SESSION_TTL, last_seen_at=now))
    await session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return token


async def current(session: AsyncSession, token: str | None, now: datetime, idle: timedelta = IDLE,
                  touch: bool = True) -> tuple[Account, WebSession] | None:
    """The signed-in account, if the session is neither past 24 hours nor idle; `touch` records this request
    as activity (the dashboard's automatic refresh passes False, so it cannot keep a session alive)."""
    if not token:
        return None
    row = (await session.execute(select(WebSession, Account).join(Account, Account.id == WebSession.account_id)
                                 .where(WebSession.token_hash == _hash_token(token), WebSession.expires_at > now,
                                        WebSession.last_seen_at > now - idle, Account.active.is_(True)))).first()
    if row is None:
        return None
    web_session = row[0]
    if touch and now - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = now
    return row[1], web_session


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == _hash_token(token)))

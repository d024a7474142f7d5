"""Sign-in cannot be used to lock operators out or to learn usernames; TOTP; shift-long sessions that end when
idle; every sign-in, view, action and export leaves an audit entry (issue 12 items 6 and 11)."""
from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pyotp
import pytest
from sqlalchemy import select

from bots.app import create_app
from bots.web.auth import LOGIN_COOKIE
from core import accounts, passwords
from core.clock import FakeClock
from core.models import AuditEntry, SigninThrottle, WebSession
from core.settings import load_settings
from tests.conftest import fresh_database_url
from tests.harness import SECRET_KEY, free_port, serve_app
from tests.test_web_pages import PASSWORD, seed

X, Y, Z = "127.0.0.2", "127.0.0.3", "127.0.0.4"  # loopback addresses: each client connects from its own
WRONG = "wrong-password-123"


class StoppedClock(FakeClock):
    """Time that moves only when the test moves it, so the seconds a try must wait come out exact however
    slowly Argon2 runs on a busy machine."""

    def __init__(self) -> None:
        super().__init__()
        self._start = super().now()

    def now(self) -> datetime:
        return self._start + self._offset


@asynccontextmanager
async def app_on(url: str, config, clock: FakeClock | None = None):
    port = free_port()
    settings = load_settings(database_url=url, public_base_url=None, port=port, siaga_secret_key=SECRET_KEY)
    app = create_app(settings, config, clock=clock or FakeClock())
    async with serve_app(app, port):
        yield port, app.state.deps


def client_from(port: int, address: str) -> httpx.AsyncClient:
    """A browser at `address`: the gateway sees that as the client's address."""
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                             transport=httpx.AsyncHTTPTransport(local_address=address))


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD, code: str = "",
                  csrf: str = "fixed-login-token-for-comparisons") -> httpx.Response:
    """The sign-in form as a browser posts it (a fixed CSRF token, so two answers can be compared whole)."""
    client.cookies.set(LOGIN_COOKIE, csrf)
    return await client.post("/dashboard/login", data={"username": username, "password": password, "code": code,
                                                       "csrf": csrf})


async def add_operator(deps, username: str = "op1") -> None:
    async with deps.sessions() as s, s.begin():
        await accounts.create(s, username, PASSWORD, "operator", "Operator Satu")


def test_delays_grow_to_a_cap_and_never_lock():
    assert [accounts.delay_after(n).total_seconds() for n in range(1, 8)] == [0, 0, 2, 4, 8, 16, 32]
    assert accounts.delay_after(50) == accounts.delay_after(10_000) == timedelta(minutes=15)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_failures_from_one_address_delay_only_that_address(backend, tmp_path, config):
    clock = StoppedClock()
    async with app_on(await fresh_database_url(backend, tmp_path), config, clock) as (port, deps), \
            client_from(port, X) as attacker, client_from(port, Y) as operator:
        await add_operator(deps)
        for wait in (0, 0, 0, 3, 5):  # five wrong passwords from X, waiting out the delays as they come
            clock.advance(seconds=wait)
            assert (await sign_in(attacker, "op1", WRONG)).status_code == 401
        signed = await sign_in(operator, "op1")  # at once, from another address, the right password works
        assert signed.status_code == 303 and operator.cookies.get("siaga_session")
        assert (await operator.get("/dashboard")).status_code == 200

        waits = []
        for _ in range(2):  # X keeps guessing: each try is held back, each time longer (10 tries per 5 minutes
            # from one address are allowed at all, whatever the usernames: auth.PER_ADDRESS)
            held = await sign_in(attacker, "op1", PASSWORD)  # even the right password waits at X
            assert held.status_code == 429 and "siaga_session" not in held.cookies
            waits.append(int(re.search(r"dalam (\d+) detik", held.text).group(1)))
            clock.advance(seconds=waits[-1] + 1)
            assert (await sign_in(attacker, "op1", WRONG)).status_code == 401
        assert waits == [8, 16]
        async with deps.sessions() as s:  # neither the username nor the address is stored as such
            keys = list((await s.execute(select(SigninThrottle.key))).scalars())
        assert len(keys) == 1 and "op1" not in keys[0] and X not in keys[0]


async def test_the_throttle_holds_across_web_processes(tmp_path, config):
    """Two web processes on one database: failures counted by one hold back the next try at the other."""
    url, clock = await fresh_database_url("postgres", tmp_path), StoppedClock()  # a slow try must not outwait the 2 s
    async with app_on(url, config, clock) as (port_a, deps), app_on(url, config, clock) as (port_b, _), \
            client_from(port_a, X) as at_a, client_from(port_b, X) as at_b:
        await add_operator(deps)
        for client in (at_a, at_b, at_a):
            assert (await sign_in(client, "op1", WRONG)).status_code == 401
        assert (await sign_in(at_b, "op1", PASSWORD)).status_code == 429


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_unknown_usernames_get_the_same_answers(backend, tmp_path, config):
    clock = StoppedClock()
    async with app_on(await fresh_database_url(backend, tmp_path), config, clock) as (port, deps), \
            client_from(port, X) as known, client_from(port, Y) as unknown:
        await add_operator(deps)
        for wait in (0, 0, 0, 0, 3, 5, 0):  # the lock-out of old came at the sixth failure
            clock.advance(seconds=wait)
            a, b = await sign_in(known, "op1", WRONG), await sign_in(unknown, "nobody", WRONG)
            assert (a.status_code, a.text) == (b.status_code, b.text)  # word for word
        assert a.status_code == 429 and b.status_code == 429
        english = await known.post("/dashboard/login?lang=en", data={"username": "op1", "password": WRONG,
                                                                     "csrf": known.cookies.get(LOGIN_COOKIE)})
        assert "Wrong username" not in english.text and "Try again in" in english.text


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_two_step_sign_in_needs_the_current_code_once(backend, tmp_path, config):
    clock = FakeClock()
    async with app_on(await fresh_database_url(backend, tmp_path), config, clock) as (port, deps), \
            client_from(port, X) as browser, client_from(port, Y) as other:
        await add_operator(deps)
        secret = accounts.new_totp_secret()
        async with deps.sessions() as s, s.begin():
            (await accounts.find(s, "op1")).totp_secret = secret
        assert (await sign_in(browser, "op1")).status_code == 401  # the password alone is not enough
        failed = await sign_in(browser, "op1", code="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        assert failed.status_code == 401 and "kode salah" in failed.text
        code = pyotp.TOTP(secret).at(clock.now())
        assert (await sign_in(browser, "op1", code=code)).status_code == 303
        assert (await browser.get("/dashboard")).status_code == 200
        replay = await sign_in(other, "op1", code=code)  # seen over a shoulder: the same code does not work twice
        assert replay.status_code == 401 and "siaga_session" not in replay.cookies
        clock.advance(seconds=30)
        assert (await sign_in(other, "op1", code=pyotp.TOTP(secret).at(clock.now()))).status_code == 303


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_session_lasts_a_shift_and_ends_when_idle(backend, tmp_path, config):
    clock = FakeClock()
    async with app_on(await fresh_database_url(backend, tmp_path), config, clock) as (port, deps), \
            client_from(port, X) as busy, client_from(port, Y) as away:
        await add_operator(deps)
        await sign_in(busy, "op1")
        for _ in range(24):  # 20 hours of work, something done every 50 minutes
            clock.advance(minutes=50)
            assert (await busy.get("/dashboard")).status_code == 200
        for _ in range(4):  # to 23 h 20 min
            clock.advance(minutes=50)
            assert (await busy.get("/dashboard")).status_code == 200
        clock.advance(minutes=45)
        ended = await busy.get("/dashboard")  # 24 h 05 min: back to the sign-in page, however busy
        assert ended.status_code == 303 and ended.headers["location"] == "/dashboard/login"

        await sign_in(away, "op1")
        for _ in range(11):  # the open-cases page left open refreshes itself every few seconds for 55 minutes
            clock.advance(minutes=5)
            assert (await away.get("/dashboard/rows")).status_code == 200
        clock.advance(minutes=6)
        rows = await away.get("/dashboard/rows", headers={"HX-Request": "true"})
        assert rows.status_code == 401 and rows.headers["hx-redirect"] == "/dashboard/login"
        page = await away.get("/dashboard")
        assert page.status_code == 303 and page.headers["location"] == "/dashboard/login"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_changing_the_password_ends_the_other_sessions(backend, tmp_path, config):
    async with app_on(await fresh_database_url(backend, tmp_path), config) as (port, deps), \
            client_from(port, X) as here, client_from(port, Y) as elsewhere:
        await add_operator(deps)
        await sign_in(here, "op1")
        await sign_in(elsewhere, "op1")
        page = await here.get("/dashboard/password")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

        async def change(current: str, new: str, again: str | None = None) -> httpx.Response:
            return await here.post("/dashboard/password", data={"current": current, "new": new,
                                                                "again": new if again is None else again, "csrf": csrf})
        assert (await change(WRONG, "Tumpukan-Kayu-Basah-7")).status_code == 400
        assert (await change(PASSWORD, "1234567890")).status_code == 400
        assert "terlalu umum" in (await change(PASSWORD, "password2026!")).text
        assert (await change(PASSWORD, "Tumpukan-Kayu-Basah-7", "other")).status_code == 400
        assert (await elsewhere.get("/dashboard")).status_code == 200  # nothing changed yet
        done = await change(PASSWORD, "Tumpukan-Kayu-Basah-7")
        assert done.status_code == 200 and "Sesi lain" in done.text
        assert (await elsewhere.get("/dashboard")).status_code == 303
        assert (await here.get("/dashboard")).status_code == 200
        elsewhere.cookies.clear()
        assert (await sign_in(elsewhere, "op1")).status_code == 401
        assert (await sign_in(elsewhere, "op1", "Tumpukan-Kayu-Basah-7")).status_code == 303


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_sign_ins_views_actions_and_exports_are_audited(backend, tmp_path, config, session_log):
    async with app_on(await fresh_database_url(backend, tmp_path), config) as (port, deps), \
            client_from(port, Z) as browser:
        photo = await seed(deps, config)
        before = len(session_log.lines())
        assert (await sign_in(browser, "op1", WRONG)).status_code == 401
        assert (await sign_in(browser, "nobody", WRONG)).status_code == 401
        assert (await sign_in(browser, "op1")).status_code == 303
        case_page = await browser.get("/dashboard/cases/SMP-42-42-42")
        assert (await browser.get(photo)).status_code == 200
        csrf = re.search(r'name="csrf" value="([^"]+)"', case_page.text).group(1)
        acted = await browser.post("/dashboard/cases/SMP-42-42-42/act",
                                   data={"action": "verify", "csrf": csrf, "agencies": ["damkar"]})
        assert acted.status_code == 303
        assert (await browser.get("/dashboard/export.csv")).status_code == 200
        assert (await browser.get("/dashboard/export.xlsx")).status_code == 200
        assert (await browser.post("/dashboard/logout", data={"csrf": csrf})).status_code == 303
        async with deps.sessions() as s:
            rows = list((await s.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())
            assert (await s.execute(select(WebSession.id))).first() is None  # the sign-out ended the session
        got = [(r.actor, r.action, r.ticket, r.detail.split(" ")[0]) for r in rows]
        assert got == [("op1", "signin_failed", None, ""), ("?", "signin_failed", None, "unknown_username"),
                       ("op1", "signin_ok", None, ""), ("op1", "case_view", "SMP-42-42-42", ""),
                       ("op1", "photo_view", None, got[4][3]), ("op1", "case_action", "SMP-42-42-42", "verify"),
                       ("op1", "export", None, "csv"), ("op1", "export", None, "xlsx"), ("op1", "signout", None, "")]
        assert {r.address for r in rows} == {Z} and rows[4].case_id == rows[3].case_id is not None
        lines = [line for line in session_log.lines()[before:] if '"event": "audit"' in line]
        assert len(lines) == len(rows) and not any(Z in line or "nobody" in line for line in lines)


def test_weak_passwords_are_refused():
    for weak in ("1234567890", "123456789012", "password2026!", "Bismillah123", "aaaaaaaaaaaa", "qwertyqwerty",
                 "abcdefghijkl", "q1w2e3r4t5y6", "operator1operator1"):
        assert passwords.problem(weak, "operator1") is not None, weak
    assert passwords.problem("op1-xy", "op1") == "short" and passwords.problem("x" * 129) == "long"
    for fine in (PASSWORD, "Tumpukan-Kayu-Basah-7", "Kalianget 3 pelabuhan"):
        assert passwords.problem(fine, "op1") is None, fine

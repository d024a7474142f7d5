"""`siaga account add|passwd|totp` refuse weak passwords, end sessions, enrol TOTP; `siaga audit` prints the trail
that sign-ins, account changes and `siaga privacy` commands leave (issue 12 items 6 and 11)."""
from __future__ import annotations

import asyncio
import getpass
import os
import subprocess
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pyotp
from sqlalchemy import func, select

from core import accounts, audit
from core.db import make_engine, make_sessionmaker
from core.models import Account, AuditEntry, Reporter, WebSession
from tests.test_cli import ROOT, SIAGA, cli

GOOD, NEW = "correct-horse-battery", "Tumpukan-Kayu-Basah-7"
ME = f"cli:{getpass.getuser()}"


def siaga(db: dict, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """In this process (tests/test_cli.py `cli`); `enrol` below runs the installed command as a person would."""
    return cli(*args, stdin=stdin, **db)


def add_operator(db: dict) -> subprocess.CompletedProcess:
    return siaga(db, "account", "add", "op1", "--role", "operator", "--password-stdin", stdin=GOOD + "\n")


def database(tmp_path) -> dict:
    db = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'siaga.db'}"}
    assert cli("migrate", **db).returncode == 0
    return db


async def in_db(db: dict, work):
    engine = make_engine(db["DATABASE_URL"])
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def test_weak_passwords_are_refused_by_add_and_passwd(tmp_path):
    db = database(tmp_path)
    for weak, why in (("1234567890", "at least 12 characters"), ("123456789012", "too simple"),
                      ("password2026!", "too common"), ("qwertyuiop123", "too common"),
                      ("op1op1op1op1op1", "too simple"), ("op1-sumenep-x", "username")):
        refused = siaga(db, "account", "add", "op1", "--role", "operator", "--password-stdin", stdin=weak + "\n")
        assert refused.returncode == 1 and why in refused.stderr, (weak, refused.stderr)
    assert add_operator(db).returncode == 0
    weak = siaga(db, "account", "passwd", "op1", stdin="1234567890\n1234567890\n")
    assert weak.returncode == 1 and "at least 12 characters" in weak.stderr
    differ = siaga(db, "account", "passwd", "op1", stdin=f"{NEW}\n{NEW}x\n")
    assert differ.returncode == 1 and "differ" in differ.stderr
    assert siaga(db, "account", "passwd", "nobody", stdin=f"{NEW}\n{NEW}\n").returncode == 1


def test_passwd_sets_the_password_and_ends_the_sessions(tmp_path):
    db = database(tmp_path)
    assert add_operator(db).returncode == 0

    async def two_sessions(s):
        account = await accounts.find(s, "op1")
        for _ in range(2):
            await accounts.open_session(s, account, datetime.now(UTC))
    asyncio.run(in_db(db, two_sessions))
    changed = siaga(db, "account", "passwd", "op1", stdin=f"{NEW}\n{NEW}\n")
    assert changed.returncode == 0 and "2 session(s) ended" in changed.stdout

    async def state(s):
        account = await accounts.find(s, "op1")
        return (accounts.verify_password(account.password_hash, NEW),
                accounts.verify_password(account.password_hash, GOOD),
                await s.scalar(select(func.count()).select_from(WebSession)))
    assert asyncio.run(in_db(db, state)) == (True, False, 0)


def enrol(db: dict, username: str, answer) -> tuple[int, str, str]:
    """Run `siaga account totp` as a person would: read the QR code and URI, type the app's code."""
    process = subprocess.Popen([SIAGA, "account", "totp", username], cwd=ROOT, env={**os.environ, **db},
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shown = []
    for line in process.stdout:
        shown.append(line)
        if line.startswith("otpauth://"):
            break
    secret = parse_qs(urlparse(shown[-1].strip()).query)["secret"][0]
    out, err = process.communicate(answer(secret) + "\n", timeout=60)
    return process.returncode, "".join(shown) + out, err


def test_totp_is_enrolled_with_a_qr_code_and_a_first_code(tmp_path):
    db = database(tmp_path)
    assert add_operator(db).returncode == 0
    code, out, err = enrol(db, "op1", lambda secret: "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    assert code == 1 and "wrong code" in err
    assert asyncio.run(in_db(db, lambda s: accounts.find(s, "op1"))).totp_secret is None
    code, out, err = enrol(db, "op1", lambda secret: pyotp.TOTP(secret).now())
    assert code == 0 and "two-step sign-in on" in out, err
    assert "issuer=Siaga112" in out and any(block in out for block in "█▀▄")  # the QR code, drawn in the terminal
    secret = parse_qs(urlparse(next(line for line in out.splitlines() if line.startswith("otpauth://"))).query)["secret"][0]
    account = asyncio.run(in_db(db, lambda s: accounts.find(s, "op1")))
    assert account.totp_secret == secret and account.totp_last_step is not None  # the enrolment code is used up
    assert "op1\toperator\tact\tactive\top1\ttotp" in cli("account", "list", **db).stdout
    off = siaga(db, "account", "totp", "op1", "--disable")
    assert off.returncode == 0 and asyncio.run(in_db(db, lambda s: accounts.find(s, "op1"))).totp_secret is None


def test_the_audit_command_prints_the_trail_filtered(tmp_path):
    db = database(tmp_path)
    assert add_operator(db).returncode == 0

    async def history(s):
        s.add(Reporter(channel="whatsapp", external_id="6281299998888", name="Siti", phone="+6281299998888"))
        audit.record(s, actor="op1", action="case_view", at=datetime(2026, 11, 29, 8, tzinfo=UTC), case_id=7,
                     ticket="SMP-07-07-07", address="10.1.2.3")
        audit.record(s, actor="op1", action="export", at=datetime(2026, 11, 30, 8, tzinfo=UTC),
                     detail="csv rows=3", address="10.1.2.3")
    asyncio.run(in_db(db, history))
    assert cli("privacy", "export", "whatsapp", "+6281299998888", **db).returncode == 0
    assert cli("privacy", "erase", "whatsapp", "6281299998888", **db).returncode == 0
    assert cli("privacy", "sweep", **db).returncode == 0
    assert cli("account", "disable", "op1", **db).returncode == 0

    everything = cli("audit", **db).stdout.splitlines()
    assert [line.split("\t")[1:3] for line in everything] == [
        ["op1", "case_view"], ["op1", "export"], [ME, "account_added"], [ME, "privacy_export"], [ME, "privacy_erase"],
        [ME, "privacy_sweep"], [ME, "account_disabled"]]
    assert everything[0].split("\t")[3:] == ["SMP-07-07-07", "-", "10.1.2.3"]
    assert not any("6281299998888" in line or "Siti" in line for line in everything)  # reporters by row id only
    mine = cli("audit", "--who", "OP1", **db).stdout.splitlines()
    assert [line.split("\t")[2] for line in mine] == ["case_view", "export"]
    assert [line.split("\t")[2] for line in cli("audit", "--who", "op1", "--since", "2026-11-30", **db).stdout
            .splitlines()] == ["export"]
    assert len(cli("audit", "--who", ME, **db).stdout.splitlines()) == 5
    bad = cli("audit", "--since", "yesterday", **db)
    assert bad.returncode == 1 and "--since" in bad.stderr

    async def count(s):
        return await s.scalar(select(func.count()).select_from(AuditEntry)), \
            (await s.execute(select(Account.active))).scalar_one()
    assert asyncio.run(in_db(db, count)) == (7, False)

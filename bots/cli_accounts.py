"""`siaga account` and `siaga audit`: dashboard accounts from the shell, and the trail they leave."""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from bots.cli_support import cli_actor, log_to_stderr
from core.settings import load_settings


def cmd_account(args: argparse.Namespace) -> int:
    """Dashboard accounts: add, passwd (password from a prompt, or two lines on standard input), totp, list, disable.
    Every change is written to the audit trail as `cli:<OS user>`."""
    from sqlalchemy import select

    from core import accounts, audit
    from core.db import make_engine, make_sessionmaker
    from core.models import Account

    settings = load_settings()
    log_to_stderr(settings)
    actor = cli_actor()
    if args.action == "add":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else _ask_password()
    elif args.action == "passwd":
        password = _ask_password()

    async def main() -> int:
        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        now = datetime.now(UTC)
        try:
            if args.action == "list":
                async with sessions() as session:
                    for a in (await session.execute(select(Account).order_by(Account.username))).scalars():
                        state = "active" if a.active else "disabled"
                        print(f"{a.username}\t{a.role}\t{'act' if a.can_act else 'read'}\t{state}\t{a.name}"
                              f"\t{'totp' if a.totp_secret else '-'}")
                return 0
            if args.action == "add":
                async with sessions() as session, session.begin():
                    account = await accounts.create(session, args.username, password, args.role, args.name or "",
                                                    can_act=args.can_act)
                    audit.record(session, actor=actor, action="account_added", at=now,
                                 detail=f"{account.username} {account.role}")
                print(f"account {account.username}: {account.role}, "
                      f"{'may act on cases' if account.can_act else 'read only'}")
                return 0
            async with sessions() as session:
                found = await accounts.find(session, args.username)
            if found is None:
                print(f"siaga: no account {args.username!r}", file=sys.stderr)
                return 1
            if args.action == "totp" and not args.disable:
                return await _enrol_totp(sessions, found, actor, now)
            async with sessions() as session, session.begin():
                account = await session.get(Account, found.id)
                if args.action == "passwd":
                    accounts.check_password(password, account.username)
                    ended = await accounts.set_password(session, account, accounts.hash_password(password))
                    audit.record(session, actor=actor, action="password_changed", at=now,
                                 detail=f"{account.username} sessions_ended={ended}")
                    print(f"account {account.username}: password changed, {ended} session(s) ended")
                elif args.action == "totp":
                    account.totp_secret = account.totp_last_step = None
                    audit.record(session, actor=actor, action="totp_disabled", at=now, detail=account.username)
                    print(f"account {account.username}: two-step sign-in off")
                else:
                    account.active = False
                    await accounts.end_sessions(session, account.id)
                    audit.record(session, actor=actor, action="account_disabled", at=now, detail=account.username)
                    print(f"account {account.username}: disabled")
        except accounts.AccountError as exc:
            print(f"siaga: {exc}", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()
        return 0

    return asyncio.run(main())


async def _enrol_totp(sessions: Any, account: Any, actor: str, now: datetime) -> int:
    """Show a new secret once (QR code and otpauth URI), then turn it on only after the app's first code works;
    the account's open sessions end (they were opened without it)."""
    import io

    import qrcode

    from core import accounts, audit
    from core.models import Account

    secret = accounts.new_totp_secret()
    uri = accounts.totp_uri(secret, account.username)
    qr = qrcode.QRCode(border=2)
    qr.add_data(uri)
    picture = io.StringIO()
    qr.print_ascii(out=picture, invert=True)
    print(f"Scan this with an authenticator app (shown only now) for {account.username}:")
    print(picture.getvalue())
    print(uri)
    print("code from the app: ", end="", flush=True)
    code = sys.stdin.readline().strip()
    step = accounts.totp_step(secret, code, datetime.now(UTC))
    if step is None:
        print("siaga: wrong code; two-step sign-in stays as it was", file=sys.stderr)
        return 1
    async with sessions() as session, session.begin():
        row = await session.get(Account, account.id)
        row.totp_secret, row.totp_last_step = secret, step
        await accounts.end_sessions(session, row.id)
        audit.record(session, actor=actor, action="totp_enrolled", at=now, detail=row.username)
    print(f"account {account.username}: two-step sign-in on")
    return 0


def _ask_password() -> str:
    """Twice, without echo on a terminal; from two lines of standard input otherwise (scripts, tests)."""
    import getpass
    if sys.stdin.isatty():
        first, second = getpass.getpass("password (12+ characters): "), getpass.getpass("again: ")
    else:
        first, second = sys.stdin.readline().rstrip("\n"), sys.stdin.readline().rstrip("\n")
    if second != first:
        print("siaga: the passwords differ", file=sys.stderr)
        raise SystemExit(1)
    return first


def cmd_audit(args: argparse.Namespace) -> int:
    """Print the audit trail, oldest first: time (UTC), who, what, case, detail, address."""
    from core import audit
    from core.db import make_engine, make_sessionmaker

    settings = load_settings()
    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            print(f"siaga: --since: not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM): {args.since!r}", file=sys.stderr)
            return 1
        since = since if since.tzinfo else since.replace(tzinfo=UTC)

    async def main() -> int:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                for e in await audit.entries(session, since, args.who, args.limit):
                    print(f"{e.at.astimezone(UTC).isoformat(timespec='seconds')}\t{e.actor}\t{e.action}\t"
                          f"{e.ticket or (e.case_id if e.case_id is not None else '-')}\t{e.detail or '-'}\t"
                          f"{e.address or '-'}")
        finally:
            await engine.dispose()
        return 0

    return asyncio.run(main())


def add_parsers(sub: Any) -> None:
    """`siaga account …` and `siaga audit`."""
    account = sub.add_parser("account", help="dashboard accounts").add_subparsers(dest="action", required=True)
    add = account.add_parser("add", help="create an account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=["operator", "leader", "admin"], required=True)
    add.add_argument("--name", help="shown on the dashboard and on the case timeline")
    add.add_argument("--can-act", dest="can_act", action="store_true", default=None,
                     help="may verify, reject and close from the dashboard (operators by default)")
    add.add_argument("--read-only", dest="can_act", action="store_false", help="may only read")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(func=cmd_account)
    passwd = account.add_parser("passwd", help="set a new password (asks twice); the account's sessions end")
    passwd.add_argument("username")
    passwd.set_defaults(func=cmd_account)
    totp = account.add_parser("totp", help="turn on two-step sign-in: shows a QR code once, asks for a code")
    totp.add_argument("username")
    totp.add_argument("--disable", action="store_true", help="turn two-step sign-in off")
    totp.set_defaults(func=cmd_account)
    account.add_parser("list", help="list accounts").set_defaults(func=cmd_account)
    disable = account.add_parser("disable", help="disable an account (its sessions end)")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_account)
    audit = sub.add_parser("audit", help="print the audit trail (sign-ins, case views, actions, exports, commands)")
    audit.add_argument("--since", help="from this date or time (UTC), e.g. 2026-12-01 or 2026-12-01T08:00")
    audit.add_argument("--who", help="only this account (op1) or command-line user (cli:root)")
    audit.add_argument("--limit", type=int, default=1000, help="at most this many, the newest (default 1000)")
    audit.set_defaults(func=cmd_audit)

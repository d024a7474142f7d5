"""`siaga`: the one console script — check a config, migrate, run web or worker."""
from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from core.config import ConfigError, load_config
from core.settings import SettingsError, load_settings


def cmd_config_check(args) -> int:
    settings_path = args.file or load_settings().siaga_config
    try:
        config = load_config(settings_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    for warning in config.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{settings_path}: ok ({len(config.agencies)} agencies, {len(config.incident_types)} incident types)")
    return 0


def cmd_migrate(args) -> int:
    from alembic import command
    from alembic.config import Config

    settings = load_settings()
    _ensure_sqlite_dir(settings.database_url)
    cfg = Config(args.alembic_ini)
    cfg.attributes["database_url"] = settings.database_url
    command.upgrade(cfg, "head")
    return 0


def cmd_web(args) -> int:
    import uvicorn

    from bots.app import create_app
    from bots.logging import configure

    settings, config = _load()
    configure(settings.log_level)
    _ensure_sqlite_dir(settings.database_url)
    app = create_app(settings, config)
    uvicorn.run(app, host=args.host, port=args.port or settings.port, log_config=None, access_log=False,
                proxy_headers=True)
    return 0


def cmd_worker(args) -> int:
    from bots.app import build_deps, stop_deps
    from bots.logging import configure
    from bots.pipeline.worker import Worker

    settings, config = _load()
    configure(settings.log_level)

    async def main() -> None:
        deps = build_deps(settings, config)
        for channel in deps.channels.values():
            await channel.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await Worker(deps).run(stop)
        finally:
            await stop_deps(deps)

    asyncio.run(main())
    return 0


def cmd_account(args) -> int:
    """Dashboard accounts: add, passwd (password from a prompt, or two lines on standard input), totp, list, disable.
    Every change is written to the audit trail as `cli:<OS user>`."""
    from sqlalchemy import select

    from core import accounts, audit
    from core.db import make_engine, make_sessionmaker
    from core.models import Account

    settings = load_settings()
    _log_to_stderr(settings)
    actor = _cli_actor()
    if args.action == "add":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else _ask_password()
    elif args.action == "passwd":
        password = _ask_password()

    async def main() -> int:
        from datetime import datetime, timezone

        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        now = datetime.now(timezone.utc)
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
                account = await accounts.find(session, args.username)
            if account is None:
                print(f"siaga: no account {args.username!r}", file=sys.stderr)
                return 1
            if args.action == "totp" and not args.disable:
                return await _enrol_totp(sessions, account, actor, now)
            async with sessions() as session, session.begin():
                account = await session.get(Account, account.id)
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


async def _enrol_totp(sessions, account, actor: str, now) -> int:
    """Show a new secret once (QR code and otpauth URI), then turn it on only after the app's first code works;
    the account's open sessions end (they were opened without it)."""
    import io
    from datetime import datetime, timezone

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
    step = accounts.totp_step(secret, code, datetime.now(timezone.utc))
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


def _log_to_stderr(settings) -> None:
    """Commands that write audit entries log them as JSON on stderr; stdout stays the command's answer."""
    from bots.logging import configure
    configure(settings.log_level)


def _cli_actor() -> str:
    """Who ran a command, for the audit trail: `cli:<OS user>`."""
    import getpass
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:?"


def cmd_audit(args) -> int:
    """Print the audit trail, oldest first: time (UTC), who, what, case, detail, address."""
    from datetime import datetime, timezone

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
        since = since if since.tzinfo else since.replace(tzinfo=timezone.utc)

    async def main() -> int:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session:
                for e in await audit.entries(session, since, args.who, args.limit):
                    print(f"{e.at.astimezone(timezone.utc).isoformat(timespec='seconds')}\t{e.actor}\t{e.action}\t"
                          f"{e.ticket or (e.case_id if e.case_id is not None else '-')}\t{e.detail or '-'}\t"
                          f"{e.address or '-'}")
        finally:
            await engine.dispose()
        return 0

    return asyncio.run(main())


def cmd_privacy(args) -> int:
    """A reporter's data on request (export or erase), or the retention pass now."""
    import json
    from datetime import datetime, timezone

    from core import audit, retention
    from core.db import make_engine, make_sessionmaker

    settings, config = _load()
    _log_to_stderr(settings)
    actor = _cli_actor()

    async def main() -> int:
        engine = make_engine(settings.database_url)
        now = datetime.now(timezone.utc)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                if args.action == "sweep":
                    swept = vars(await retention.sweep(session, now, config.privacy.retention_days,
                                                       audit_days=config.privacy.audit_days))
                    audit.record(session, actor=actor, action="privacy_sweep", at=now,
                                 detail=f"cases={swept['cases']} reporters={swept['reporters']}")
                    staged = await retention.sweep_staging(session, now, config.privacy.staging_minutes,
                                                           config.web.window_minutes)  # unattached photos too
                    print(json.dumps({**swept, **{f"staging_{k}": v for k, v in vars(staged).items()}}))
                    return 0
                reporter = await retention.find_reporter(session, args.channel, args.id.removeprefix("+"))
                if reporter is None:
                    print(f"siaga: no reporter {args.channel}:{args.id}", file=sys.stderr)
                    return 1
                # The entry names the reporter by our row id only: their phone number or chat id stays out.
                audit.record(session, actor=actor, action=f"privacy_{args.action}", at=now,
                             detail=f"{args.channel} reporter={reporter.id}" + (" to_file" if getattr(args, "out", None)
                                                                                 else ""))
                if args.action == "export":
                    text = json.dumps(await retention.export(session, reporter), ensure_ascii=False, indent=2)
                    if args.out:
                        write_private(args.out, text)
                    else:
                        print(text)
                    return 0
                erased, still_open = await retention.erase(session, reporter, now)
                print(f"{erased} case(s) anonymised" + (f"; {still_open} still open: run again once they are closed"
                                                         if still_open else "; reporter forgotten"))
                return 0 if not still_open else 3
        finally:
            await engine.dispose()

    return asyncio.run(main())


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


def _load():
    """Settings and deployment file, or exit with one line naming what is wrong."""
    from bots.secret_key import load_secret_key
    try:
        settings = load_settings()
        load_secret_key(settings)  # web and worker refuse to start without it (the embedded default makes one)
        return settings, load_config(settings.siaga_config)
    except (SettingsError, ConfigError) as exc:
        print(f"siaga: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        from pathlib import Path
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # mode: only when it is new


def write_private(path: str, text: str) -> None:
    """Write a file only its owner can read (0600): exports carry personal data."""
    import os
    import stat

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT; tighten it (not /dev/stdout)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="siaga", description="Siaga112 emergency reporting gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    config = sub.add_parser("config", help="deployment file tools").add_subparsers(dest="sub", required=True)
    check = config.add_parser("check", help="validate a deployment file (exit 1 with the reason)")
    check.add_argument("file", nargs="?")
    check.set_defaults(func=cmd_config_check)
    migrate = sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    migrate.add_argument("--alembic-ini", default="alembic.ini")
    migrate.set_defaults(func=cmd_migrate)
    web = sub.add_parser("web", help="serve HTTP (webhooks, health, metrics); also the worker when REDIS_URL is unset")
    web.add_argument("--host", default="0.0.0.0")
    web.add_argument("--port", type=int, default=None)
    web.set_defaults(func=cmd_web)
    worker = sub.add_parser("worker", help="run the background worker: inbox, outbound sends, timers")
    worker.set_defaults(func=cmd_worker)
    account = sub.add_parser("account", help="dashboard accounts").add_subparsers(dest="action", required=True)
    add = account.add_parser("add", help="create an account (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=["operator", "leader"], required=True)
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
    privacy = sub.add_parser("privacy", help="personal data: export or erase one reporter's, run the retention pass"
                             ).add_subparsers(dest="action", required=True)
    for name, text in (("export", "print everything stored about a reporter as JSON"),
                       ("erase", "anonymise a reporter's closed cases and forget them")):
        one = privacy.add_parser(name, help=text)
        one.add_argument("channel", choices=["telegram", "whatsapp", "web"])
        one.add_argument("id", help="Telegram user id, WhatsApp number (62…) or web chat id")
        if name == "export":
            one.add_argument("--out", help="write to this file instead of standard output")
        one.set_defaults(func=cmd_privacy)
    privacy.add_parser("sweep", help="run the retention pass now (the worker runs it nightly)").set_defaults(
        func=cmd_privacy)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"siaga: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

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
    from bots.runtime.worker import Worker

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
    """Dashboard accounts: add (password from a prompt or --password-stdin), list, disable."""
    from sqlalchemy import select

    from core import accounts
    from core.db import make_engine, make_sessionmaker
    from core.models import Account

    settings = load_settings()
    if args.action == "add":
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else _ask_password()

    async def main() -> int:
        engine = make_engine(settings.database_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                if args.action == "add":
                    account = await accounts.create(session, args.username, password, args.role, args.name or "",
                                                    can_act=args.can_act)
                    print(f"account {account.username}: {account.role}, "
                          f"{'may act on cases' if account.can_act else 'read only'}")
                elif args.action == "list":
                    for a in (await session.execute(select(Account).order_by(Account.username))).scalars():
                        state = "active" if a.active else "disabled"
                        print(f"{a.username}\t{a.role}\t{'act' if a.can_act else 'read'}\t{state}\t{a.name}")
                else:
                    account = (await session.execute(select(Account).where(
                        Account.username == args.username.lower()))).scalar_one_or_none()
                    if account is None:
                        print(f"siaga: no account {args.username!r}", file=sys.stderr)
                        return 1
                    account.active = False
                    print(f"account {account.username}: disabled")
        except accounts.AccountError as exc:
            print(f"siaga: {exc}", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()
        return 0

    return asyncio.run(main())


def cmd_privacy(args) -> int:
    """A reporter's data on request (export or erase), or the retention pass now."""
    import json
    from datetime import datetime, timezone

    from core import retention
    from core.db import make_engine, make_sessionmaker

    settings, config = _load()

    async def main() -> int:
        engine = make_engine(settings.database_url)
        now = datetime.now(timezone.utc)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                if args.action == "sweep":
                    print(json.dumps(vars(await retention.sweep(session, now, config.privacy.retention_days))))
                    return 0
                reporter = await retention.find_reporter(session, args.channel, args.id.removeprefix("+"))
                if reporter is None:
                    print(f"siaga: no reporter {args.channel}:{args.id}", file=sys.stderr)
                    return 1
                if args.action == "export":
                    text = json.dumps(await retention.export(session, reporter), ensure_ascii=False, indent=2)
                    if args.out:
                        with open(args.out, "w", encoding="utf-8") as handle:
                            handle.write(text)
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
    import getpass
    first = getpass.getpass("password (10+ characters): ")
    if getpass.getpass("again: ") != first:
        print("siaga: the passwords differ", file=sys.stderr)
        raise SystemExit(1)
    return first


def _load():
    """Settings and deployment file, or exit with one line naming what is wrong."""
    try:
        settings = load_settings()
        return settings, load_config(settings.siaga_config)
    except (SettingsError, ConfigError) as exc:
        print(f"siaga: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        from pathlib import Path
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


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
    account.add_parser("list", help="list accounts").set_defaults(func=cmd_account)
    disable = account.add_parser("disable", help="disable an account (its sessions end)")
    disable.add_argument("username")
    disable.set_defaults(func=cmd_account)
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

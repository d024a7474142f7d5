"""`siaga`: the one console script — check a config, migrate, run web or worker; accounts, audit and privacy
commands live in bots/cli_accounts.py and bots/cli_privacy.py."""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from bots import cli_accounts, cli_backup, cli_doctor, cli_drill, cli_privacy
from bots.cli_support import ensure_sqlite_dir, load
from core.config import ConfigError, load_config
from core.settings import SettingsError, load_settings


def cmd_config_check(args: argparse.Namespace) -> int:
    settings_path = args.file or load_settings().siaga_config
    try:
        config = load_config(settings_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    for warning in config.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{settings_path}: ok ({len(config.agencies)} agencies, {len(config.incident_types)} incident types)")
    area = config.operators.routing == "area"
    for desk in config.operators.desks:  # the operators' further groups, and what reaches each
        share = (", ".join(desk.kecamatan) or "-") if area else "a share of all (round_robin)"
        print(f"desk {desk.name!r}: group {desk.telegram_chat_id}, reports: {share}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic import command
    from alembic.config import Config

    settings = load_settings()
    if args.check:  # report only: nothing is created or changed
        from bots.schema_version import check
        return check(settings.database_url, args.alembic_ini)
    ensure_sqlite_dir(settings.database_url)
    cfg = Config(args.alembic_ini)
    cfg.attributes["database_url"] = settings.database_url
    command.upgrade(cfg, "head")
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    import uvicorn

    from bots.app import create_app
    from bots.logging import configure

    settings, config = load()
    configure(settings.log_level)
    ensure_sqlite_dir(settings.database_url)
    app = create_app(settings, config, worker_child=settings.embedded)  # the worker's loops in one child process
    uvicorn.run(app, host=args.host, port=args.port or settings.port, log_config=None, access_log=False,
                proxy_headers=True, timeout_graceful_shutdown=5)  # open dashboard streams must not hold a restart
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from bots.app import build_deps, stop_deps
    from bots.logging import configure
    from bots.pipeline.child_worker import WAKE_FD_ENV, WokenCoordinator
    from bots.pipeline.intake_gate import IntakeGate
    from bots.pipeline.worker import Worker

    settings, config = load()
    configure(settings.log_level)
    wake_fd = os.environ.get(WAKE_FD_ENV)  # set by an embedded `siaga web` for its own worker child

    async def main() -> None:
        coord = WokenCoordinator(int(wake_fd)) if wake_fd else None
        gate = IntakeGate.beside(settings.database_url) if wake_fd else None  # the web's writes go first
        deps = build_deps(settings, config, coord=coord, before_write=gate.yield_to_intake if gate else None)
        for channel in deps.channels.values():
            await channel.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if coord is not None:
            coord.listen(stop)
        try:
            await Worker(deps).run(stop)
        finally:
            await stop_deps(deps)

    asyncio.run(main())
    return 0


def parser() -> argparse.ArgumentParser:
    """Every command and its options (`siaga --help`)."""
    top = argparse.ArgumentParser(prog="siaga", description="Siaga112 emergency reporting gateway")
    sub = top.add_subparsers(dest="command", required=True)
    config = sub.add_parser("config", help="deployment file tools").add_subparsers(dest="sub", required=True)
    check = config.add_parser("check", help="validate a deployment file (exit 1 with the reason)")
    check.add_argument("file", nargs="?")
    check.set_defaults(func=cmd_config_check)
    migrate = sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    migrate.add_argument("--alembic-ini", default="alembic.ini")
    migrate.add_argument("--check", action="store_true",
                         help="only say whether migrations are pending (exit 0 at head, 1 pending, 2 cannot tell)")
    migrate.set_defaults(func=cmd_migrate)
    web = sub.add_parser("web", help="serve HTTP (webhooks, health, metrics); also the worker when REDIS_URL is unset")
    web.add_argument("--host", default="0.0.0.0")
    web.add_argument("--port", type=int, default=None)
    web.set_defaults(func=cmd_web)
    worker = sub.add_parser("worker", help="run the background worker: inbox, outbound sends, timers")
    worker.set_defaults(func=cmd_worker)
    cli_accounts.add_parsers(sub)
    cli_privacy.add_parsers(sub)
    cli_drill.add_parsers(sub)
    cli_backup.add_parsers(sub)
    cli_doctor.add_parsers(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"siaga: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

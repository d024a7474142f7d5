"""`siaga privacy`: a reporter's data on request (export or erase), or the retention pass now."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import stat
import sys
from datetime import UTC, datetime
from typing import Any

from bots.cli_support import cli_actor, load, log_to_stderr


def cmd_privacy(args: argparse.Namespace) -> int:
    """A reporter's data on request (export or erase), or the retention pass now."""
    from core import audit, retention
    from core.db import make_engine, make_sessionmaker

    settings, config = load()
    log_to_stderr(settings)
    actor = cli_actor()

    async def main() -> int:
        engine = make_engine(settings.database_url)
        now = datetime.now(UTC)
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


def write_private(path: str, text: str) -> None:
    """Write a file only its owner can read (0600): exports carry personal data."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT; tighten it (not /dev/stdout)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def add_parsers(sub: Any) -> None:
    """`siaga privacy export|erase|sweep`."""
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

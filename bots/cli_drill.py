"""`siaga drill start|stop|status`: rehearse with reports marked LATIHAN (core/drills.py)."""
from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime

from bots.cli_support import cli_actor, load, log_to_stderr


def cmd_drill(args: argparse.Namespace) -> int:
    """Start, stop or show the drill; the answer in the deployment's language, refusals on stderr with exit 1."""
    from core import audit, drills
    from core.db import make_engine, make_sessionmaker
    from core.i18n import t
    from workflows.drill_text import describe

    settings, config = load()
    log_to_stderr(settings)
    lang, actor = config.region.default_language, cli_actor()

    async def main() -> int:
        engine = make_engine(settings.database_url)
        now = datetime.now(UTC)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                if args.action == "start":
                    try:
                        drill = await drills.start(session, by=actor, now=now, minutes=args.minutes,
                                                   testers=args.tester or [])
                    except drills.DrillError as exc:
                        print(f"siaga: {t(lang, exc.key, **exc.params)}", file=sys.stderr)
                        return 1
                    audit.record(session, actor=actor, action="drill_start", at=now,
                                 detail=f"minutes={args.minutes or '-'} testers={len(drill.testers or [])}")
                    print(t(lang, "drill.started"))
                elif args.action == "stop":
                    if await drills.stop(session, now) is None:
                        print(t(lang, "drill.none"))
                        return 0
                    audit.record(session, actor=actor, action="drill_stop", at=now)
                    print(t(lang, "drill.stopped"))
                print(describe(await drills.active(session, now), config, lang))
                return 0
        finally:
            await engine.dispose()

    return asyncio.run(main())


def add_parsers(sub: argparse._SubParsersAction) -> None:
    drill = sub.add_parser("drill", help="rehearse: mark new reports as LATIHAN (start, stop, status)")
    actions = drill.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="start a drill for every report, or only the listed testers")
    start.add_argument("--minutes", type=int, default=None, help="end by itself after this long (default: at stop)")
    start.add_argument("--tester", action="append", metavar="CHANNEL:ID",
                       help="only reports from this chat, e.g. telegram:5001 (repeatable; default: every report)")
    actions.add_parser("stop", help="stop the running drill")
    actions.add_parser("status", help="whether a drill runs, until when and for whom")
    drill.set_defaults(func=cmd_drill)

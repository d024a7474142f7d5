"""`siaga doctor`: one command that says what is wrong with an installation and how to fix it."""
from __future__ import annotations

import argparse
import asyncio
import json

from bots import doctor


def cmd_doctor(args: argparse.Namespace) -> int:
    """One line per check (or JSON); exit 1 when any check failed, 0 otherwise (warnings allowed)."""
    options = doctor.Options(alembic_ini=args.alembic_ini, backup_dir=args.backup_dir, timeout=args.timeout,
                             disk_warn_bytes=args.disk_warn_mib * doctor.MIB,
                             disk_fail_bytes=args.disk_fail_mib * doctor.MIB)
    findings = asyncio.run(doctor.examine(options))
    code = doctor.exit_code(findings)
    if args.json:
        print(json.dumps({"ok": code == 0, "checks": doctor.as_json(findings)}, ensure_ascii=False, indent=2))
        return code
    for finding in findings:
        print(finding.line())
    failed = sum(f.status == "fail" for f in findings)
    warned = sum(f.status == "warn" for f in findings)
    print(f"{failed} problem(s), {warned} warning(s)" if failed or warned else "everything looks right")
    return code


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the doctor command."""
    cmd = sub.add_parser("doctor", help="check settings, deployment file, database, Redis, channels, time zone "
                                        "and disk; say how to fix each problem (exit 1 on any)")
    cmd.add_argument("--json", action="store_true", help="print the checks as JSON")
    cmd.add_argument("--alembic-ini", default="alembic.ini")
    cmd.add_argument("--backup-dir", default=doctor.BACKUP_DIR, help="where `siaga backup` writes (for disk space)")
    cmd.add_argument("--timeout", type=float, default=5.0, help="seconds for each remote call (default 5)")
    cmd.add_argument("--disk-warn-mib", type=int, default=1024, help="warn under this much free space (1024)")
    cmd.add_argument("--disk-fail-mib", type=int, default=200, help="fail under this much free space (200)")
    cmd.set_defaults(func=cmd_doctor)

"""`siaga backup` and `siaga restore`: a copy of the database (cases, timelines, photos) to keep off the server;
the work itself is in bots/backup.py."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.settings import load_settings

DEFAULT_DIR = "var/backups"


def cmd_backup(args: argparse.Namespace) -> int:
    """Write one verified copy, print its path, then rotate; a failure is one line on stderr and exit 1."""
    from bots.backup import BackupError, backup

    try:
        written = backup(load_settings().database_url, Path(args.to), keep_days=args.keep_days)
    except BackupError as exc:
        print(f"siaga: backup failed: {exc}", file=sys.stderr)
        return 1
    print(written)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Put a backup into DATABASE_URL's database (stop the gateway first; `siaga migrate` after)."""
    from bots.backup import BackupError, restore

    try:
        where = restore(load_settings().database_url, Path(args.file), force=args.force)
    except BackupError as exc:
        print(f"siaga: restore failed: {exc}", file=sys.stderr)
        return 1
    print(f"restored {args.file} into {where}; now run `siaga migrate`, then start the gateway")
    return 0


def _days(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """`siaga backup [--to DIR] [--keep-days N]` and `siaga restore FILE [--force]`."""
    backup = sub.add_parser("backup", help="copy the database (pg_dump, or SQLite's online backup) to DIR, "
                            "verify it, print its path")
    backup.add_argument("--to", default=DEFAULT_DIR, metavar="DIR", help=f"where to write (default {DEFAULT_DIR})")
    backup.add_argument("--keep-days", type=_days, default=None, metavar="N",
                        help="then delete this command's own copies in DIR older than N days")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="put a backup into DATABASE_URL's database (refuses one holding cases)")
    restore.add_argument("file", metavar="FILE", help="a siaga-….pgdump or siaga-….sqlite3 file")
    restore.add_argument("--force", action="store_true",
                         help="replace a database that already holds cases, or whose gateway seems to run")
    restore.set_defaults(func=cmd_restore)

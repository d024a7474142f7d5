"""`siaga backup` and `siaga restore`: a copy of the database (cases, timelines, photos) the regency can keep off the server."""
from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the backup commands (filled in by the backup work of issue 17)."""

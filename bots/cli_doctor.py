"""`siaga doctor`: one command that says what is wrong with an installation and how to fix it."""
from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register the doctor command (filled in by the doctor work of issue 17)."""

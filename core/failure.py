"""Describe a failure for logs and the inbox without the data that caused it (SQL parameters are citizen text).

A database error's text repeats the statement and its parameters — a description, a name, a number — and
a ValueError often quotes the offending value. `describe` keeps what helps an operator (the exception type
and the fixed wording of the message) and drops values: anything after the first `: `, quoted parts,
SQLAlchemy's `[SQL: …]` / `[parameters: …]` blocks, long digit runs; at most 120 characters.
"""
from __future__ import annotations

import re

MAX_CHARS = 120
_WRAPPER = re.compile(r"^\([\w.]+\)\s*(?:<class '[\w.]+'>:\s*)?")  # "(sqlalchemy…Error) <class 'asyncpg…'>: "
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|'.*|\".*")
_DIGITS = re.compile(r"\d{3,}")


def scrubbed(exc: BaseException) -> str:
    """The message of `exc` with every value taken out (see the module docstring)."""
    text = str(exc).split("\n", 1)[0]
    for marker in ("[SQL:", "[parameters:", "(Background on this error"):
        text = text.split(marker, 1)[0]
    text = _WRAPPER.sub("", text.strip())
    text = text.split(": ", 1)[0]
    text = _DIGITS.sub("...", _QUOTED.sub("...", text))
    text = "".join(ch if ch.isascii() and ch.isprintable() else "?" for ch in text).strip()
    return text[:MAX_CHARS]


def describe(exc: BaseException) -> str:
    """`Type: scrubbed message` (or just the type), safe for a log line or a row operators see."""
    message = scrubbed(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__

"""The one grammar of the button data and numbers the bot hands out, checked before anything is built from them.

Every button the bot offers carries short ASCII data of the shape `word[:segment]…` — `type:fire`,
`rate:12:5`, `op:dupto:12:7`, `tk:eta:3:15`, `lang:id`, `skip` — at most 64 bytes (Telegram's callback
limit). The channel adapters drop any pressed data outside this grammar, and digit segments beyond the
database's integer range, so no flow ever turns a forged press into an absurd number.
"""
from __future__ import annotations

import math
import re

MAX_BYTES = 64  # Telegram's callback_data limit; our WhatsApp and web button ids are the same strings
MAX_ID = 2**31 - 1  # case and task ids are PostgreSQL `integer` columns
_SHAPE = re.compile(r"[a-z][a-z_]{0,15}(?::[a-z0-9_]{1,32}){0,3}")


def valid(data: object) -> bool:
    """True for data the bot could have offered: the grammar above, digit segments within MAX_ID."""
    if not isinstance(data, str) or not 0 < len(data) <= MAX_BYTES or not data.isascii():
        return False
    if _SHAPE.fullmatch(data) is None:
        return False
    return all(int(part) <= MAX_ID for part in data.split(":")[1:] if part.isdigit())


def number(text: str, low: int, high: int) -> int | None:
    """`text` as an int within low..high, or None; reads no more digits than `high` has (never a huge int)."""
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > len(str(high)):
        return None
    value = int(text)
    return value if low <= value <= high else None


def valid_point(latitude: float, longitude: float) -> bool:
    """A place on Earth: finite, |latitude| ≤ 90 and |longitude| ≤ 180."""
    return math.isfinite(latitude) and math.isfinite(longitude) and abs(latitude) <= 90 and abs(longitude) <= 180

"""Ticket numbers a reporter can read aloud over the phone: prefix, dash, six digits in pairs."""
from __future__ import annotations

import re
import secrets

PATTERN = re.compile(r"^([A-Z0-9]{2,4})-?(\d{2})[- ]?(\d{2})[- ]?(\d{2})$")


def new_ticket(prefix: str, rand: secrets.SystemRandom | None = None) -> str:
    """Draw a random ticket like `SMP-48-29-13`; digits only after the prefix, so no 0/O or 1/I confusion."""
    rng = rand or secrets.SystemRandom()
    digits = f"{rng.randrange(10**6):06d}"
    return f"{prefix}-{digits[:2]}-{digits[2:4]}-{digits[4:]}"


def normalize_ticket(text: str, prefix: str) -> str | None:
    """Accept what people type (`smp482913`, `48 29 13`) and return the canonical ticket, or None."""
    cleaned = text.strip().upper().replace(" ", "")
    if cleaned.isdigit() and len(cleaned) == 6:
        cleaned = prefix + cleaned
    m = PATTERN.match(cleaned.replace("-", ""))
    if m is None:
        m = PATTERN.match(cleaned)
    if m is None:
        return None
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}-{m.group(4)}"

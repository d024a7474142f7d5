"""Make parsed JSON storable in every database we run on, and say what had to change.

Python's json module reads `NaN`, `Infinity` and numbers like `1e400` (as inf), which PostgreSQL's `json`
type refuses; strings may carry `\\u0000` or lone surrogates, which PostgreSQL cannot turn back into text.
A platform re-sends a delivery it did not get a 2xx for (Telegram for a day, holding back the chat; Meta
for 7 days), so such a delivery is stored in this cleaned form, parked with the reason, and acknowledged.
"""
from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 64  # real updates nest about 6 deep; deeper parts are cut (json.loads allows ~1000)
MAX_INT_DIGITS = 32  # larger integers are no id of any platform; int() of 4300+ digits even raises


class Cleaner:
    """Collects what `clean` and the json hooks had to change (the reasons a delivery is parked)."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def note(self, problem: str) -> None:
        if problem not in self.problems:
            self.problems.append(problem)

    # hooks for json.loads: they see the number's text before Python turns it into something odd

    def parse_int(self, text: str) -> int | None:
        if len(text.lstrip("-")) > MAX_INT_DIGITS:
            self.note("integer too large")
            return None
        return int(text)

    def parse_float(self, text: str) -> float | None:
        value = float(text)
        if not math.isfinite(value):
            self.note("number out of range")
            return None
        return value

    def parse_constant(self, text: str) -> None:
        self.note("NaN or Infinity")
        return None

    def clean(self, value: Any, depth: int = 0) -> Any:
        """A copy of `value` with every string made storable text and nothing nested past MAX_DEPTH."""
        if depth > MAX_DEPTH:
            self.note("nested too deep")
            return None
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, float) and not math.isfinite(value):
            self.note("NaN or Infinity")
            return None
        if isinstance(value, dict):
            return {self._text(str(k)): self.clean(v, depth + 1) for k, v in value.items()}
        if isinstance(value, list):
            return [self.clean(v, depth + 1) for v in value]
        return value

    def _text(self, text: str) -> str:
        if "\x00" in text:
            self.note("NUL character")
            text = text.replace("\x00", "\ufffd")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            self.note("lone surrogate")
            text = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
        return text

    @property
    def reason(self) -> str | None:
        return ", ".join(self.problems) or None

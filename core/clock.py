"""Time as a port, so tests can move it forward instead of sleeping."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """Real time plus an offset that tests move forward: minutes pass at once, seconds still flow."""

    def __init__(self) -> None:
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, **delta: float) -> datetime:
        self._offset += timedelta(**delta)
        return self.now()


def next_local_time(zone: str, now: datetime, hhmm: str) -> datetime:
    """The next wall-clock time `hhmm` in `zone` strictly after `now` (daily jobs: digest, retention)."""
    tz = ZoneInfo(zone)
    hour, minute = map(int, hhmm.split(":"))
    at = time(hour, minute)
    local = now.astimezone(tz)
    due = datetime.combine(local.date(), at, tz)
    return due if due > now else datetime.combine(local.date() + timedelta(days=1), at, tz)

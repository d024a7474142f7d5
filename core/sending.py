"""How a channel says a send failed, so the sender can retry, wait or give up without knowing the platform."""
from __future__ import annotations


class RetryLater(Exception):
    """The platform asked us to wait (Telegram 429 `retry_after`, WhatsApp 130429…)."""

    def __init__(self, after: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.after = after


class Undeliverable(Exception):
    """Retrying will not help: blocked bot, chat not found, message rejected."""


class MediaGone(Exception):
    """The file a person sent cannot be fetched and never will be (unknown or expired id): ask for it again."""

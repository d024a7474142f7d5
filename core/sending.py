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


class AuthRevoked(Exception):
    """The platform refused our credentials (Telegram 401, Graph error 190): nothing goes out on this channel
    until someone renews the token, so the sender pauses the channel instead of retrying each message."""


class ServerError(Exception):
    """The platform answered 5xx: back off and retry; repeated ones are shown as the channel's trouble."""

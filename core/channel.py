"""The one port every messaging platform adapter fills, so the pipeline never asks which platform it talks to.

A send fails in one of the ways of core/sending.py: `RetryLater` (wait, then send again), `Undeliverable`
(give up: the case's timeline says who was not reached); anything else is network trouble, retried with
back-off. `fetch_media` raises `MediaGone` when the file will never come.

The 24-hour window: on some platforms (WhatsApp) a business may write freely only within 24 hours of the
person's last message; after that only an approved template may go out. Such a channel says
`needs_window = True`, and the sender tells it on every send whether the window is open (`window_open`).
Channels without a window (Telegram, the web chat) say False and ignore the flag.

Platform-only steps (Telegram's webhook and command registration) stay on the adapter, outside the port.
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from core.coordination import Limit
from core.messages import Inbound, Outbound
from core.sending import MediaGone, RetryLater, Undeliverable

__all__ = ["Channel", "MediaGone", "RetryLater", "Undeliverable"]


@runtime_checkable
class Channel(Protocol):
    """What the pipeline needs from a messaging platform adapter."""

    name: str  # the `Address.channel` it serves: "telegram", "whatsapp", "web"
    needs_window: bool  # free-form messages only within 24 h of the person's last message (see above)

    async def start(self) -> None:
        """Open connections before the first send or fetch."""

    async def stop(self) -> None:
        """Close them at shutdown."""

    def parse(self, payload: dict[str, Any]) -> Inbound | None:
        """A stored platform update as one inbound event; None for updates we do not act on."""

    async def fetch_media(self, file_id: str) -> bytes:
        """The bytes of a file a person sent; `MediaGone` when it cannot be fetched and never will be."""

    def limits(self, message: Outbound) -> list[Limit]:
        """The shared rate limits one send of `message` takes a slot of (per bot or number, chat, group)."""

    def is_group(self, chat_id: str) -> bool:
        """Whether the chat is a group (paced as one, the most urgent first): only the adapter knows its ids."""

    async def send(self, message: Outbound, photo: bytes | None, target: tuple[str, Outbound] | None = None, *,
                   window_open: bool = True) -> str | None:
        """Send `message` (with the photo's bytes when it has one), or with `target` (the platform's message id
        and the `Outbound` it showed) edit that message in place; the platform's id of the message to remember."""

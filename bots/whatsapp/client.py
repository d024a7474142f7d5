"""The WhatsApp channel: pywa_async performing rendered calls against the Graph API, errors mapped to retry/give-up."""
from __future__ import annotations

import httpx
from pywa.errors import AuthorizationError, ReEngagementMessage, ThrottlingError, WhatsAppError
from pywa_async import WhatsApp

from bots.whatsapp import parse as wa_parse
from bots.whatsapp.render import render
from core.config import Deployment
from core.coordination import Limit
from core.messages import Inbound, Outbound
from core.sending import AuthRevoked, MediaGone, RetryLater, ServerError, Undeliverable

RETRY_LATER = {4, 80007, 130429, 131048, 131056, 133016}
SERVER_TROUBLE = {1, 2, 131000, 131016}  # unknown error, service down, something went wrong, unavailable


class WhatsAppChannel:
    """The `Channel` port on the Cloud API (pywa)."""

    name = "whatsapp"
    needs_window = True  # free-form messages only within 24 h of the person's last message

    def __init__(self, token: str, phone_number_id: str, base_url: str, version: str, config: Deployment,
                 user_interval: float = 6.0) -> None:
        self.user_interval = user_interval
        self.session = httpx.AsyncClient(timeout=30)
        self.wa = WhatsApp(phone_id=phone_number_id, token=token, session=self.session, server=None,
                           api_version=version.lstrip("v"), validate_updates=False)
        self.session.base_url = f"{base_url.rstrip('/')}/{version}"  # pywa builds graph.facebook.com itself
        self.templates = {purpose: (tpl.name, tpl.language) for purpose, tpl in config.whatsapp.templates.items()}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.session.aclose()

    def parse(self, payload: dict) -> Inbound | None:
        return wa_parse.parse(payload)

    async def fetch_media(self, file_id: str) -> bytes:
        """The media id lives 7 days; its URL only 5 minutes and needs the bearer token, so resolve it now."""
        try:
            url = await self.wa.get_media_url(file_id)
        except WhatsAppError as exc:
            if exc.code == 100:  # "Object with ID … does not exist": the id is wrong or expired
                raise MediaGone(exc.message) from None
            raise
        return await self.wa.get_media_bytes(url=url.url)

    def is_group(self, chat_id: str) -> bool:
        """The Cloud API only talks to people: every chat is one person's."""
        return False

    def limits(self, message: Outbound) -> list[Limit]:
        """80 messages/s per business number; about one message per 6 s to one person."""
        spacing = self.user_interval * 1.1 + 0.1  # a margin: Meta measures arrival, not our start of sending
        return [Limit("wa:number", 80, 1.0, platform=True),
                Limit(f"wa:user:{message.to.id}", 1, spacing, platform=True)]

    async def send(self, message: Outbound, photo: bytes | None, target: tuple[str, Outbound] | None = None, *,
                   window_open: bool = True) -> str | None:
        """Perform the calls; WhatsApp cannot edit, so an edit goes out as a new message."""
        message_id = None
        try:
            for call in render(message, photo, window_open=window_open, templates=self.templates):
                sent = await getattr(self.wa, call.method)(**call.kwargs)
                message_id = getattr(sent, "id", message_id)
        except ReEngagementMessage:
            raise Undeliverable("outside the 24-hour window (131047)") from None
        except ThrottlingError as exc:
            raise RetryLater(6.0, f"whatsapp {exc.code}") from None
        except WhatsAppError as exc:
            if isinstance(exc, AuthorizationError) or exc.status_code == 401:  # 190: token expired or revoked
                raise AuthRevoked(f"whatsapp {exc.code}") from None
            if exc.code in SERVER_TROUBLE or (exc.status_code or 0) >= 500:
                raise ServerError(f"whatsapp {exc.code}") from None
            if exc.code in RETRY_LATER:
                raise RetryLater(6.0, f"whatsapp {exc.code}") from None
            raise Undeliverable(f"whatsapp {exc.code}") from None
        return str(message_id) if message_id is not None else None

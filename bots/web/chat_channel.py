"""The web chat as a channel: the page's posts become inbound events; sending is keeping the row for the page.

Adapters only translate: a stored payload becomes an `Inbound`, and an outbound message is "sent" by marking
its outbox row, which `GET /chat/api/messages` reads back to the browser.
"""
from __future__ import annotations

from core import button_data
from core.coordination import Limit
from core.messages import Address, GeoPoint, Inbound, Kind, MediaRef, Outbound

KINDS = {"text", "choice", "location", "photo"}


class WebChatChannel:
    """The `Channel` port for the browser chat: nothing to connect, nothing to pace, no window."""

    name = "web"
    needs_window = False

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def parse(self, payload: dict) -> Inbound | None:
        """The endpoints validated the payload; anything odd that still gets here is ignored."""
        try:
            return self._parse(payload)
        except (TypeError, ValueError, KeyError, AttributeError):
            return None

    def _parse(self, payload: dict) -> Inbound | None:
        who = Address("web", str(payload["chat"]))
        lang = payload.get("lang")
        origin = payload.get("origin")  # the keyed hash of the address the post came from (chat.py)
        common = dict(chat=who, sender=who, language_code=lang if isinstance(lang, str) else None,
                      origin=origin if isinstance(origin, str) else "")
        kind, text = payload.get("kind"), str(payload.get("text") or "").strip()
        if kind == "text" and text.startswith("/"):
            command, _, args = text[1:].partition(" ")
            return Inbound(kind=Kind.COMMAND, command=command.lower(), args=args.strip(), text=text, **common)
        if kind == "text":
            return Inbound(kind=Kind.TEXT, text=text, **common)
        if kind == "choice":
            choice = payload.get("choice")  # data the bot never offered (forged, absurd numbers) is dropped
            return Inbound(kind=Kind.CHOICE, choice=choice, **common) if button_data.valid(choice) else None
        if kind == "location":
            point = GeoPoint(float(payload["lat"]), float(payload["lon"]), _accuracy(payload.get("accuracy_m")))
            return Inbound(kind=Kind.LOCATION, location=point, **common) \
                if button_data.valid_point(point.latitude, point.longitude) else None
        if kind == "photo":
            media_id, problem = payload.get("media_id"), payload.get("problem")
            media = MediaRef("", media_id=media_id if isinstance(media_id, int) else None,
                             problem=problem if isinstance(problem, str) else None)
            if media.media_id is None and media.problem is None:
                return None
            return Inbound(kind=Kind.PHOTO, media=media, **common)
        return None

    async def fetch_media(self, file_id: str) -> bytes:
        raise LookupError("web chat photos are checked and stored when uploaded")

    def is_group(self, chat_id: str) -> bool:
        """A web chat is one browser: never a group, whatever characters its server-issued id has."""
        return False

    def limits(self, message: Outbound) -> list[Limit]:
        return []

    async def send(self, message: Outbound, photo: bytes | None, target: tuple[str, Outbound] | None = None, *,
                   window_open: bool = True) -> str | None:
        return "web"  # the page reads the row itself



def _accuracy(value: object) -> float | None:
    """The browser's accuracy radius in metres (chat.py bounded it); anything else is no accuracy."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

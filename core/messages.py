"""Channel-neutral inbound events and outbound messages: typed values, never platform text."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class Address:
    """A person or chat on one channel, written `telegram:5001` or `whatsapp:<id>`."""

    channel: str
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Address:
        channel, _, ident = text.partition(":")
        return cls(channel, ident)


@dataclass(frozen=True)
class GeoPoint:
    latitude: float
    longitude: float
    accuracy_m: float | None = None  # the radius the reporter's phone gave for its fix, when it gave one


@dataclass(frozen=True)
class MediaRef:
    """A file on the platform (`file_id`) and, once fetched, our stored copy (`media_id`) or the problem."""

    file_id: str
    size: int | None = None
    media_id: int | None = None
    problem: str | None = None


class Kind(StrEnum):
    TEXT = "text"
    COMMAND = "command"
    CHOICE = "choice"
    PHOTO = "photo"
    LOCATION = "location"
    CONTACT = "contact"
    VOICE = "voice"
    STICKER = "sticker"
    VIDEO = "video"
    DOCUMENT = "document"
    TIMER = "timer"
    OTHER = "other"


@dataclass(frozen=True)
class Inbound:
    """One thing a person did (or a timer that fired), already translated from the platform."""

    kind: Kind
    chat: Address
    sender: Address
    sender_name: str = ""
    language_code: str | None = None
    text: str = ""
    command: str = ""
    args: str = ""
    choice: str = ""
    callback_id: str = ""
    location: GeoPoint | None = None
    media: MediaRef | None = None
    phone: str = ""
    own_contact: bool = False  # a shared contact is the sender's own (Telegram: contact.user_id == from.id)
    timer: str = ""
    timer_payload: dict[str, Any] = field(default_factory=dict)
    is_private: bool = True
    origin: str = ""  # a public channel's pseudonym of the network address it came from (never the address)


@dataclass(frozen=True)
class Choice:
    """A button: `data` comes back in the CHOICE event, `label` is what the person reads."""

    data: str
    label: str
    short: str = ""  # at most 24 characters, for lists that cut longer labels (WhatsApp list rows)


class Priority:
    """Outbox order: callback answers first, then urgent cases, then the rest."""

    CALLBACK = 100
    URGENT = 50
    NORMAL = 10
    BACKGROUND = 5  # clock refreshes of cards: never ahead of a real message


@dataclass(frozen=True)
class Outbound:
    """One message to send; the channel renderer decides how choices and location requests look."""

    to: Address
    text: str = ""
    choices: tuple[Choice, ...] = ()
    request_location: bool = False
    location_label: str = ""
    request_contact: bool = False  # ask for the person's own number: Telegram's contact button, WhatsApp's request
    contact_label: str = ""
    menu_label: str = ""  # the button that opens a long list of choices (WhatsApp), in the reader's language
    remove_keyboard: bool = False
    photo_media_id: int | None = None
    location: GeoPoint | None = None
    answer_callback: str = ""
    priority: int = Priority.NORMAL
    ref: str = ""
    edit_of: str = ""
    force_reply: bool = False
    template: str = ""
    case_id: int | None = None
    columns: int = 1
    merge: str = ""  # notices of one kind still waiting for the same chat are joined into one message
    line: str = ""  # a card as one line of a list of waiting reports, sent instead of the card in a surge

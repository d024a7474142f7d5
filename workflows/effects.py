"""What a step returns: the new state, messages to send, domain commands and timers, all as data."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from core.messages import Outbound
from workflows.conversation_state import ConversationState


@dataclass(frozen=True)
class SubmitCase:
    """Create the case from the finished draft under the given ticket."""

    ticket: str
    incident_type: str
    urgent: bool
    language: str
    latitude: float | None
    longitude: float | None
    address_text: str | None
    description: str | None
    photo_media_id: int | None
    started_at: str
    desa_code: str | None = None  # where, in the regency's gazetteer (see Draft)
    kecamatan_code: str | None = None
    place_match: str | None = None
    place_distance_m: float | None = None
    location_accuracy_m: float | None = None


@dataclass(frozen=True)
class RateCase:
    """The reporter's 1–5 rating of a closed case of theirs."""

    case_id: int
    stars: int


@dataclass(frozen=True)
class CommentRating:
    case_id: int
    text: str


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class SetPhone:
    """The reporter's own call-back number, as +E.164 (a shared own contact or a typed Indonesian number)."""

    phone: str


@dataclass(frozen=True)
class StartTimer:
    """Fire `kind` for this conversation after `after`; the same `version` again re-arms the same row."""

    kind: str
    after: timedelta
    version: int
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class StepResult:
    """Built up by a step: `state` is the conversation after it (flows that keep none leave the default)."""

    state: ConversationState = field(default_factory=ConversationState)
    out: list[Outbound] = field(default_factory=list)
    commands: list[Any] = field(default_factory=list)
    timers: list[StartTimer] = field(default_factory=list)


def coalesce(out: list[Outbound]) -> list[Outbound]:
    """Join a plain text into the next text to the same chat: fewer messages on a slow network."""
    merged: list[Outbound] = []
    for message in out:
        prev = merged[-1] if merged else None
        if (prev is not None and prev.to == message.to and message.text and _plain(prev)
                and not message.answer_callback and not message.ref and not message.edit_of
                and message.photo_media_id is None
                and message.location is None):
            merged[-1] = replace(message, text=f"{prev.text}\n\n{message.text}",
                                 priority=max(prev.priority, message.priority))
        else:
            merged.append(message)
    return merged


def _plain(m: Outbound) -> bool:
    return bool(m.text) and not (m.choices or m.request_location or m.remove_keyboard or m.photo_media_id
                                 or m.location or m.answer_callback or m.ref or m.edit_of)

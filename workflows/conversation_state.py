"""The citizen conversation's state as types: the step it is at and the report being built, stored as JSON.

`to_json` writes the canonical shape (every key, always — except the keys added after 0008 (a draft's `flagged`,
`guess`, place and accuracy; the state's `phone_asked`, `page_lang`), written only when set, so rows of the 0008
shape stay canonical); `from_json` reads any earlier shape: missing keys take
their defaults, unknown keys are ignored, a value of the wrong type counts as missing. A step after `idle` always
has a draft and `idle` never has one, so a row that breaks this (or names a step we no longer have) loads as idle.
migrations/versions/0008_typed_conversation_state.py rewrote the stored rows into this shape.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Step(StrEnum):
    """Where the citizen is: idle, or the question the bot asked last."""

    IDLE = "idle"
    TYPE = "type"
    PHOTO = "photo"
    LOCATION = "location"
    DESCRIPTION = "description"  # "✏️ Ubah keterangan": the next text replaces the description
    CONFIRM = "confirm"
    GUESS = "guess"  # "Kebakaran? ✅ Ya · Pilih jenis lain": the type read from the citizen's words
    PLACE = "place"  # "Maksud Anda: Desa Pabian…? ✅ Ya · Bukan": a typed place found in the gazetteer
    PHONE = "phone"  # the optional call-back number


_STEP_VALUES = frozenset(s.value for s in Step)


@dataclass(frozen=True)
class Draft:
    """The report being written; items may arrive in any order (JSON keys: "type" and "address" for the two
    fields named otherwise here)."""

    started_at: str  # ISO time of the first message: the case's draft event
    incident_type: str | None = None
    photo_media_id: int | None = None
    photo_skipped: bool = False
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None  # typed instead of a pin
    description: str | None = None
    description_done: bool = False  # given or skipped
    flagged: bool = False  # shown to the operators as an unfinished urgent report (once per draft)
    guess: str | None = None  # the type read from the citizen's words, awaiting "Ya"
    desa_code: str | None = None  # the gazetteer's place of the pin or of the typed location
    kecamatan_code: str | None = None
    place_label: str | None = None  # "Desa Pabian, Kec. Kota Sumenep"
    place_match: str | None = None  # pin_inside | pin_nearest | typed_confirmed | typed_unmatched; None: pending
    place_distance_m: float | None = None
    accuracy_m: float | None = None  # the pin's accuracy as the phone reported it

    @property
    def has_location(self) -> bool:
        return bool(self.latitude) or bool(self.address)

    def to_json(self) -> dict[str, Any]:
        return {"started_at": self.started_at, "type": self.incident_type, "photo_media_id": self.photo_media_id,
                "photo_skipped": self.photo_skipped, "latitude": self.latitude, "longitude": self.longitude,
                "address": self.address, "description": self.description,
                "description_done": self.description_done, **({"flagged": True} if self.flagged else {}),
                **{k: v for k in _LATER_KEYS if (v := getattr(self, k)) is not None}}

    @classmethod
    def from_json(cls, data: object) -> Draft | None:
        """The draft a stored dict holds; None when there is none or it lacks its start time."""
        if not isinstance(data, dict) or not (started_at := _str(data.get("started_at"))):
            return None
        return cls(started_at=started_at, incident_type=_str(data.get("type")),
                   photo_media_id=_int(data.get("photo_media_id")), photo_skipped=data.get("photo_skipped") is True,
                   latitude=_float(data.get("latitude")), longitude=_float(data.get("longitude")),
                   address=_str(data.get("address")), description=_str(data.get("description")),
                   description_done=data.get("description_done") is True, flagged=data.get("flagged") is True,
                   guess=_str(data.get("guess")), desa_code=_str(data.get("desa_code")),
                   kecamatan_code=_str(data.get("kecamatan_code")), place_label=_str(data.get("place_label")),
                   place_match=_str(data.get("place_match")), place_distance_m=_float(data.get("place_distance_m")),
                   accuracy_m=_float(data.get("accuracy_m")))


_LATER_KEYS = ("guess", "desa_code", "kecamatan_code", "place_label", "place_match", "place_distance_m",
               "accuracy_m")


@dataclass(frozen=True)
class ConversationState:
    """One chat's conversation between two messages."""

    step: Step = Step.IDLE
    lang: str = ""  # "" until the chat's first message picks one
    draft: Draft | None = None
    touch: int = 0  # messages so far: a timer armed before the latest one is stale
    reminded: bool = False  # the reminder of this silence was sent
    comment_for: int | None = None  # the case whose rating may get a comment next
    phone_asked: bool = False  # the call-back number was asked once in this chat (given or skipped)
    page_lang: str = ""  # the web page's language at the last post: a change there switches the conversation

    @property
    def open_draft(self) -> Draft:
        """The draft of a step past idle (which always has one)."""
        if self.draft is None:
            raise ValueError(f"no draft at step {self.step}")
        return self.draft

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step.value, "lang": self.lang, "draft": self.draft.to_json() if self.draft else None,
                "touch": self.touch, "reminded": self.reminded, "comment_for": self.comment_for,
                **({"phone_asked": True} if self.phone_asked else {}),
                **({"page_lang": self.page_lang} if self.page_lang else {})}

    @classmethod
    def from_json(cls, data: object) -> ConversationState:
        """The state a stored row holds, whatever version wrote it."""
        if not isinstance(data, dict):
            return cls()
        step = _step(data.get("step"))
        draft = Draft.from_json(data.get("draft")) if step != Step.IDLE else None
        return cls(step=step if draft else Step.IDLE, lang=_str(data.get("lang")) or "", draft=draft,
                   touch=_int(data.get("touch")) or 0, reminded=data.get("reminded") is True,
                   comment_for=_int(data.get("comment_for")), phone_asked=data.get("phone_asked") is True,
                   page_lang=_str(data.get("page_lang")) or "")


def _step(value: object) -> Step:
    return Step(value) if isinstance(value, str) and value in _STEP_VALUES else Step.IDLE


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

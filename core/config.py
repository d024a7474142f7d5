"""The deployment file: who the operators are, which agencies exist, which incidents go where.

A regency's IT team edits this YAML file by hand, so every mistake must be reported as one line that
names the offending key (``sumenep.yaml: agencies[2].telegram_chat_id: must be a negative group chat
id (got 5)``) and start-up must stop there.  The models are frozen (the running gateway never mutates
its configuration) and forbid unknown keys (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import difflib
import os
import re
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

__all__ = [
    "Agency",
    "Cases",
    "Clock",
    "ConfigError",
    "Conversation",
    "Dashboard",
    "Deployment",
    "Digest",
    "Duplicates",
    "Escalation",
    "IncidentType",
    "LeadershipMember",
    "Limits",
    "LocalizedName",
    "Map",
    "Notice",
    "OpenData",
    "Operators",
    "Person",
    "Privacy",
    "Region",
    "Roster",
    "Template",
    "TypeKeywords",
    "Web",
    "WhatsApp",
    "load_config",
    "parse_config",
]


class ConfigError(Exception):
    """A deployment file that cannot be used; ``str(err)`` is one line: ``source: key.path: reason``."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.message = " ".join(str(message).split())  # one line, whatever the cause said
        self.source = source
        self.key = key
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        return ": ".join(part for part in (self.source, self.key, self.message) if part)


class _Located(ValueError):
    """Raised by a model validator to blame a key below the model (pydantic would blame the model)."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


# --- small shared types and checks -----------------------------------------------------------------

NonEmptyStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

_SLUG = re.compile(r"^[a-z0-9_]{1,32}$")  # 32: codes travel inside Telegram's 64-byte callback data


def _none_as_empty_list(value: Any) -> Any:
    """A YAML key left with every entry commented out reads as null; treat it as an empty list."""
    return [] if value is None else value


def _check_slug(value: str) -> str:
    """Codes appear in button data and URLs, so keep them to lowercase letters, digits and _."""
    if not _SLUG.match(value):
        raise ValueError(f"must be 1-32 characters of a-z, 0-9 and _ (got {value!r})")
    return value


def _check_group_chat_id(value: int) -> int:
    """Telegram group and supergroup ids are negative; a positive id is a person, a common mix-up."""
    if value >= 0:
        raise ValueError(f"must be a negative group chat id (got {value})")
    return value


Slug = Annotated[str, AfterValidator(_check_slug)]
GroupChatId = Annotated[int, AfterValidator(_check_group_chat_id)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- the models ------------------------------------------------------------------------------------


class LocalizedName(_Model):
    """A label shown to citizens and staff in Indonesian and English, and in Madurese where given."""

    id: NonEmptyStr
    en: NonEmptyStr
    mad: NonEmptyStr | None = None

    def get(self, lang: str) -> str:
        """The label in `lang` ("en-US" reads as "en"); Indonesian when that language has none."""
        code = (lang or "").split("-")[0].lower()
        return self.en if code == "en" else (self.mad or self.id) if code == "mad" else self.id


class Person(_Model):
    """Someone the gateway recognises on Telegram, WhatsApp or both."""

    name: NonEmptyStr
    telegram_user_id: int | None = None
    whatsapp: str | None = None

    @field_validator("telegram_user_id")
    @classmethod
    def _user_id_positive(cls, value: int | None) -> int | None:
        """Telegram user ids are positive; a negative one is a group pasted in the wrong place."""
        if value is not None and value <= 0:
            raise ValueError(f"must be a positive Telegram user id (got {value})")
        return value

    @field_validator("whatsapp", mode="before")
    @classmethod
    def _whatsapp_as_text(cls, value: Any) -> Any:
        """Accept an unquoted number and a leading + so the file forgives the usual ways of writing one."""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            value = value.strip().removeprefix("+")
        return value

    @field_validator("whatsapp")
    @classmethod
    def _whatsapp_is_wa_id(cls, value: str | None) -> str | None:
        """Incoming WhatsApp messages carry the wa_id (country code + number), so compare against that."""
        if value is None:
            return None
        if value.startswith("0"):
            raise ValueError(f"must start with the country code 62, not 0 (got {value!r})")
        if not re.fullmatch(r"\d{8,15}", value):
            raise ValueError(f'must be 8-15 digits with the country code, e.g. "6281234567890" (got {value!r})')
        return value

    @model_validator(mode="after")
    def _reachable(self) -> Person:
        """A person with neither id could never be recognised, so the entry would do nothing."""
        if self.telegram_user_id is None and self.whatsapp is None:
            raise ValueError("needs a telegram_user_id or a whatsapp number")
        return self

    def matches(self, channel: str, user_id: str | int) -> bool:
        """Whether a sender on `channel` ("telegram" | "whatsapp") is this person."""
        if channel == "telegram" and self.telegram_user_id is not None:
            return str(self.telegram_user_id) == str(user_id)
        if channel == "whatsapp" and self.whatsapp is not None:
            return self.whatsapp == str(user_id)
        return False


# What a leader may be told: every new report, new urgent reports, major incidents (a type with `major: true`,
# or an urgent case that reached duplicates.raise_priority_at reports), missed deadlines, the daily digest.
Notice = Literal["new", "urgent", "major", "breach", "digest"]
ALL_NOTICES: tuple[Notice, ...] = get_args(Notice)


class LeadershipMember(Person):
    """A head of office (kepala_dinas, kabid, bupati, sekda…) who is kept informed."""

    role: NonEmptyStr
    notify: list[Notice] = list(ALL_NOTICES)  # a Bupati: [digest, major], not every water complaint at 2 a.m.

    def hears(self, notice: Notice) -> bool:
        """Whether this leader asked for this kind of notice."""
        return notice in self.notify

    def hears_new(self, urgent: bool, major: bool) -> bool:
        """Whether this leader is told of a new report of a type with this urgency and weight."""
        return self.hears("new") or (urgent and self.hears("urgent")) or (major and self.hears("major"))


class Region(_Model):
    """The service area: its name, clock, default language and a box around it for location checks."""

    name: NonEmptyStr
    timezone: str = "Asia/Jakarta"
    default_language: Literal["id", "en"] = "id"
    bounds: tuple[float, float, float, float]  # lat_min, lon_min, lat_max, lon_max
    ticket_prefix: str = "SPG"
    emergency_number: str = "112"
    gazetteer: str | None = None  # CSV of the regency's kecamatan and desa (core/gazetteer.py); None: no names

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """Digests and shift times are local; an unknown zone would only fail at the first digest."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name: Asia/Jakarta, Asia/Makassar or Asia/Jayapura)"
            ) from None
        return value

    @field_validator("bounds", mode="before")
    @classmethod
    def _four_numbers(cls, value: Any) -> Any:
        """Say what the four numbers are, rather than pydantic's tuple-length message."""
        if not isinstance(value, (list, tuple)) or len(value) != 4:
            raise ValueError(f"must be [lat_min, lon_min, lat_max, lon_max] (got {_short(value)})")
        return value

    @field_validator("bounds")
    @classmethod
    def _sane_box(cls, value: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """Swapped or out-of-range corners would put every report outside the area."""
        lat_min, lon_min, lat_max, lon_max = value
        for name, number, limit in (("lat_min", lat_min, 90), ("lon_min", lon_min, 180),
                                    ("lat_max", lat_max, 90), ("lon_max", lon_max, 180)):
            if not -limit <= number <= limit:
                raise ValueError(f"{name} must be between -{limit} and {limit} (got {number})")
        if lat_min >= lat_max:
            raise ValueError(f"lat_min must be less than lat_max (got {lat_min} >= {lat_max})")
        if lon_min >= lon_max:
            raise ValueError(f"lon_min must be less than lon_max (got {lon_min} >= {lon_max})")
        return value

    @field_validator("ticket_prefix")
    @classmethod
    def _prefix_letters(cls, value: str) -> str:
        """Ticket numbers are read out on the phone, so the prefix is a few capital letters."""
        if not re.fullmatch(r"[A-Z]{2,4}", value):
            raise ValueError(f"must be 2-4 capital letters (got {value!r})")
        return value

    @field_validator("emergency_number")
    @classmethod
    def _number_digits(cls, value: str) -> str:
        """Shown to citizens as the number to call, so it must be dialable digits."""
        if not re.fullmatch(r"\d{3,15}", value):
            raise ValueError(f"must be 3-15 digits (got {value!r})")
        return value

    @field_validator("gazetteer")
    @classmethod
    def _gazetteer_readable(cls, value: str | None) -> str | None:
        """A missing file would only show when the first place is named; check it with the config."""
        if value is None:
            return None
        from core.gazetteer import load, resolve  # here: the gazetteer's type hints import this module

        if not resolve(value).is_file():
            raise ValueError(f"no such file: {value} (a path relative to the project, or absolute)")
        try:
            load(value)
        except (OSError, ValueError) as error:
            raise ValueError(f"unreadable gazetteer {value}: {error}") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        """The region's clock, for local times in messages and digests."""
        return ZoneInfo(self.timezone)

    def contains(self, lat: float, lon: float) -> bool:
        """Whether a shared location falls inside the bounding box (edges included)."""
        lat_min, lon_min, lat_max, lon_max = self.bounds
        return lat_min <= lat <= lat_max and lon_min <= lon <= lon_max


class Desk(_Model):
    """Another operators' group with its own 20 messages a minute: the reports of its kecamatan go there
    (`kecamatan`: codes like "35.29.01" or names), or a share of them all when `operators.routing` is round_robin."""

    name: NonEmptyStr
    telegram_chat_id: GroupChatId
    kecamatan: Annotated[list[NonEmptyStr], BeforeValidator(_none_as_empty_list)] = []

    def lists(self, code: str, name: str | None) -> bool:
        """Whether `kecamatan` names this kecamatan, by its code or its name however spelt ("Kec. Guluk Guluk")."""
        return any(entry == code or (name is not None and place_key(entry) == place_key(name))
                   for entry in self.kecamatan)


def place_key(text: str) -> str:
    """A kecamatan's name as desks compare it: the gazetteer's spelling rules, no "Kec." before it, no spaces."""
    from core.gazetteer import canonical  # here: the gazetteer's type hints import this module

    words = re.findall(r"[^\W_]+", canonical(text))
    return "".join(words[1:] if words[:1] in (["kec"], ["kecamatan"]) else words)


class Operators(_Model):
    """The 112 command centre: its group chat (and any further desks) and the people allowed to verify,
    dispatch and close."""

    telegram_chat_id: GroupChatId
    members: list[Person] = Field(min_length=1)
    desks: Annotated[list[Desk], BeforeValidator(_none_as_empty_list)] = []
    routing: Literal["area", "round_robin"] = "area"


class Agency(_Model):
    """A responding office (Damkar, PSC 119, Polres…): where its tasks are posted and who may act on them."""

    code: Slug
    name: LocalizedName
    telegram_chat_id: GroupChatId | None = None
    members: Annotated[list[Person], BeforeValidator(_none_as_empty_list)] = []
    emoji: str = ""
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ()\-]{3,22}$")] | None = None  # operators phone it

    def has_member(self, channel: str, user_id: str | int) -> bool:
        """Whether a sender may act on this agency's tasks."""
        return any(member.matches(channel, user_id) for member in self.members)


class TypeKeywords(_Model):
    """Words and short phrases, per language, that name an incident type in a citizen's first message."""

    id: list[NonEmptyStr] = []
    en: list[NonEmptyStr] = []
    mad: list[NonEmptyStr] = []

    def all(self) -> list[str]:
        """Every language's words: a citizen may mix languages in one sentence."""
        return [*self.id, *self.en, *self.mad]


class IncidentType(_Model):
    """A kind of report a citizen can choose, and the agencies it is routed to once verified."""

    code: Slug
    name: LocalizedName
    urgent: bool = False
    sla_minutes: int | None = Field(default=None, gt=0)
    agencies: list[str]  # required; [] (non-urgent types only): the operator picks them on verification
    major: bool = False  # leaders with notify `major` hear of every new report of it (sea incidents, fires)
    photo: Literal["required", "optional", "none"] = "optional"
    emoji: str = ""
    public: bool | None = None  # in Open311 and on /public; unset: yes, except the PRIVATE_TYPES
    safety: LocalizedName | None = None  # urgent types: standard public advice sent after the ticket
    keywords: TypeKeywords = TypeKeywords()  # words that recognise the type in a citizen's free text
    describe: LocalizedName | None = None  # the description question for this type ("Siapa yang sakit…?")
    short: LocalizedName | None = None  # ≤ 24 characters: the WhatsApp list row title

    @model_validator(mode="after")
    def _short_fits(self) -> IncidentType:
        """WhatsApp cuts list row titles at 24 characters."""
        if self.short is not None:
            for lang, text in self.short.model_dump().items():
                if isinstance(text, str) and len(text) > 24:
                    raise _Located(("short", lang), f"must be at most 24 characters (got {len(text)})")
        return self

    @property
    def is_public(self) -> bool:
        """Whether cases of this type may be published at all (coarsened, delayed, verified only)."""
        return self.public if self.public is not None else self.code not in PRIVATE_TYPES

    @model_validator(mode="after")
    def _urgent_has_sla(self) -> IncidentType:
        """Urgent types are the ones with a deadline (5 minutes for fires and ambulances in Sumenep)."""
        if self.urgent and self.sla_minutes is None:
            raise _Located(("sla_minutes",), "is required when urgent is true")
        return self

    @model_validator(mode="after")
    def _urgent_has_agencies(self) -> IncidentType:
        """An urgent report is dispatched at once on verification; only other types may leave the choice."""
        if self.urgent and not self.agencies:
            raise _Located(("agencies",), "must name at least one agency when urgent is true "
                                          "(only a non-urgent type may leave the choice to the operator)")
        return self

    @model_validator(mode="after")
    def _agencies_once(self) -> IncidentType:
        """Listing an agency twice would dispatch it twice."""
        for index, code in enumerate(self.agencies):
            if code in self.agencies[:index]:
                raise _Located(("agencies", index), f"{code!r} is listed twice")
        return self


# Types whose reports can expose a victim or a witness: never published unless the file says `public: true`.
PRIVATE_TYPES = frozenset({"crime", "domestic_violence", "sexual_violence", "violence", "abuse"})


class Conversation(_Model):
    """Timing of the citizen chat: when to nudge a silent reporter, when to give up on a draft."""

    reminder_minutes: int = Field(default=5, gt=0)
    expire_minutes: int = Field(default=60, gt=0)

    @model_validator(mode="after")
    def _expire_after_reminder(self) -> Conversation:
        """A reminder after the draft has expired would never be sent."""
        if self.expire_minutes <= self.reminder_minutes:
            raise _Located(
                ("expire_minutes",),
                f"must be greater than reminder_minutes ({self.reminder_minutes}) (got {self.expire_minutes})",
            )
        return self


class Limits(_Model):
    """Caps on what a citizen may send, to protect storage and the operators' attention."""

    max_photo_mb: float = Field(default=10, gt=0)
    max_description_chars: int = Field(default=1000, gt=0)
    messages_per_minute: int = Field(default=20, gt=0)
    reports_per_hour: int = Field(default=3, gt=0)


class Template(_Model):
    """An approved WhatsApp template: its body has one parameter, {{1}}, that carries our message."""

    name: NonEmptyStr
    language: NonEmptyStr = "id"


class WhatsApp(_Model):
    """Templates used outside the 24-hour customer-service window, by purpose."""

    templates: dict[Literal["status_update", "rating_request", "crew_task"], Template] = {}


class Cases(_Model):
    """How handling ends and what crews are offered: close after the crew's report, or wait for an operator."""

    close_when_crew_done: bool = True
    eta_choices: list[Annotated[int, Field(gt=0, le=240)]] = Field(default=[5, 10, 15, 20, 30], min_length=1,
                                                                    max_length=8)
    low_rating_alert: int = Field(default=2, ge=1, le=5)

    @field_validator("eta_choices")
    @classmethod
    def _one_over_an_hour(cls, value: list[int]) -> list[int]:
        """Every choice above 60 minutes reads "more than an hour", so two of them would be the same button."""
        if len([m for m in value if m > OVER_AN_HOUR]) > 1:
            raise ValueError(f"at most one choice above {OVER_AN_HOUR} minutes: it is shown as "
                             f"'more than an hour' (got {value})")
        if len(set(value)) != len(value):
            raise ValueError(f"a choice is listed twice (got {value})")
        return value


OVER_AN_HOUR = 60  # an ETA above this many minutes is offered and told as "more than an hour"


class Escalation(_Model):
    """A leader alerted privately when a case is still not accepted `after_minutes` past its deadline."""

    role: NonEmptyStr
    after_minutes: float = Field(default=0, ge=0)


class Clock(_Model):
    """The handling clock of types with `sla_minutes`: reminders before the deadline, alerts after it."""

    verify_reminder_minutes: float = Field(default=1, gt=0)
    reping_minutes: float = Field(default=2, gt=0)
    refresh_minutes: float = Field(default=1, gt=0)
    escalate: list[Escalation] = [Escalation(role="kabid", after_minutes=0),
                                  Escalation(role="kepala_dinas", after_minutes=5)]
    abandoned_draft_minutes: float = Field(default=2, ge=0)  # an urgent draft left this long reaches operators; 0 off


class Roster(_Model):
    """Shifts checked in and out from chat; a forgotten check-out ends after `shift_max_hours`."""

    shift_max_hours: float = Field(default=26, gt=0)
    alert_role: NonEmptyStr = "kabid"


class Duplicates(_Model):
    """When a new report probably describes an open case, and how many reports raise its priority."""

    radius_m: float = Field(default=300, gt=0)
    window_minutes: float = Field(default=60, gt=0)
    raise_priority_at: int = Field(default=3, ge=2)
    auto_join: bool = True  # a matching report joins the open case (one card, every reporter answered)


class Surge(_Model):
    """What changes when reports come faster than Telegram lets one group show them (20 messages a minute)."""

    batch_after: int = Field(default=5, ge=1)  # new cards waiting for one group before they go out as one list
    batch_size: int = Field(default=10, ge=2, le=10)
    private_copies: bool = True  # urgent reports also to on-duty operators' private chats while a group is saturated
    reports: int = Field(default=15, ge=2)  # reports within `window_minutes` that make a surge
    window_minutes: float = Field(default=10, gt=0)
    leader_summary_minutes: float = Field(default=5, gt=0)  # leaders get one summary this often in a surge


class Digest(_Model):
    """The daily figures for leadership and the Bupati's chat, at a local time."""

    time: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "07:00"
    telegram_chat_ids: list[int] = []

    @property
    def hour_minute(self) -> tuple[int, int]:
        hour, minute = self.time.split(":")
        return int(hour), int(minute)


class OpenData(_Model):
    """What Open311 publishes: verified cases only, once `delay_minutes` have passed, times on the hour."""

    delay_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)


class Privacy(_Model):
    """How long reporters' personal data outlives the case (UU No. 27/2022): then only figures remain."""

    retention_days: int = Field(default=90, gt=0)
    sweep_time: Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")] = "03:00"
    staging_minutes: int = Field(default=120, gt=0, le=7 * 24 * 60)  # a photo never attached to a case is deleted
    audit_days: int = Field(default=365, gt=0)  # the audit trail (sign-ins, case views, actions, exports)


class Dashboard(_Model):
    """Dashboard sessions last at most 24 hours (one shift) and end after `idle_minutes` without a real action."""

    idle_minutes: int = Field(default=60, ge=5, le=24 * 60)


class Web(_Model):
    """Limits of the public web chat, per address and overall. Many phones share one address behind a mobile
    network's NAT, so reports over the limit are never dropped: they reach operators held in one summary card."""

    window_minutes: int = Field(default=10, gt=0, le=24 * 60)
    reports_per_address: int = Field(default=10, gt=0)
    reports_overall: int = Field(default=60, gt=0)
    chats_per_address: int = Field(default=120, gt=0)  # bench/abuse.py: 50 phones behind one address in a minute
    chats_overall: int = Field(default=2000, gt=0)
    posts_per_minute_per_address: int = Field(default=600, gt=0)
    posts_per_minute_overall: int = Field(default=6000, gt=0)
    photos_per_hour_per_chat: int = Field(default=10, gt=0)
    photos_per_hour_per_address: int = Field(default=60, gt=0)

    @model_validator(mode="after")
    def _address_within_overall(self) -> Web:
        """One address allowed more than everyone together would make the per-address number meaningless."""
        for each, overall in (("reports_per_address", "reports_overall"), ("chats_per_address", "chats_overall"),
                              ("posts_per_minute_per_address", "posts_per_minute_overall")):
            if getattr(self, each) > getattr(self, overall):
                raise _Located((each,), f"must not be greater than {overall} ({getattr(self, overall)}) "
                                        f"(got {getattr(self, each)})")
        return self


_TILE_URL = re.compile(r"^(https?)://((?:\{s\}\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)/[^\s;,'\"]*$")


class Map(_Model):
    """The case page's map: its tile server is the one outside host the dashboard's pages may load from."""

    tile_url: str | None = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    attribution: str = "&copy; OpenStreetMap contributors"

    @field_validator("tile_url")
    @classmethod
    def _check_tile_url(cls, value: str | None) -> str | None:
        """It becomes part of the Content-Security-Policy, so only a plain http(s) tile template passes."""
        if value is None:
            return None
        if not _TILE_URL.match(value) or not all(part in value for part in ("{z}", "{x}", "{y}")):
            raise ValueError("must be an http(s) tile URL with {z}, {x} and {y}, e.g. "
                             "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
        return value

    @property
    def tile_origin(self) -> str | None:
        """The CSP source of the tile server; a `{s}` subdomain becomes `*`."""
        if self.tile_url is None:
            return None
        matched = _TILE_URL.match(self.tile_url)
        assert matched is not None  # the validator above accepted only such URLs
        scheme, host = matched.groups()
        return f"{scheme}://{host.replace('{s}', '*')}"


class Drills(_Model):
    """Rehearsals (`siaga drill start`): whether leaders are alerted of drill cases, and how long those are kept."""

    alert_leaders: bool = False
    keep_hours: float = Field(default=24, gt=0)


class ChannelHealth(_Model):
    """When the dashboard, /readyz and /metrics call a channel's messages stuck, and how far back dead letters count."""

    stuck_minutes: float = Field(default=3, gt=0, le=24 * 60)
    dead_letter_minutes: float = Field(default=60, gt=0, le=7 * 24 * 60)


class Deployment(_Model):
    """One regency's whole deployment file."""

    region: Region
    operators: Operators
    leadership: Annotated[list[LeadershipMember], BeforeValidator(_none_as_empty_list)] = []
    agencies: list[Agency] = Field(min_length=1)
    incident_types: list[IncidentType] = Field(min_length=1)
    conversation: Conversation = Conversation()
    limits: Limits = Limits()
    cases: Cases = Cases()
    whatsapp: WhatsApp = WhatsApp()
    clock: Clock = Clock()
    roster: Roster = Roster()
    duplicates: Duplicates = Duplicates()
    surge: Surge = Surge()
    digest: Digest = Digest()
    privacy: Privacy = Privacy()
    dashboard: Dashboard = Dashboard()
    web: Web = Web()
    open_data: OpenData = OpenData()
    map: Map = Map()
    channel_health: ChannelHealth = ChannelHealth()
    safety_general: LocalizedName | None = None  # sent after the ticket of every urgent report
    drills: Drills = Drills()

    @model_validator(mode="after")
    def _unique_agency_codes(self) -> Deployment:
        """Agencies are looked up by code, so a second one with the same code would be unreachable."""
        _reject_duplicates("agencies", [agency.code for agency in self.agencies], "agency code")
        return self

    @model_validator(mode="after")
    def _unique_incident_codes(self) -> Deployment:
        """Incident types are looked up by code, so a duplicate would be unreachable."""
        _reject_duplicates("incident_types", [kind.code for kind in self.incident_types], "incident type code")
        return self

    @model_validator(mode="after")
    def _incident_agencies_exist(self) -> Deployment:
        """A report routed to an agency that does not exist would reach nobody."""
        known = [agency.code for agency in self.agencies]
        for i, kind in enumerate(self.incident_types):
            for j, code in enumerate(kind.agencies):
                if code not in known:
                    hint = _did_you_mean(code, known)
                    raise _Located(("incident_types", i, "agencies", j), f"unknown agency {code!r}{hint}")
        return self

    @model_validator(mode="after")
    def _desks_own_groups(self) -> Deployment:
        """A desk is a group of its own: sharing one with the main desk, a crew or another desk mixes their cards."""
        chats: dict[int, int] = {}
        names: dict[str, int] = {}
        for i, desk in enumerate(self.operators.desks):
            loc, chat = ("operators", "desks", i, "telegram_chat_id"), desk.telegram_chat_id
            if chat == self.operators.telegram_chat_id:
                raise _Located(loc, "is the main operators' group (operators.telegram_chat_id); "
                                    "a desk needs a group of its own")
            if (agency := self.agency_of_chat(chat)) is not None:
                raise _Located(loc, f"is the crew group of agency {agency.code!r}; a desk needs a group of its own")
            if chat in chats:
                raise _Located(loc, f"duplicate desk group {chat} (already used by operators.desks[{chats[chat]}])")
            if desk.name in names:
                first = names[desk.name]
                raise _Located(("operators", "desks", i, "name"),
                               f"duplicate desk name {desk.name!r} (already used by operators.desks[{first}])")
            chats[chat], names[desk.name] = i, i
        return self

    @model_validator(mode="after")
    def _desks_name_known_kecamatan(self) -> Deployment:
        """A misspelt kecamatan would send its reports to the main group unnoticed; one on two desks has no desk."""
        from core.gazetteer import for_config  # here: the gazetteer's type hints import this module

        places = for_config(self) if self.operators.desks else None
        known = places.kecamatans() if places is not None else []
        owner: dict[str, int] = {}
        for i, desk in enumerate(self.operators.desks if known else []):
            for k, entry in enumerate(desk.kecamatan):
                code = next((c for c, name in known if c == entry or place_key(name) == place_key(entry)), None)
                loc = ("operators", "desks", i, "kecamatan", k)
                if code is None:
                    hint = _did_you_mean(entry, [name for _, name in known])
                    raise _Located(loc, f"unknown kecamatan {entry!r} in {self.region.gazetteer}{hint}")
                if code in owner:
                    raise _Located(loc, f"kecamatan {entry!r} is already listed by operators.desks[{owner[code]}]")
                owner[code] = i
        return self

    def desk_chats(self) -> list[str]:
        """Every operators' group as a chat id: the main one first, then each desk (`operators.desks`)."""
        return [str(self.operators.telegram_chat_id), *(str(d.telegram_chat_id) for d in self.operators.desks)]

    def is_operators_chat(self, chat_id: str | int) -> bool:
        """Whether this Telegram chat is the operators' main group or one of their desks."""
        return str(chat_id) in self.desk_chats()

    def desk_of_chat(self, chat_id: str | int) -> Desk | None:
        """The desk (not the main group) whose group this Telegram chat is."""
        return next((d for d in self.operators.desks if str(d.telegram_chat_id) == str(chat_id)), None)

    def incident_type(self, code: str) -> IncidentType | None:
        """The incident type with this code, or None."""
        return next((kind for kind in self.incident_types if kind.code == code), None)

    def agency(self, code: str) -> Agency | None:
        """The agency with this code, or None."""
        return next((agency for agency in self.agencies if agency.code == code), None)

    def is_operator(self, channel: str, user_id: str | int) -> bool:
        """Whether a sender may verify, reject, dispatch or close reports."""
        return any(member.matches(channel, user_id) for member in self.operators.members)

    def is_agency_member(self, agency_code: str, channel: str, user_id: str | int) -> bool:
        """Whether a sender may act on the tasks of the agency with this code."""
        agency = self.agency(agency_code)
        return agency is not None and agency.has_member(channel, user_id)

    def leaders(self, role: str) -> list[LeadershipMember]:
        """The leadership members with this role (kabid, kepala_dinas, bupati…)."""
        return [leader for leader in self.leadership if leader.role == role]

    def is_leader(self, channel: str, user_id: str | int) -> bool:
        return any(leader.matches(channel, user_id) for leader in self.leadership)

    def agencies_of(self, channel: str, user_id: str | int) -> list[Agency]:
        """The agencies this person crews for."""
        return [agency for agency in self.agencies if agency.has_member(channel, user_id)]

    def person_name(self, channel: str, user_id: str | int) -> str | None:
        """The configured name of an operator, leader or crew member, for cards and timelines."""
        people = [*self.operators.members, *self.leadership, *(m for a in self.agencies for m in a.members)]
        return next((p.name for p in people if p.matches(channel, user_id)), None)

    def agency_of_chat(self, chat_id: str | int) -> Agency | None:
        """The agency whose crew group this Telegram chat is."""
        return next((a for a in self.agencies
                     if a.telegram_chat_id is not None and str(a.telegram_chat_id) == str(chat_id)), None)

    def warnings(self) -> list[str]:
        """Legal but probably unintended choices, worded like errors, for `siaga config check` to show."""
        notes = []
        if self.incident_type("other") is None:
            notes.append("incident_types: no type with code 'other'; "
                         "citizens whose emergency fits no type cannot report it")
        used = {code for kind in self.incident_types for code in kind.agencies}
        for i, agency in enumerate(self.agencies):
            if agency.telegram_chat_id is None and not agency.members:
                notes.append(f"agencies[{i}]: {agency.code!r} has no telegram_chat_id and no members, "
                             "so nobody receives its tasks")
            if agency.code not in used:
                notes.append(f"agencies[{i}]: {agency.code!r} is not listed by any incident type")
        roles = {leader.role for leader in self.leadership}
        for i, step in enumerate(self.clock.escalate if roles else []):
            if step.role not in roles:
                notes.append(f"clock.escalate[{i}].role: no leadership member has role {step.role!r}, "
                             "so nobody gets this alert")
        if roles and self.roster.alert_role not in roles:
            notes.append(f"roster.alert_role: no leadership member has role {self.roster.alert_role!r}")
        for i, kind in enumerate(self.incident_types):
            if not kind.agencies and kind.code != "other":
                notes.append(f"incident_types[{i}].agencies: {kind.code!r} has none, so an operator must pick "
                             "the agencies of every such report")
        for i, step in enumerate(self.clock.escalate):
            told = [leader for leader in self.leaders(step.role) if leader.hears("breach")]
            if self.leaders(step.role) and not told:
                notes.append(f"clock.escalate[{i}].role: every {step.role!r} leader leaves out 'breach' "
                             "from notify, so nobody gets this alert")
        return notes + self._desk_warnings()

    def _desk_warnings(self) -> list[str]:
        """Desks that would get no report, or kecamatan lists nothing reads."""
        notes = []
        area = self.operators.routing == "area"
        if area and self.operators.desks and self.region.gazetteer is None:
            notes.append("operators.desks: region.gazetteer is not set, so no report has a kecamatan and every "
                         "card goes to the main group (set it, or use operators.routing: round_robin)")
        for i, desk in enumerate(self.operators.desks):
            if area and not desk.kecamatan:
                notes.append(f"operators.desks[{i}].kecamatan: {desk.name!r} lists none, so it gets no reports "
                             "(operators.routing: area)")
            if not area and desk.kecamatan:
                notes.append(f"operators.desks[{i}].kecamatan: not used with operators.routing: round_robin")
        return notes


def _reject_duplicates(list_key: str, codes: list[str], what: str) -> None:
    """Blame the second occurrence of a code, naming where the first one is."""
    for index, code in enumerate(codes):
        if code in codes[:index]:
            first = codes.index(code)
            message = f"duplicate {what} {code!r} (already used by {list_key}[{first}])"
            raise _Located((list_key, index, "code"), message)


def _did_you_mean(word: str, candidates: list[str]) -> str:
    """A hint for the most likely intended spelling, or nothing."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- loading and error messages -------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; in a hand-edited file that silently drops a block."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable key: let PyYAML report it
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_config(path: str | os.PathLike[str]) -> Deployment:
    """Read and validate a deployment file; any problem becomes a one-line ConfigError."""
    source = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        raise ConfigError("file not found", source=source) from None
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", source=source) from None
    except OSError as exc:
        raise ConfigError(f"cannot read file ({exc.strerror or exc})", source=source) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        reason = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark:  # where the broken construct began
            reason += f" ({exc.context} at {_line_column(exc.context_mark)})"
        where = f" at {_line_column(mark)}" if mark else ""
        raise ConfigError(f"YAML syntax error{where}: {reason}", source=source,
                          line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML syntax error: {exc}", source=source) from None
    if data is None:
        raise ConfigError("file is empty", source=source)
    return parse_config(data, source)


def _line_column(mark: yaml.Mark) -> str:
    """PyYAML counts from 0; editors count from 1."""
    return f"line {mark.line + 1}, column {mark.column + 1}"


def parse_config(data: object, source: str = "<config>") -> Deployment:
    """Validate already-parsed data (a YAML or JSON mapping); the first problem becomes a ConfigError."""
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError(f"must be a mapping of keys such as region: and agencies: (got {kind})", source=source)
    try:
        return Deployment.model_validate(data)
    except ValidationError as exc:
        key, message = _describe(exc.errors()[0])
        raise ConfigError(message, source=source, key=key or None) from None


def _describe(error: ErrorDetails) -> tuple[str, str]:
    """Turn one pydantic error into (dotted key path, short reason a non-programmer understands)."""
    loc = tuple(error["loc"])
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    cause = ctx.get("error")
    if isinstance(cause, _Located):
        return _key_path(loc + cause.loc), str(cause)
    if isinstance(cause, ValueError):
        return _key_path(loc), str(cause)
    got = f" (got {_short(value)})"
    if kind == "missing":
        message = "is required"
    elif kind == "extra_forbidden":
        message = f"unknown key{_did_you_mean(str(loc[-1]), _known_keys(loc[:-1]))}"
    elif kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        message = "must not be empty"
    elif kind in ("int_type", "int_parsing", "int_from_float"):
        message = "must be a whole number" + got
    elif kind in ("float_type", "float_parsing"):
        message = "must be a number" + got
    elif kind in ("bool_type", "bool_parsing"):
        message = "must be true or false" + got
    elif kind == "string_type":
        message = "must be text" + got
    elif kind in ("list_type", "tuple_type"):
        message = "must be a list" + got
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "must be a mapping of keys" + got
    elif kind == "literal_error":
        message = f"must be {ctx['expected']}" + got
    elif kind == "greater_than":
        message = f"must be greater than {_short(ctx['gt'])}" + got
    else:
        message = error["msg"][:1].lower() + error["msg"][1:] + got
    return _key_path(loc), message


def _key_path(loc: tuple[str | int, ...]) -> str:
    """("incident_types", 0, "agencies", 1) -> "incident_types[0].agencies[1]"."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _short(value: Any) -> str:
    """A repr short enough to keep the message on one readable line (0.0 shown as 0)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys the model at `loc` accepts, to suggest the one a typo meant."""
    model: type[BaseModel] | None = Deployment
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model else None
        model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside an annotation such as list[Person] or Person | None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found:
            return found
    return None

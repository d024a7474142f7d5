"""A report an operator enters for a caller (phone, radio, walk-in, relay): its fields checked, pure.

The dashboard's form and the `/lapor` chat intake both hand their raw fields to `validate`, which returns
the typed `OperatorReport` or, field by field, the catalog key of what is wrong; nothing is stored before.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers

from core.config import Deployment

INTAKES = ("phone", "radio", "walk_in", "relay")  # how the report reached the command centre
TRAFFIC_CLASSES = ("emergency", "information", "ghost", "prank")  # the ministry's classes of 112 traffic
VIA_KEYS = {"phone": "intake.via_phone", "radio": "intake.via_radio", "walk_in": "intake.via_walk_in",
            "relay": "intake.via_relay"}  # their labels, named whole so the catalog test finds every key
CLASS_KEYS = {"emergency": "intake.class_emergency", "information": "intake.class_information",
              "ghost": "intake.class_ghost", "prank": "intake.class_prank"}
# A call that needs no crew is stored rejected with the closest reason, counted in figures, paging nobody.
NO_DISPATCH_REASON = {"information": "not_emergency", "ghost": "other", "prank": "hoax"}
NAME_CHARS, PHONE_CHARS, ADDRESS_CHARS, TIME_CHARS = 100, 32, 300, 32
OLDEST_CALL = timedelta(hours=24)
DIALLED = re.compile(r"\+?[\d\s().-]+")
CLOCK_SLACK = timedelta(minutes=2)  # a browser's clock a little ahead is not a call from the future


@dataclass(frozen=True)
class OperatorReport:
    """A checked report, ready to become a case."""

    intake: str
    incident_type: str
    traffic_class: str
    called_at: datetime
    agencies: tuple[str, ...]
    caller_name: str | None = None
    caller_phone: str | None = None   # E.164 digits without "+", e.g. 6281234567890
    mobile: bool = False               # the number can receive WhatsApp (a mobile, not a landline)
    follow_up: bool = False            # the caller agreed to hear progress on WhatsApp at that number
    latitude: float | None = None
    longitude: float | None = None
    address_text: str | None = None
    description: str | None = None

    @property
    def emergency(self) -> bool:
        return self.traffic_class == "emergency"


def phone_digits(text: str) -> tuple[str, bool] | None:
    """An Indonesian number as typed (0812…, +62812…, 62812…, 0328-…) as E.164 digits and whether it is a
    mobile; None when it is no valid number."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > PHONE_CHARS or not DIALLED.fullmatch(cleaned):
        return None  # letters too: phonenumbers would read "abc" as the keypad's 222
    if cleaned[0] == "6" and cleaned.replace(" ", "").replace("-", "").isdigit():
        cleaned = "+" + cleaned  # 62812… without the plus
    try:
        number = phonenumbers.parse(cleaned, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    kind = phonenumbers.number_type(number)
    mobile = kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164).lstrip("+"), mobile


def split_caller(text: str) -> tuple[str, str]:
    """"Budi 0812 3456 7890" as ("Budi", "0812 3456 7890"): the chat intake asks for both in one line."""
    for match in phonenumbers.PhoneNumberMatcher(text, "ID"):
        return (text[:match.start] + text[match.end:]).strip(" ,;-"), match.raw_string
    words = text.split()  # no valid number in it: the words with digits are what `validate` will refuse
    return (" ".join(w for w in words if not any(c.isdigit() for c in w)),
            " ".join(w for w in words if any(c.isdigit() for c in w)))


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_local_time(text: str, config: Deployment) -> datetime | None:
    """"2026-11-27T14:05" (a datetime-local field, in the deployment's zone) as an aware time."""
    try:
        value = datetime.fromisoformat(text.strip()[:TIME_CHARS])
    except ValueError:
        return None
    return value.replace(tzinfo=config.region.tz) if value.tzinfo is None else value


def validate(fields: Mapping[str, str], config: Deployment, now: datetime) -> OperatorReport | dict[str, str]:
    """The report, or {field: catalog key} for every field that is wrong (all at once, so one round fixes all)."""
    errors: dict[str, str] = {}

    def get(name: str, limit: int) -> str:
        value = (fields.get(name) or "").strip()
        if len(value) > limit:
            errors[name] = "intake.err_too_long"
        return value[:limit]

    intake = get("intake", 16) or "phone"
    if intake not in INTAKES:
        errors["intake"] = "intake.err_channel"
    traffic = get("traffic_class", 16) or "emergency"
    if traffic not in TRAFFIC_CLASSES:
        errors["traffic_class"] = "intake.err_class"
    emergency = traffic == "emergency"
    code = get("incident_type", 32)
    kind = config.incident_type(code)
    if kind is None:
        errors["incident_type"] = "intake.err_type"
    chosen = tuple(dict.fromkeys(a for a in (fields.get("agencies") or "").split(",") if a.strip()))[:10]
    agencies = chosen or (tuple(kind.agencies) if kind else ())
    if any(config.agency(a) is None for a in agencies) or (emergency and kind is not None and not agencies):
        errors["agencies"] = "intake.err_agencies"

    name = get("caller_name", NAME_CHARS)
    phone_text = get("caller_phone", PHONE_CHARS)
    phone = phone_digits(phone_text) if phone_text else None
    if phone_text and phone is None and "caller_phone" not in errors:
        errors["caller_phone"] = "intake.err_phone"
    follow_up = (fields.get("follow_up") or "") in ("1", "on", "yes", "true")
    if follow_up and emergency and (phone is None or not phone[1]) and "caller_phone" not in errors:
        errors["caller_phone"] = "intake.err_follow_up"

    latitude = longitude = None
    lat_text, lon_text = get("latitude", 32), get("longitude", 32)
    if lat_text or lon_text:
        latitude, longitude = _number(lat_text), _number(lon_text)
        if latitude is None or longitude is None:
            errors["location"] = "intake.err_location"
        elif not config.region.contains(latitude, longitude):
            errors["location"] = "intake.err_outside"
    address = get("address_text", ADDRESS_CHARS)
    if emergency and latitude is None and not address and "location" not in errors:
        errors["location"] = "intake.err_location"
    description = get("description", config.limits.max_description_chars)

    called_text = get("called_at", TIME_CHARS)
    called_at = parse_local_time(called_text, config) if called_text else now
    if called_at is None:
        errors["called_at"] = "intake.err_time_format"
    elif called_at > now + CLOCK_SLACK:
        errors["called_at"] = "intake.err_time_future"
    elif called_at < now - OLDEST_CALL:
        errors["called_at"] = "intake.err_time_old"
    if errors or kind is None or called_at is None:
        return errors
    return OperatorReport(
        intake=intake, incident_type=kind.code, traffic_class=traffic, called_at=min(called_at, now),
        agencies=agencies, caller_name=name or None, caller_phone=phone[0] if phone else None,
        mobile=bool(phone and phone[1]), follow_up=follow_up and emergency, latitude=latitude, longitude=longitude,
        address_text=address or None, description=description or None)

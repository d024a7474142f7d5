"""Property-based: whatever JSON arrives, the parse functions return an event or None and never raise."""
from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.telegram import parse as telegram
from bots.web.chat_channel import WebChatChannel
from bots.whatsapp import parse as whatsapp
from core.messages import Inbound


def well_typed(event: Inbound) -> None:
    """What the processor and the flows rely on: text is text, numbers are numbers."""
    assert isinstance(event.sender_name, str) and isinstance(event.sender.id, str)
    assert isinstance(event.choice, str) and isinstance(event.text, str)
    assert isinstance(event.language_code, (str, type(None)))
    if event.media is not None:
        assert isinstance(event.media.file_id, str) and isinstance(event.media.size, (int, type(None)))
    if event.location is not None:
        assert math.isfinite(event.location.latitude) and math.isfinite(event.location.longitude)

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(allow_nan=True),
                    st.text(max_size=30))
TG_KEYS = ["update_id", "message", "callback_query", "from", "chat", "id", "type", "text", "photo", "file_id",
           "file_size", "width", "height", "location", "latitude", "longitude", "venue", "contact", "phone_number",
           "document", "voice", "sticker", "data", "first_name", "date", "message_id", "caption", "is_bot"]
WA_KEYS = ["entry", "changes", "value", "messages", "contacts", "statuses", "from", "id", "type", "text", "body",
           "interactive", "button_reply", "list_reply", "image", "location", "latitude", "longitude", "wa_id",
           "profile", "name", "contact", "message", "button", "payload", "user_id", "from_user_id"]


def json_like(keys: list[str]):
    """Nested dicts and lists whose keys are mostly the platform's own, so the odd values reach deep."""
    key = st.one_of(st.sampled_from(keys), st.text(max_size=8))
    return st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(key, inner, max_size=6)), max_leaves=25)


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.dictionaries(st.sampled_from(TG_KEYS), json_like(TG_KEYS), max_size=6))
def test_telegram_parse_never_raises(update):
    result = telegram.parse(update)
    assert result is None or isinstance(result, Inbound)
    if result is not None:
        well_typed(result)
    assert telegram.conversation_key(update).startswith("telegram:")


@FUZZ
@given(st.fixed_dictionaries({"update_id": st.integers(1, 2**31), "callback_query": st.fixed_dictionaries(
    {"id": SCALARS, "from": st.fixed_dictionaries({"id": st.integers(1, 2**40), "is_bot": SCALARS,
                                                   "first_name": SCALARS}),
     "chat_instance": SCALARS, "data": SCALARS})}))
def test_telegram_button_presses_with_odd_values(update):
    result = telegram.parse(update)
    if result is not None:
        well_typed(result)
        assert isinstance(result.callback_id, str)


@FUZZ
@given(st.dictionaries(st.sampled_from(WA_KEYS), json_like(WA_KEYS), max_size=6))
def test_whatsapp_split_and_parse_never_raise(notification):
    items, statuses = whatsapp.split(notification)
    for item in items:
        assert item.conversation_key.startswith("whatsapp:")
        result = whatsapp.parse(item.payload)
        assert result is None or isinstance(result, Inbound)
        if result is not None:
            well_typed(result)
    assert all(isinstance(d.message_id, str) and isinstance(d.status, str) for d in statuses)


@FUZZ
@given(st.fixed_dictionaries({"contact": json_like(WA_KEYS), "message": json_like(WA_KEYS)}))
def test_whatsapp_parse_of_a_stored_message_never_raises(payload):
    result = whatsapp.parse(payload)
    assert result is None or isinstance(result, Inbound)
    if result is not None:
        well_typed(result)


@FUZZ
@given(st.fixed_dictionaries({"chat": st.text(min_size=1, max_size=20)},
                             optional={"kind": st.sampled_from(["text", "choice", "location", "photo", "x"]),
                                       "text": SCALARS, "choice": SCALARS, "lat": SCALARS, "lon": SCALARS,
                                       "media_id": SCALARS, "problem": SCALARS, "lang": SCALARS}))
def test_web_chat_parse_never_raises(payload):
    result = WebChatChannel().parse(payload)
    assert result is None or isinstance(result, Inbound)

"""WhatsApp notifications split into inbox items and parsed into events, over recorded payloads."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bots.whatsapp.parse import parse, split
from core.messages import Kind

DATA = Path(__file__).parent / "data" / "whatsapp"


def load(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


def only(name: str):
    [item], statuses = split(load(name))
    assert statuses == []
    return item, parse(item.payload)


@pytest.mark.parametrize("name, kind", [
    ("text", Kind.TEXT), ("image", Kind.PHOTO), ("document_pdf", Kind.DOCUMENT), ("location", Kind.LOCATION),
    ("voice", Kind.VOICE), ("sticker", Kind.STICKER), ("button_reply", Kind.CHOICE), ("list_reply", Kind.CHOICE),
    ("template_quick_reply", Kind.CHOICE), ("user_without_wa_id", Kind.TEXT),
])
def test_each_message_kind(name, kind):
    item, event = only(name)
    assert event.kind == kind and event.is_private
    assert item.external_id.startswith("wamid.") and item.conversation_key == f"whatsapp:{event.sender.id}"
    assert event.chat == event.sender and event.sender.id


def test_media_choices_and_places_carry_their_values():
    _, image = only("image")
    assert image.media.file_id and image.media.media_id is None
    _, doc = only("document_pdf")
    assert doc.media.file_id
    _, place = only("location")
    assert -90 <= place.location.latitude <= 90 and place.location.longitude
    for name in ("button_reply", "list_reply", "template_quick_reply"):
        _, choice = only(name)
        assert choice.choice


def test_a_user_without_a_phone_number_is_known_by_the_business_scoped_id():
    _, event = only("user_without_wa_id")
    assert event.sender.id == "ID.8730915502217746301" and event.sender_name == "Budi"


def test_two_messages_in_one_notification_become_two_items_and_statuses_are_kept_apart():
    items, _ = split(load("two_messages"))
    assert len(items) == 2 and items[0].external_id != items[1].external_id
    for name in ("status_sent", "status_delivered", "status_read", "status_failed"):
        items, statuses = split(load(name))
        assert items == [] and len(statuses) == 1 and statuses[0].status == name.split("_")[1]
    assert split(load("status_failed"))[1][0].error.startswith("131047")

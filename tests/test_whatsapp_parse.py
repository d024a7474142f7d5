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


def contacts(card: dict, *, wa_id: str | None = "6281234567890", user_id: str | None = "ID.8730915502217746301"):
    """A `contacts` message as the Cloud API sends it, from a user with a phone number, a business-scoped id, or
    both (issue 15: users known only by their business-scoped id are asked for their number)."""
    message = {"id": "wamid.contact1", "timestamp": "1795788000", "type": "contacts", "contacts": [card]}
    contact = {"profile": {"name": "Budi"}}
    if wa_id:
        message["from"] = contact["wa_id"] = wa_id
    if user_id:
        message["from_user_id"] = contact["user_id"] = user_id
    [item], _ = split({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages",
                       "value": {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}}]}]})
    return parse(item.payload)


def card(*phones: tuple[str, str], origin: str = "other") -> dict:
    return {"name": {"formatted_name": "Budi"}, "origin": origin,
            "phones": [{"phone": phone, "wa_id": wa_id, "type": "CELL"} for phone, wa_id in phones]}


@pytest.mark.parametrize("shared, wa_id, phone, own", [
    (card(("+62 812-3456-7890", "6281234567890"), origin="contact_request"), None, "+62 812-3456-7890", True),
    (card(("+62 812-3456-7890", "6281234567890")), "6281234567890", "+62 812-3456-7890", True),  # own card
    (card(("+62 813-0000-1111", "6281300001111")), "6281234567890", "+62 813-0000-1111", False),  # a neighbour's
    (card(("+62 813-0000-1111", "6281300001111")), None, "+62 813-0000-1111", False),  # no sign it is theirs
    (card(("", "6281300001111"), ("+62 812-3456-7890", "6281234567890")), "6281234567890", "+62 812-3456-7890", True),
    ({"name": {"formatted_name": "Kosong"}, "origin": "contact_request", "phones": []}, None, "", False),
])
def test_a_shared_contact_carries_its_number_and_whether_it_is_the_senders_own(shared, wa_id, phone, own):
    event = contacts(shared, wa_id=wa_id)
    assert event.kind == Kind.CONTACT and event.phone == phone and event.own_contact is own
    assert event.sender.id == (wa_id or "ID.8730915502217746301")

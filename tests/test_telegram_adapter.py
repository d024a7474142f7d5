"""Telegram parse and render as tables over recorded updates and outbound messages."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove

from bots.telegram.parse import conversation_key, parse
from bots.telegram.render import render
from core import outbox
from core.messages import Address, Choice, GeoPoint, Kind, Outbound

DATA = Path(__file__).parent / "data" / "telegram"


def load(name: str) -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


@pytest.mark.parametrize("name, kind, check", [
    ("text", Kind.TEXT, lambda e: e.text == "Tolong ada kebakaran di pasar"),
    ("command_start", Kind.COMMAND, lambda e: e.command == "start" and e.args == ""),
    ("command_with_botname", Kind.COMMAND, lambda e: e.command == "status"),
    ("photo", Kind.PHOTO, lambda e: e.media.file_id.endswith("_large") and e.media.size == 96311
     and e.text == "api besar"),
    ("location", Kind.LOCATION, lambda e: e.location == GeoPoint(-7.016712, 113.866721)),
    ("venue", Kind.LOCATION, lambda e: e.text == "Masjid Jamik Sumenep"),
    ("voice", Kind.VOICE, lambda e: e.media is None),
    ("sticker", Kind.STICKER, lambda e: True),
    ("video", Kind.VIDEO, lambda e: True),
    ("document_pdf", Kind.DOCUMENT, lambda e: e.media.size == 48213),
    ("contact", Kind.CONTACT, lambda e: e.phone == "+6281234567890"),
    ("callback", Kind.CHOICE, lambda e: e.choice == "type:fire" and e.callback_id == "4382bfdwdsb323b2d9"),
    ("group_command", Kind.COMMAND, lambda e: not e.is_private and e.chat == Address("telegram", "-1001000000001")
     and e.sender == Address("telegram", "1001")),
])
def test_parse_recorded_updates(name, kind, check):
    event = parse(load(name))
    assert event.kind == kind
    assert check(event)
    if name != "group_command":
        assert event.sender == Address("telegram", "5001") and event.sender_name == "Budi Santoso"
        assert event.language_code == "id"


@pytest.mark.parametrize("name", ["edited_message", "my_chat_member"])
def test_updates_we_do_not_act_on(name):
    assert parse(load(name)) is None


def test_conversation_key_is_the_chat():
    assert conversation_key(load("text")) == "telegram:5001"
    assert conversation_key(load("callback")) == "telegram:5001"
    assert conversation_key(load("group_command")) == "telegram:-1001000000001"


def p(message: Outbound) -> Outbound:
    return outbox.decode(json.loads(json.dumps(asdict(message))))  # as the sender reads it from the outbox


TO = Address("telegram", "5001")


def test_render_choices_as_inline_keyboard_in_columns():
    [call] = render(p(Outbound(TO, "Pilih", choices=(Choice("a", "A"), Choice("b", "B"), Choice("c", "C")),
                               columns=2)))
    assert call.method == "send_message" and call.kwargs["chat_id"] == 5001
    markup = call.kwargs["reply_markup"]
    assert isinstance(markup, InlineKeyboardMarkup)
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [["a", "b"], ["c"]]


def test_render_location_request_and_keyboard_removal():
    [call] = render(p(Outbound(TO, "Di mana?", request_location=True, location_label="📍 Kirim lokasi")))
    button = call.kwargs["reply_markup"].keyboard[0][0]
    assert isinstance(call.kwargs["reply_markup"], ReplyKeyboardMarkup) and button.request_location
    assert button.text == "📍 Kirim lokasi"
    [call] = render(p(Outbound(TO, "ok", remove_keyboard=True)))
    assert isinstance(call.kwargs["reply_markup"], ReplyKeyboardRemove)


def test_render_photo_card_with_long_text_and_a_pin():
    long = "x" * 1000 + "\n" + "y" * 200
    calls = render(p(Outbound(TO, long, photo_media_id=1, choices=(Choice("op:verify:1", "V"),))), photo=b"jpeg")
    assert [c.method for c in calls] == ["send_photo", "send_message"]
    assert len(calls[0].kwargs["caption"]) <= 1024 and calls[0].kwargs["reply_markup"] is None
    assert calls[1].kwargs["reply_markup"] is not None  # buttons go on the last message
    [pin] = render(p(Outbound(TO, location=GeoPoint(-7.0, 113.8))))
    assert pin.method == "send_location" and pin.kwargs["latitude"] == -7.0


def test_render_long_text_in_chunks_and_callback_answers():
    calls = render(p(Outbound(TO, "a" * 5000)))
    assert [len(c.kwargs["text"]) for c in calls] == [4096, 904]
    [answer] = render(p(Outbound(TO, answer_callback="cb1", text="Hanya operator")))
    assert answer.method == "answer_callback_query" and answer.kwargs == {"callback_query_id": "cb1",
                                                                          "text": "Hanya operator"}


def test_render_edit_follows_how_the_card_was_sent():
    card = p(Outbound(TO, "card", photo_media_id=3, choices=(Choice("op:verify:1", "V"),)))
    [edit] = __import__("bots.telegram.render", fromlist=["render_edit"]).render_edit(
        p(Outbound(TO, "x" * 1100, choices=(Choice("op:pick:1", "P"),), edit_of="card:1")), 77, card)
    assert edit.method == "edit_message_caption" and edit.kwargs["message_id"] == 77
    assert len(edit.kwargs["caption"]) == 1024 and edit.kwargs["caption"].endswith("…")
    from bots.telegram.render import render_edit
    [edit] = render_edit(p(Outbound(TO, "new", edit_of="card:1")), 78, p(Outbound(TO, "text card")))
    assert edit.method == "edit_message_text" and edit.kwargs["reply_markup"].inline_keyboard == ()


ASK_NUMBER = Outbound(TO, "Nomor HP untuk ditelepon balik?", choices=(Choice("skip", "⏭ Lewati"),),
                      request_contact=True, contact_label="📱 Kirim nomor saya")


def test_render_contact_request_with_its_choices_on_one_reply_keyboard():
    """A message has one keyboard, and a reply keyboard holds no inline buttons: Skip rides as a reply button."""
    [call] = render(p(ASK_NUMBER))
    markup = call.kwargs["reply_markup"]
    assert isinstance(markup, ReplyKeyboardMarkup) and markup.one_time_keyboard and markup.resize_keyboard
    [[share], [skip]] = markup.keyboard
    assert (share.text, share.request_contact) == ("📱 Kirim nomor saya", True)
    assert (skip.text, skip.request_contact) == ("⏭ Lewati", None)  # pressing it sends the label as text
    assert call.kwargs["text"] == ASK_NUMBER.text


@pytest.mark.parametrize("card, own", [
    ({"phone_number": "+6281234567890", "first_name": "Budi", "user_id": 5001}, True),  # the share button
    ({"phone_number": "+6281299990000", "first_name": "Ibu", "user_id": 5002}, False),  # someone else's card
    ({"phone_number": "+6281299990000", "first_name": "Tetangga"}, False),  # a card of no Telegram user
])
def test_parse_contact_says_whether_it_is_the_senders_own(card, own):
    update = load("contact")
    update["message"]["contact"] = card
    event = parse(update)
    assert event.kind == Kind.CONTACT and event.phone == card["phone_number"] and event.own_contact is own


async def test_the_fake_bot_api_takes_the_contact_keyboard_and_the_contact_comes_back():
    """Real python-telegram-bot against the fake: the keyboard goes out as rendered, and a shared contact parses."""
    from telegram import Bot
    from telegram.error import BadRequest

    from tests.fakes.telegram_api import FakeTelegram

    async with FakeTelegram() as fake:
        fake.user(5001, "Budi")
        fake.start_private(5001)
        fake.group(-1001000000001)
        async with Bot(fake.token, base_url=f"{fake.base_url}/bot") as bot:
            for call in render(p(ASK_NUMBER)):
                await getattr(bot, call.method)(**call.kwargs)
            [sent] = fake.sent(5001)
            assert sent["_reply_markup"]["keyboard"] == [[{"text": "📱 Kirim nomor saya", "request_contact": True}],
                                                          [{"text": "⏭ Lewati"}]]
            in_group = p(Outbound(Address("telegram", "-1001000000001"), "?", request_contact=True))
            with pytest.raises(BadRequest, match="private chats"):  # contacts are asked in private chats only
                await getattr(bot, render(in_group)[0].method)(**render(in_group)[0].kwargs)
        own = parse(await fake.send_contact(5001, "+6281234567890"))
        other = parse(await fake.send_contact(5001, "+6281299990000", of_user_id=5002))
        assert (own.kind, own.phone, own.own_contact) == (Kind.CONTACT, "+6281234567890", True)
        assert (other.phone, other.own_contact) == ("+6281299990000", False)

"""Shared steps of the end-to-end tests: people, groups and the citizen's walk through a report."""
from __future__ import annotations

import re

from core.i18n import t
from tests.harness import eventually

CITIZEN = 5001
OPERATORS = -1001000000001
SUMENEP = (-7.0167, 113.8667)


def last_with_button(fake, chat_id: int, data: str) -> dict | None:
    for message in reversed(fake.sent(chat_id)):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if any(b.get("callback_data") == data for row in rows for b in row):
            return message
    return None


def texts(fake, chat_id: int) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in fake.sent(chat_id))


async def wait_text(fake, chat_id: int, fragment: str) -> None:
    await eventually(lambda: fragment in texts(fake, chat_id), timeout=40)


async def wait_new(fake, chat_id: int, fragment: str, since: int) -> dict:
    """Wait for a message after the first `since` ones in the chat that contains `fragment`."""
    def found():
        return next((m for m in fake.sent(chat_id)[since:]
                     if fragment in (m.get("text") or m.get("caption") or "")), None)
    return await eventually(found, timeout=40)


def asked(key: str) -> str:
    """A fragment of the catalog's text for `key` (its first words), to wait for whatever the wording."""
    return t("id", key).split("\n")[0][:18]


TICKET = re.compile(r"\b[A-Z]{2,6}-\d\d-\d\d-\d\d\b")


async def start_fire_report(fake) -> int:
    """/start, pick Fire, and wait until the location is asked (urgent: where first); returns where this
    report's messages begin."""
    since = len(fake.sent(CITIZEN))
    await fake.send_text(CITIZEN, "/start")
    menu = await eventually(lambda: last_with_button(fake, CITIZEN, "type:fire"))
    await fake.press_button(CITIZEN, menu, "type:fire")
    await wait_new(fake, CITIZEN, asked("report.ask_location"), since)
    return since


async def report_fire(fake, photo: bytes) -> str:
    """Walk the citizen's conversation for a fire; return the ticket number the bot gave."""
    since = await start_fire_report(fake)
    await fake.send_location(CITIZEN, *SUMENEP)
    await wait_new(fake, CITIZEN, asked("report.ask_photo_optional"), since)
    before = len(fake.sent(CITIZEN))
    await fake.send_photo(CITIZEN, photo)
    phone, summary = asked("talk.ask_phone"), asked("report.summary")
    nxt = await eventually(lambda: next((m for m in fake.sent(CITIZEN)[before:]
                                         if phone in (m.get("text") or "") or summary in (m.get("text") or "")),
                                        None), timeout=40)
    if phone in nxt["text"]:  # asked once per chat
        await fake.send_text(CITIZEN, "lewati")  # no call-back number
        await wait_new(fake, CITIZEN, summary, before)
    await fake.send_text(CITIZEN, "Gudang kayu terbakar, api membesar")
    await wait_new(fake, CITIZEN, "Gudang kayu terbakar, api membesar", since)
    confirm = await eventually(lambda: last_with_button(fake, CITIZEN, "confirm:send"))
    await fake.press_button(CITIZEN, confirm, "confirm:send")
    done = await eventually(lambda: next((m for m in fake.sent(CITIZEN)[since:]
                                          if TICKET.search(m.get("text") or "")), None), timeout=40)
    return TICKET.search(done["text"]).group(0)


def with_button(message: dict, data: str) -> dict:
    """A copy of a sent message carrying the button `data`, for pressing a button of an older keyboard."""
    copy = {**message, "reply_markup": {"inline_keyboard": [[{"text": data, "callback_data": data}]]}}
    return copy


async def press(fake, user_id: int, message: dict, data: str) -> dict:
    return await fake.press_button(user_id, with_button(message, data), data)


def find(fake, chat_id: int, fragment: str) -> dict | None:
    """The latest message (edits applied) in a chat whose text or caption contains `fragment`."""
    for message in reversed(fake.sent(chat_id)):
        if fragment in (message.get("text") or message.get("caption") or ""):
            return message
    return None


def buttons(message: dict | None) -> list[str]:
    rows = ((message or {}).get("reply_markup") or {}).get("inline_keyboard") or []
    return [b.get("callback_data") for row in rows for b in row]


async def answer_for(fake, update: dict) -> str:
    """The text of the answer (the toast) the bot gave to this button press."""
    query_id = update["callback_query"]["id"]

    def found():
        return next((a.get("text") or "-" for a in fake.callback_answers() if a["callback_query_id"] == query_id),
                    None)
    return await eventually(found)


def latest_card(fake, chat_id: int, ticket: str) -> dict | None:
    """The latest card (a message with buttons, edits applied) about `ticket`, not a reminder naming it."""
    for message in reversed(fake.sent(chat_id)):
        if ticket in (message.get("text") or message.get("caption") or "") and buttons(message):
            return message
    return None


def card_text(fake, chat_id: int, ticket: str) -> str:
    card = latest_card(fake, chat_id, ticket)
    return (card.get("text") or card.get("caption") or "") if card else ""

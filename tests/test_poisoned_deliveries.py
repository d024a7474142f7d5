"""One poisoned delivery must not stall a chat: an authenticated delivery that parses as JSON is acknowledged
200 once stored, and one that cannot be used or stored as sent is parked (kept, counted, shown) — on SQLite
and PostgreSQL, whose `json` type refuses NaN. An event that keeps failing, or kills the process, is parked
after its tries; failures log no citizen text."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import select

from bots.app import create_app
from bots.pipeline.processor import Processor
from core import inbox
from core.clock import FakeClock
from core.models import InboxItem, OutboxItem
from core.settings import load_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.harness import SECRET, SECRET_KEY, WA_VERIFY

WA = FakeWhatsApp()
CITIZEN = 5001


def app_for(db_url: str, config, clock=None):
    settings = load_settings(
        database_url=db_url, public_base_url=None, telegram_bot_token=FakeTelegram().token,
        telegram_api_base_url="http://127.0.0.1:9", telegram_webhook_secret=SECRET, telegram_mode="webhook",
        siaga_secret_key=SECRET_KEY, whatsapp_access_token=WA.token, whatsapp_phone_number_id=WA.phone_number_id,
        whatsapp_app_secret=WA.app_secret, whatsapp_verify_token=WA_VERIFY, whatsapp_api_base_url="http://127.0.0.1:9")
    return create_app(settings, config, clock=clock, run_worker=False)  # no lifespan: nothing sent, no worker


@pytest.fixture
async def web(db_url, config):
    clock = FakeClock()
    app = app_for(db_url, config, clock)
    deps = app.state.deps
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        client.deps, client.clock = deps, clock
        yield client
    await deps.channels["whatsapp"].session.aclose()
    await deps.engine.dispose()


async def rows(client) -> list[InboxItem]:
    async with client.deps.sessions() as s:
        return list((await s.execute(select(InboxItem).order_by(InboxItem.id))).scalars())


async def post_telegram(client, body: bytes) -> httpx.Response:
    return await client.post("/webhooks/telegram", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                                                          "Content-Type": "application/json"})


async def post_whatsapp(client, body: bytes) -> httpx.Response:
    signature = "sha256=" + hmac.new(WA.app_secret.encode(), body, hashlib.sha256).hexdigest()
    return await client.post("/webhooks/whatsapp", content=body, headers={"X-Hub-Signature-256": signature,
                                                                          "Content-Type": "application/json"})


def tg_message(update_id, text="tolong", chat_id=CITIZEN, **extra) -> dict:
    return {"update_id": update_id, "message": {
        "message_id": 1, "date": 1767225600, "chat": {"id": chat_id, "type": "private"},
        "from": {"id": CITIZEN, "is_bot": False, "first_name": "Budi"}, "text": text, **extra}}


def tg_press(update_id, data: str, user=CITIZEN, chat=CITIZEN, chat_type="private") -> dict:
    return {"update_id": update_id, "callback_query": {
        "id": f"cb{update_id}", "chat_instance": "1", "data": data,
        "from": {"id": user, "is_bot": False, "first_name": "Budi"},
        "message": {"message_id": 9, "date": 1767225600, "chat": {"id": chat, "type": chat_type}}}}


def wa_notification(message: dict) -> dict:
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": WA.phone_number_id},
        "contacts": [{"wa_id": "6281234567890", "profile": {"name": "Budi"}}], "messages": [message]}}]}]}


# ---- item 10: acknowledged and parked, never refused or 503 ----------------------------------------------------

async def test_a_nan_update_is_acknowledged_parked_and_counted(web):
    body = json.dumps(tg_message(10, edit_date=float("nan"))).encode()  # `NaN`: PostgreSQL's json refuses it
    assert (await post_telegram(web, body)).status_code == 200
    assert (await post_telegram(web, body)).status_code == 200  # Telegram's re-delivery: no second row
    [row] = await rows(web)
    assert (row.external_id, row.status) == ("10", "parked") and "NaN" in row.error
    assert row.payload["message"]["edit_date"] is None and row.payload["message"]["text"] == "tolong"
    metrics = (await web.get("/metrics")).text
    assert 'siaga_inbox_events{status="parked"} 1.0' in metrics
    assert 'siaga_deliveries_parked_total{channel="telegram"}' in metrics
    assert await Processor(web.deps).run_once() == 0  # parked: never processed, never retried


@pytest.mark.parametrize("update", [
    {"update_id": {"id": 7}, "message": {"text": "x"}},  # an object where the id belongs
    {"update_id": "12"}, {"update_id": -1}, {"update_id": 2**64}, {"update_id": True}, [1, 2], "text", None,
    {"update_id": 1e400}, {"update_id": 13, "message": {"text": "\ud800 lone surrogate"}},
])
async def test_an_unusable_telegram_update_is_acknowledged_and_parked(web, update):
    body = json.dumps(update, allow_nan=True).encode()
    response = await post_telegram(web, body)
    assert response.status_code == 200, response.text
    assert (await post_telegram(web, body)).status_code == 200
    [row] = await rows(web)
    assert row.status == "parked" and row.conversation_key == "telegram:other" and row.error


async def test_an_object_where_the_chat_id_belongs_is_stored_and_changes_nothing(web):
    """It used to become a 300-character conversation key: over PostgreSQL's column, so 503 for a day."""
    update = tg_message(14, chat_id={"x": "y" * 300})
    assert (await post_telegram(web, json.dumps(update).encode())).status_code == 200
    [row] = await rows(web)
    assert row.conversation_key == "telegram:other"
    assert await Processor(web.deps).run_once() == 1
    assert [r.status for r in await rows(web)] == ["done"]


@pytest.mark.parametrize("body", [
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"id": "w1", '
    b'"from": "6281234567890", "type": "text", "text": {"body": "x"}, "timestamp": NaN}]}}]}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"id": "w2", '
    b'"from": "6281234567890", "type": "text", "text": {"body": "\\udc00"}}]}}]}]}',
    b'[1, 2, 3]', b'"just text"',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [{"id": {"x": 1}, '
    b'"from": ["6281234567890"], "type": "text"}]}}]}]}',
])
async def test_an_unusable_whatsapp_notification_is_acknowledged_and_parked(web, body):
    response = await post_whatsapp(web, body)
    assert response.status_code == 200, response.text
    assert (await post_whatsapp(web, body)).status_code == 200  # Meta's re-delivery: no second row
    [row] = await rows(web)
    assert row.status == "parked" and row.error


async def test_broken_json_and_a_bad_secret_are_still_refused(web):
    assert (await post_telegram(web, b'{"update_id": 1,')).status_code == 400
    assert (await web.post("/webhooks/telegram", content=b'{"update_id": 1}',
                           headers={"X-Telegram-Bot-Api-Secret-Token": "forged"})).status_code == 403
    assert await rows(web) == []


async def test_503_only_when_storage_is_down(config):
    app = app_for("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere", config)  # nothing listens there
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await post_telegram(client, json.dumps(tg_message(20, edit_date=float("inf"))).encode())
    await app.state.deps.channels["whatsapp"].session.aclose()
    await app.state.deps.engine.dispose()
    assert response.status_code == 503


# ---- item 2: numbers and button data a citizen supplies ---------------------------------------------------------

STARS = 10_000_000  # "⭐" * this: 40 MB of text, then a JSON copy of it in the outbox


@pytest.mark.parametrize("data", [f"rate:1:{STARS}", "rate:99999999999:5", "rate:1:" + "9" * 5000,
                                  "op:verify:99999999999", "tk:eta:1:99999999999999999999", "type:" + "x" * 80,
                                  "rate:1:5\n", "rate:1:²", "lang:id:" + "1" * 40])
async def test_absurd_button_data_is_dropped_at_every_channel(web, data):
    """Telegram, WhatsApp and the web chat each hand the press to the flows only when it is data the bot
    could have offered; nothing is built from it, the database is never asked for an id it cannot hold."""
    await post_telegram(web, json.dumps(tg_press(30, data)).encode())
    await post_whatsapp(web, json.dumps(wa_notification(
        {"id": "w30", "from": "6281234567890", "type": "interactive",
         "interactive": {"type": "button_reply", "button_reply": {"id": data, "title": "5"}}})).encode())
    async with web.deps.sessions() as s, s.begin():
        await inbox.store(s, channel="web", external_id="c30", conversation_key="web:c30",
                          payload={"chat": "c30", "kind": "choice", "choice": data}, now=web.clock.now())
    assert await Processor(web.deps).run_once() == 3
    assert [r.status for r in await rows(web)] == ["done", "done", "done"]
    async with web.deps.sessions() as s:
        out = [o.payload for o in (await s.execute(select(OutboxItem))).scalars()]
    assert all(not o.get("text") and len(json.dumps(o)) < 1000 for o in out)  # at most the press answered


async def test_a_rating_within_range_still_reaches_the_flow(web):
    assert (await post_telegram(web, json.dumps(tg_press(31, "rate:1:5")).encode())).status_code == 200
    assert await Processor(web.deps).run_once() == 1
    async with web.deps.sessions() as s:
        out = [o.payload for o in (await s.execute(select(OutboxItem))).scalars()]
    assert any(o.get("text") for o in out)  # "⭐⭐⭐⭐⭐ thanks", or "not your case" (there is none)


# ---- an event that keeps failing, or kills the process, is parked -------------------------------------------------

async def test_an_event_that_keeps_failing_is_parked_and_logs_no_citizen_text(web, monkeypatch, session_log):
    async def boom(deps, item_id, event):
        raise ValueError(f"invalid input for query argument $1: '{event.text}' (value too long)")

    monkeypatch.setattr(web.deps, "handlers", replace(web.deps.handlers, apply=boom))
    secret = "rumah Budi di Jalan Mawar terbakar"
    seen = len(session_log.lines())
    assert (await post_telegram(web, json.dumps(tg_message(40, text=secret)).encode())).status_code == 200
    for _ in range(inbox.MAX_ATTEMPTS):
        await Processor(web.deps).run_once()
        web.clock.advance(hours=1)
    [row] = await rows(web)
    assert (row.status, row.attempts) == ("parked", inbox.MAX_ATTEMPTS)
    assert "Budi" not in row.error and row.error.startswith("ValueError: invalid input for query argument")
    await Processor(web.deps).run_once()
    assert (await rows(web))[0].attempts == inbox.MAX_ATTEMPTS  # never retried again
    logged = session_log.lines()[seen:]
    failed = [line for line in logged if '"event_failed"' in line]
    assert len(failed) == inbox.MAX_ATTEMPTS and '"error": "ValueError"' in failed[0]
    assert '"detail": "invalid input for query argument $1"' in failed[0]
    assert not [line for line in logged if "Mawar" in line]


class Killed(BaseException):
    """What the process sees of an out-of-memory kill: nothing after this line runs."""


async def test_an_event_that_kills_the_process_is_parked_after_its_tries(web, monkeypatch):
    real = web.deps.handlers.apply

    async def kill_on_the_first(deps, item_id, event):
        if event is not None and event.text == "poison":
            raise Killed
        return await real(deps, item_id, event)

    monkeypatch.setattr(web.deps, "handlers", replace(web.deps.handlers, apply=kill_on_the_first))
    await post_telegram(web, json.dumps(tg_message(50, text="poison")).encode())
    await post_telegram(web, json.dumps(tg_message(51, text="tolong")).encode())
    for _ in range(inbox.MAX_ATTEMPTS):  # each restart tries it once more, and dies again
        with pytest.raises(Killed):
            await Processor(web.deps).run_once()
        web.clock.advance(hours=1)
    assert await Processor(web.deps).run_once() == 2  # parked, then the chat's next message goes through
    poison, after = await rows(web)
    assert (poison.status, poison.attempts, after.status) == ("parked", inbox.MAX_ATTEMPTS, "done")

"""End to end over HTTP: the real app and python-telegram-bot against the fake Bot API server."""
from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from core.models import Case, CaseEvent, InboxItem, Media, OutboxItem
from tests.e2e_support import (
    CITIZEN,
    OPERATORS,
    SUMENEP,
    asked,
    last_with_button,
    report_fire,
    start_fire_report,
    wait_new,
    wait_text,
)
from tests.harness import SECRET, eventually
from tests.images import phone_jpeg


async def test_citizen_reports_a_fire_and_the_command_centre_hears_of_it(fake, gw, config):
    photo = phone_jpeg()
    assert fake.webhook["url"] == f"{gw.url}/webhooks/telegram" and fake.webhook["secret_token"] == SECRET
    ticket = await report_fire(fake, photo)

    card = await eventually(lambda: next((m for m in fake.sent(OPERATORS) if ticket in (m.get("caption") or "")),
                                         None))
    assert card["_method"] == "sendPhoto" and "Kebakaran" in card["caption"] and "Budi" in card["caption"]
    buttons = [b["callback_data"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert [":".join(b.split(":")[:2]) for b in buttons] == [
        "case:verify", "case:pick_agency", "case:reject", "case:duplicate", "case:call"]
    assert f"query={SUMENEP[0]:.5f},{SUMENEP[1]:.5f}" in card["caption"]  # a map link, not a second message
    assert not any(m.get("location") for m in fake.sent(OPERATORS))
    for leader in config.leadership:
        await wait_text(fake, leader.telegram_user_id, ticket)

    forwarded = Image.open(io.BytesIO(card["_photo_bytes"]))
    assert not forwarded.getexif() and "exif" not in forwarded.info  # no GPS leaves with the copy
    async with gw.deps.sessions() as s:
        case = (await s.execute(select(Case).where(Case.ticket == ticket))).scalar_one()
        assert (case.state, case.incident_type, case.urgent) == ("submitted", "fire", True)
        assert case.description == "Gudang kayu terbakar, api membesar"
        media = await s.get(Media, case.photo_media_id)
        assert media.original == photo  # the evidence is kept exactly as sent
        events = (await s.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                  .order_by(CaseEvent.id))).scalars().all()
        assert [(e.from_state, e.to_state) for e in events] == [(None, "draft"), ("draft", "submitted")]
        assert all(e.actor == f"telegram:{CITIZEN}" and e.at is not None for e in events)
    assert fake.limit_violations == []
    assert fake.callback_answers()  # every button press was answered


async def test_a_redelivered_update_has_no_second_effect(fake, gw):
    update = await fake.send_text(CITIZEN, "halo")
    await eventually(lambda: last_with_button(fake, CITIZEN, "type:fire"))
    status = await fake.redeliver(update)
    assert status == 200
    await asyncio.sleep(1.0)
    async with gw.deps.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.channel == "telegram")) == 1
    assert len(fake.sent(CITIZEN)) == 1


async def test_two_messages_at_once_are_handled_one_after_the_other(fake, gw):
    await start_fire_report(fake)
    await asyncio.gather(fake.send_photo(CITIZEN, phone_jpeg()), fake.send_location(CITIZEN, *SUMENEP))
    await wait_text(fake, CITIZEN, asked("talk.ask_phone"))  # both kept: neither overwrote the other
    async with gw.deps.sessions() as s:
        from core.models import Conversation
        conv = await s.get(Conversation, f"telegram:{CITIZEN}")
    draft = conv.state["draft"]
    assert draft["photo_media_id"] and draft["latitude"] == SUMENEP[0] and conv.state["step"] == "phone"
    assert conv.version == 4


async def test_a_429_delays_the_send_and_loses_nothing(fake, gw):
    fake.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=CITIZEN)
    await fake.send_text(CITIZEN, "halo")
    await eventually(lambda: last_with_button(fake, CITIZEN, "type:fire"))
    attempts = [c for c in fake.calls if c.method == "sendMessage"]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.95

    async def all_sent():
        async with gw.deps.sessions() as s:
            return [r.status for r in (await s.execute(select(OutboxItem))).scalars()] == ["sent"]
    await eventually(all_sent)


@pytest.mark.parametrize("headers, body, status, parked", [
    ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, b'{"update_id": 1}', 403, 0),
    ({}, b'{"update_id": 1}', 403, 0),
    ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b'{"update_id": 1,', 400, 0),
    # Authenticated JSON that is no usable update: acknowledged and parked, or Telegram would re-send it for a
    # day, holding back that chat's later updates (issue 12 item 10).
    ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b'[1, 2]', 200, 1),
    ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b'{"update_id": "x"}', 200, 1),
    ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b'\xff\xfe', 400, 0),
    ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, b'{"update_id": 1, "pad": "' + b"x" * 1_100_000 + b'"}', 413, 0),
])
async def test_bad_input_gets_a_clear_status_and_changes_nothing(fake, gw, headers, body, status, parked):
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{gw.url}/webhooks/telegram", content=body,
                                     headers={"Content-Type": "application/json", **headers})
    assert response.status_code == status
    async with gw.deps.sessions() as s:
        rows = list((await s.execute(select(InboxItem.status))).scalars())
    assert rows == ["parked"] * parked


async def test_health_ready_and_metrics(fake, gw):
    await fake.send_text(CITIZEN, "halo")
    await eventually(lambda: last_with_button(fake, CITIZEN, "type:fire"))
    await asyncio.sleep(0.3)  # the sender marks the row sent just after the fake records it
    async with httpx.AsyncClient(base_url=gw.url) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["database"] is True
        metrics = (await client.get("/metrics")).text
    assert 'siaga_updates_received_total{channel="telegram"}' in metrics
    assert 'siaga_outbox_messages{status="sent"} 1.0' in metrics and 'siaga_inbox_events{status="done"} 1.0' in metrics


@pytest.fixture
def json_logs(session_log):
    """Configure the product's JSON logging at DEBUG for this test and hand back everything it printed (the
    session log gets the lines too, and its capture is put back afterwards)."""
    from bots.logging import configure
    from tests.session_log import Tee
    stream = io.StringIO()
    configure("DEBUG", Tee(stream, session_log.stream))
    yield stream.getvalue
    session_log.install()


async def test_logs_carry_no_token_phone_number_or_file_url(fake, gw, json_logs):
    await fake.send_contact(CITIZEN, "+6281234567890")
    await report_fire(fake, phone_jpeg())
    await eventually(lambda: any("google.com/maps" in (m.get("caption") or "") for m in fake.sent(OPERATORS)))
    logs = json_logs()
    assert '"case_submitted"' in logs and '"ticket": "SMN-' in logs  # the logs do carry the ticket
    for secret in (fake.token, fake.token.split(":")[1], "6281234567890", "81234567890", "/file/bot", SECRET):
        assert secret not in logs


async def test_a_pdf_sent_as_the_photo_is_refused_and_the_report_goes_on(fake, gw):
    from tests.images import PDF
    since = await start_fire_report(fake)
    await fake.send_location(CITIZEN, *SUMENEP)
    await wait_new(fake, CITIZEN, asked("report.ask_photo_optional"), since)
    await fake.send_document(CITIZEN, PDF)
    await wait_text(fake, CITIZEN, "File ini bukan foto")
    skip = await eventually(lambda: last_with_button(fake, CITIZEN, "skip"))
    await fake.press_button(CITIZEN, skip, "skip")
    await wait_text(fake, CITIZEN, asked("talk.ask_phone"))


async def test_the_bot_command_list_is_registered_in_both_languages(fake, gw):
    scopes = fake.commands_by_scope
    assert {lang for (_, lang) in scopes} >= {"", "en"}
    assert [c["command"] for c in next(iter(scopes.values()))] == ["start", "status", "batal", "bahasa", "bantuan"]


async def test_a_group_upgraded_to_a_supergroup_is_followed(fake, gw, tmp_path):
    new_id = -1009999999999
    fake.migrate_group(OPERATORS, new_id)
    ticket = await report_fire(fake, phone_jpeg())
    await eventually(lambda: any(ticket in (m.get("caption") or "") for m in fake.sent(new_id)))

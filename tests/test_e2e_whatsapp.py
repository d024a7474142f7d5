"""WhatsApp end to end over signed webhooks: the real pywa client against the fake Graph API."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from core.models import Case, CaseEvent, Conversation, InboxItem, OutboxItem, Task
from tests.conftest import fresh_database_url
from tests.e2e_support import OPERATORS, TICKET, answer_for, asked, buttons, find, press, report_fire, wait_text
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.harness import WA_VERIFY, eventually, gateway
from tests.images import PDF, noisy_jpeg, phone_jpeg
from tests.wa_support import TEMPLATES, body, choose, option_ids, wait_body, wait_option

SARI = "6281234567890"
PSC = -1001000000102
PSC_CREW = 3003
OPERATOR = 1001


@pytest.fixture
async def wa():
    async with FakeWhatsApp() as wa:
        wa.pair_interval = 0.3
        wa.templates |= TEMPLATES
        wa.user(SARI, "Sari")
        yield wa


@pytest.fixture(params=["embedded", "production"])
async def wgw(request, fake, wa, tmp_path, redis_url):
    if request.param == "embedded":
        async with gateway(fake, await fresh_database_url("sqlite", tmp_path), wa=wa) as g:
            yield g
    else:
        url = await fresh_database_url("postgres", tmp_path)
        async with gateway(fake, url, redis_url=redis_url, run_worker=False, workers=2, wa=wa) as g:
            yield g


async def report_accident(wa) -> str:
    """Free text first: the words are kept as the description, the type proposed and confirmed with one tap."""
    await wa.send_text(SARI, "tolong ada kecelakaan, motor dan mobil bertabrakan, 2 orang luka")
    guess = await wait_option(wa, SARI, "guess:yes")
    await wa.press_button(SARI, guess["_id"], "guess:yes")
    await eventually(lambda: any(m.get("type") == "interactive" and
                                 m["interactive"].get("type") == "location_request_message" for m in wa.sent(SARI)),
                     timeout=40)
    await wa.send_location(SARI, -7.0167, 113.8667)  # urgent: where before the photo
    await wait_body(wa, SARI, asked("report.ask_photo_optional"))
    await wa.send_image(SARI, phone_jpeg())
    confirm = await wait_option(wa, SARI, "confirm:send")  # the wa_id is the number: no call-back question
    await wa.press_button(SARI, confirm["_id"], "confirm:send")
    done = await wait_body(wa, SARI, asked("report.submitted_urgent"))
    return TICKET.search(body(done)).group(0)


async def test_a_citizen_reports_on_whatsapp_and_rates_the_handling(fake, wa, wgw):
    ticket = await report_accident(wa)
    card = await eventually(lambda: find(fake, OPERATORS, ticket), timeout=40)
    assert "Melalui: WhatsApp — kontak: +6281234567890" in card["caption"] and "Nama: ❝Sari" in card["caption"]
    case_id = int(next(b for b in buttons(card) if b.startswith("case:verify")).split(":")[2])
    await press(fake, OPERATOR, card, f"op:verify:{case_id}")

    task_card = await eventually(lambda: find(fake, PSC, ticket), timeout=40)
    task = int(buttons(task_card)[0].split(":")[2])
    await press(fake, PSC_CREW, task_card, f"tk:eta:{task}:10")
    on_the_way = await wait_body(wa, SARI, "perkiraan tiba 10 menit")
    assert "sudah diperiksa operator 112" in body(on_the_way)  # WhatsApp: one billed message for both steps
    await press(fake, PSC_CREW, task_card, f"tk:arr:{task}")
    await press(fake, PSC_CREW, task_card, f"tk:done:{task}")
    await wait_text(fake, PSC, "balas pesan ini")
    await fake.send_photo(PSC_CREW, phone_jpeg(640, 480), caption="Korban dibawa ke RSUD", chat_id=PSC)
    await eventually(lambda: find(fake, OPERATORS, "Dokumentasi " + ticket), timeout=40)
    polres = await eventually(lambda: find(fake, -1001000000103, ticket), timeout=40)
    await press(fake, 3004, polres, f"tk:rr:{int(buttons(polres)[0].split(':')[2])}:not_ours")  # police not needed
    await press(fake, PSC_CREW, task_card, f"tk:send:{task}")

    rating = await wait_option(wa, SARI, f"rate:{case_id}:5")
    await wa.pick_list_row(SARI, rating["_id"], f"rate:{case_id}:5")
    await wait_body(wa, SARI, "Terima kasih atas penilaian")
    async with wgw.deps.sessions() as s:
        case = await s.get(Case, case_id)
    assert (case.state, case.rating, case.incident_type) == ("closed", 5, "traffic_accident")
    assert wa.limit_violations == [] and fake.limit_violations == []


async def test_handshake_and_forged_or_repeated_notifications(wa, wgw):
    async with httpx.AsyncClient(base_url=wgw.url) as c:
        ok = await c.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": WA_VERIFY,
                                                        "hub.challenge": "1158201444"})
        assert (ok.status_code, ok.text) == (200, "1158201444")
        bad = await c.get("/webhooks/whatsapp", params={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                                         "hub.challenge": "x"})
        assert bad.status_code == 403
    notification = await wa.send_text(SARI, "halo")
    await wait_body(wa, SARI, asked("report.ask_type"))  # the type menu (a list, or numbered when long)
    assert await wa.deliver(notification, signature="sha256=" + "0" * 64) == 403
    assert await wa.deliver(notification, signature=None) == 403
    assert await wa.redeliver(notification) == 200
    async with wgw.deps.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxItem)) == 1
    assert len(wa.sent(SARI)) == 1


async def test_forged_signature_writes_nothing(wa, wgw):
    raw = json.dumps({"object": "whatsapp_business_account", "entry": []}).encode()
    forged = "sha256=" + hmac.new(b"wrong-secret", raw, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient() as c:
        r = await c.post(wa.webhook_url, content=raw, headers={"X-Hub-Signature-256": forged,
                                                               "Content-Type": "application/json"})
        assert r.status_code == 403
        garbage = b"{not json"
        sig = "sha256=" + hmac.new(wa.app_secret.encode(), garbage, hashlib.sha256).hexdigest()
        r = await c.post(wa.webhook_url, content=garbage, headers={"X-Hub-Signature-256": sig})
        assert r.status_code == 400
    async with wgw.deps.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(InboxItem)) == 0
        assert await s.scalar(select(func.count()).select_from(Case)) == 0


async def test_a_big_image_or_a_pdf_as_the_photo_gets_a_clear_answer_and_the_report_goes_on(wa, wgw):
    await wa.send_text(SARI, "halo")
    await wait_body(wa, SARI, asked("report.ask_type"))
    await wa.send_text(SARI, "Kebakaran")  # the type's name, typed
    await wait_body(wa, SARI, asked("report.ask_location"))
    await wa.send_location(SARI, -7.0167, 113.8667)
    await wait_body(wa, SARI, asked("report.ask_photo_optional"))
    await wa.send_image(SARI, noisy_jpeg(6 * 1024 * 1024))
    await wait_body(wa, SARI, "Foto terlalu besar")
    await wa.send_document(SARI, PDF)
    await wait_body(wa, SARI, "File ini bukan foto")
    skip = await wait_option(wa, SARI, "skip", since=len(wa.sent(SARI)) - 1)
    await wa.press_button(SARI, skip["_id"], "skip")
    await wait_option(wa, SARI, "confirm:send")


async def test_the_rating_request_after_the_window_goes_out_as_the_template(fake, wa, wgw):
    ticket = await report_accident(wa)
    card = await eventually(lambda: find(fake, OPERATORS, ticket), timeout=40)
    assert card
    wa.expire_window(SARI)
    await age_window(wgw.deps, SARI)
    await fake.send_text(OPERATOR, f"/tutup {ticket}", chat_id=OPERATORS)
    template = await eventually(lambda: next((m for m in wa.sent(SARI) if m.get("type") == "template"
                                              and m["template"]["name"] == "siaga112_penilaian"), None), timeout=40)
    assert any(o.startswith("rate:") for o in option_ids(template)) and ticket in body(template)


async def age_window(deps, who: str) -> None:
    """Make the person's last message 25 hours old, as the gateway sees it."""
    async with deps.sessions() as s:
        conv = await s.get(Conversation, f"whatsapp:{who}")
        conv.last_inbound_at -= timedelta(hours=25)
        await s.commit()


async def test_a_crew_member_on_whatsapp_and_the_telegram_group_race_for_one_task(fake, wa, wgw):
    crew = "6281200000101"  # Regu Damkar A, also in Damkar's Telegram group
    ticket = await report_fire(fake, phone_jpeg())
    card = await eventually(lambda: find(fake, OPERATORS, ticket), timeout=40)
    await press(fake, OPERATOR, card, f"op:verify:{int(buttons(card)[0].split(':')[2])}")
    offer = await eventually(lambda: next((m for m in wa.sent(crew) if m.get("type") == "template"), None), timeout=40)
    assert offer["template"]["name"] == "siaga112_tugas_baru" and ticket in body(offer)  # never wrote: template
    task = int(option_ids(offer)[0].split(":")[2])
    await choose(wa, crew, offer, f"task:accept:{task}")
    eta = await wait_option(wa, crew, f"task:eta:{task}:5")
    await choose(wa, crew, eta, f"task:eta:{task}:5")
    group_card = await eventually(lambda: find(fake, -1001000000101, ticket), timeout=40)
    await wait_body(wa, crew, "Diterima. Perkiraan tiba 5 menit")
    late = await press(fake, 3002, group_card, f"tk:eta:{task}:10")  # Regu B in the Telegram group, too late
    assert "sudah diterima oleh Regu Damkar A" in await answer_for(fake, late)

    arrive = await wait_option(wa, crew, f"task:arrived:{task}")
    await choose(wa, crew, arrive, f"task:arrived:{task}")
    done = await wait_option(wa, crew, f"task:done:{task}", since=wa.sent(crew).index(arrive) + 1)
    await choose(wa, crew, done, f"task:done:{task}")
    await wait_body(wa, crew, "foto dokumentasi")
    await wa.send_image(crew, phone_jpeg(640, 480), caption="Api sudah padam")
    await eventually(lambda: find(fake, OPERATORS, "Dokumentasi " + ticket), timeout=40)
    send = await wait_option(wa, crew, f"task:send:{task}")
    await choose(wa, crew, send, f"task:send:{task}")
    await wait_text(fake, OPERATORS, "Api sudah padam")
    async with wgw.deps.sessions() as s:
        row = await s.get(Task, task)
    assert (row.state, row.owner, row.owner_name) == ("done", f"whatsapp:{crew}", "Regu Damkar A")


async def test_delivery_reports_are_recorded_on_the_messages(wa, wgw):
    wa.send_statuses = True
    await wa.send_text(SARI, "halo")
    await wait_body(wa, SARI, asked("report.ask_type"))  # the type menu (a list, or numbered when long)

    async def read():
        async with wgw.deps.sessions() as s:
            rows = (await s.execute(select(OutboxItem).where(OutboxItem.channel == "whatsapp"))).scalars().all()
        return rows and all(r.delivery_status == "read" for r in rows)
    await eventually(read, timeout=20)
    [row] = (await _rows(wgw))
    failed = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "statuses": [{"id": row.platform_message_id, "status": "delivered",
                                                       "timestamp": "1", "recipient_id": SARI}]}}]}]}
    assert await wa.deliver(failed) == 200  # a late "delivered" never moves a read message back
    [row] = (await _rows(wgw))
    assert row.delivery_status == "read"


async def _rows(wgw):
    async with wgw.deps.sessions() as s:
        return (await s.execute(select(OutboxItem).where(OutboxItem.channel == "whatsapp"))).scalars().all()


async def test_with_no_template_the_message_is_marked_undeliverable_on_the_timeline(fake, wa, tmp_path, config):
    bare = config.model_copy(update={"whatsapp": config.whatsapp.model_copy(update={"templates": {}})})
    async with gateway(fake, await fresh_database_url("sqlite", tmp_path), wa=wa, config=bare) as g:
        ticket = await report_accident(wa)
        await age_window(g.deps, SARI)
        await fake.send_text(OPERATOR, f"/tutup {ticket}", chat_id=OPERATORS)

        async def undeliverable():
            async with g.deps.sessions() as s:
                notes = (await s.execute(select(CaseEvent.note))).scalars().all()
            return any(n.startswith("undeliverable:whatsapp") for n in notes)
        await eventually(undeliverable, timeout=40)

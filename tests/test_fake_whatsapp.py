"""The fake WhatsApp Cloud API behaves like the real one for the real pywa_async client."""

import hashlib
import hmac
import io
import json
import pathlib

import httpx
import pytest
import pytest_asyncio
from PIL import Image
from pywa.types.base_update import RawUpdate
from pywa_async import WhatsApp
from pywa_async.errors import (
    ExpiredAccessToken,
    InvalidParameter,
    RateLimitHit,
    ReEngagementMessage,
    TemplateNotExists,
    ThrottlingError,
    TooManyMessages,
    WhatsAppError,
)
from pywa_async.types import Button, Section, SectionList, SectionRow
from pywa_async.types.templates import BodyText, QuickReplyButton, TemplateLanguage
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.telegram_api import LocalServer
from tests.fakes.whatsapp_api import DATA_DIR, FakeWhatsApp
from tests.images import PDF, phone_jpeg

CITIZEN = "6281234567890"
CREW = "6281200000101"
BSUID = "ID.8730915502217746301"


def png(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, format="PNG")
    return buffer.getvalue()


class Receiver:
    """A tiny webhook endpoint: answers with scripted statuses and records raw bodies and headers."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = statuses or []
        self.received: list[tuple[dict, bytes]] = []
        self.server = LocalServer(Starlette(routes=[Route("/hook", self.hook, methods=["POST"])]))

    async def hook(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(raw) for _, raw in self.received]


# One fake and one webhook receiver per module, reset before every test: starting and stopping uvicorn
# servers costs ~0.15 s each, which would be most of this file's run time.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server():
    async with FakeWhatsApp() as fake_server:
        yield fake_server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def hook():
    receiver = Receiver()
    async with receiver.server:
        yield receiver


@pytest_asyncio.fixture(loop_scope="module")
async def fake(server):
    await server.reset()
    yield server


@pytest_asyncio.fixture(loop_scope="module")
async def wa(fake):
    client = WhatsApp(phone_id=fake.phone_number_id, token=fake.token, api_version="23.0")
    client.api._session.base_url = f"{fake.base_url}/v23.0"
    yield client
    await client.api._session.aclose()


@pytest_asyncio.fixture(loop_scope="module")
async def receiver(fake, hook):
    hook.statuses, hook.received = [], []
    fake.webhook_url = f"{hook.server.base_url}/hook"
    yield hook


@pytest_asyncio.fixture(loop_scope="module")
async def citizen(fake):
    """A citizen who wrote first, so the 24-hour window is open."""
    fake.user(CITIZEN, "Siti Aminah")
    await fake.send_text(CITIZEN, "halo")
    return CITIZEN


# ---- sending --------------------------------------------------------------------------------------


async def test_send_text_within_the_window(fake, wa, citizen):
    sent = await wa.send_message(to=citizen, text="Laporan Anda kami terima.")
    assert sent.id.startswith("wamid.HBgN")
    assert sent.chat.id == CITIZEN
    [message] = fake.sent(CITIZEN)
    assert message["type"] == "text" and message["text"]["body"] == "Laporan Anda kami terima."
    assert message["_id"] == sent.id
    call = fake.calls[-1]
    assert (call.method, call.path, call.status) == ("POST", "/v23.0/1000000001/messages", 200)
    assert call.body["to"] == CITIZEN and call.body["recipient_type"] == "individual"
    assert call.response["contacts"] == [{"input": CITIZEN, "wa_id": CITIZEN}]


async def test_wrong_token_is_refused_with_190(fake):
    client = WhatsApp(phone_id=fake.phone_number_id, token="WRONG", api_version="23.0")
    client.api._session.base_url = f"{fake.base_url}/v23.0"
    try:
        with pytest.raises(ExpiredAccessToken) as caught:
            await client.send_message(to=CITIZEN, text="x")
    finally:
        await client.api._session.aclose()
    assert caught.value.code == 190 and caught.value.status_code == 401


async def test_wrong_phone_number_id_is_an_unsupported_post(fake):
    async with httpx.AsyncClient(base_url=f"{fake.base_url}/v23.0",
                                 headers={"Authorization": f"Bearer {fake.token}"}) as http:
        response = await http.post("/999/messages", json={"messaging_product": "whatsapp", "to": CITIZEN,
                                                          "type": "text", "text": {"body": "x"}})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100 and error["error_subcode"] == 33 and error["fbtrace_id"]


async def test_three_reply_buttons_and_the_press(fake, wa, citizen, receiver):
    buttons = [Button("🔥 Kebakaran", "type:fire"), Button("🌊 Banjir", "type:flood"), Button("Lainnya", "type:other")]
    sent = await wa.send_message(to=citizen, text="Jenis kejadian?", header="Siaga 112", footer="Pilih satu",
                                 buttons=buttons)
    [message] = fake.sent(CITIZEN)
    assert message["interactive"]["type"] == "button"
    assert [b["reply"]["id"] for b in message["interactive"]["action"]["buttons"]] == [
        "type:fire", "type:flood", "type:other"]

    notification = await fake.press_button(CITIZEN, sent.id, "type:flood")
    incoming = notification["entry"][0]["changes"][0]["value"]["messages"][0]
    assert incoming["type"] == "interactive"
    reply = {"type": "button_reply", "button_reply": {"id": "type:flood", "title": "🌊 Banjir"}}
    assert incoming["interactive"] == reply
    assert incoming["context"] == {"from": fake.display_phone_number, "id": sent.id}
    assert receiver.bodies[-1] == notification
    with pytest.raises(ValueError):
        await fake.press_button(CITIZEN, sent.id, "type:nope")


async def test_four_buttons_or_a_long_title_are_refused(fake, wa, citizen):
    four = [Button(f"Pilihan {i}", f"b{i}") for i in range(4)]
    with pytest.raises(InvalidParameter) as caught:
        await wa.send_message(to=citizen, text="?", buttons=four)
    assert caught.value.code == 131009 and "buttons count" in caught.value.details
    with pytest.raises(InvalidParameter) as caught:
        await wa.send_message(to=citizen, text="?", buttons=[Button("x" * 21, "b")])
    assert "Button title length invalid" in caught.value.details
    assert fake.sent(CITIZEN) == []


async def test_section_list_and_row_pick(fake, wa, citizen):
    rows = [SectionRow("Kebakaran", "type:fire", "Api, asap"), SectionRow("Banjir", "type:flood")]
    menu = SectionList("Pilih jenis", [Section("Darurat", rows)])
    sent = await wa.send_message(to=citizen, text="Jenis kejadian?", buttons=menu)
    [message] = fake.sent(CITIZEN)
    assert message["interactive"]["type"] == "list"
    assert message["interactive"]["action"]["button"] == "Pilih jenis"

    notification = await fake.pick_list_row(CITIZEN, sent.id, "type:fire")
    reply = notification["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]
    assert reply == {"type": "list_reply", "list_reply": {"id": "type:fire", "title": "Kebakaran",
                                                         "description": "Api, asap"}}

    fake.pair_interval = 0
    eleven = SectionList("Pilih", [Section("A", [SectionRow(f"Baris {i}", f"r{i}") for i in range(11)])])
    with pytest.raises(InvalidParameter) as caught:
        await wa.send_message(to=citizen, text="?", buttons=eleven)
    assert "Total row count exceed max allowed count: 10" in caught.value.details
    with pytest.raises(InvalidParameter):
        await wa.send_message(to=citizen, text="?", buttons=SectionList("Pilih", [Section("A", [
            SectionRow("y" * 25, "r")])]))


async def test_request_location_and_the_shared_location(fake, wa, citizen, receiver):
    sent = await wa.request_location(to=citizen, text="Bagikan lokasi kejadian")
    [message] = fake.sent(CITIZEN)
    assert message["interactive"] == {"type": "location_request_message", "action": {"name": "send_location"},
                                      "body": {"text": "Bagikan lokasi kejadian"}}
    assert sent.id == message["_id"]
    notification = await fake.send_location(CITIZEN, -7.0049, 113.8596, name="Pasar Anom", address="Sumenep")
    location = receiver.bodies[-1]["entry"][0]["changes"][0]["value"]["messages"][0]["location"]
    assert location == {"latitude": -7.0049, "longitude": 113.8596, "address": "Sumenep", "name": "Pasar Anom"}
    assert notification == receiver.bodies[-1]


async def test_upload_then_send_image_and_send_bytes(fake, wa, citizen):
    fake.pair_interval = 0
    photo = phone_jpeg()
    media = await wa.upload_media(photo, mime_type="image/jpeg", filename="kejadian.jpg")
    assert media.id.isdigit()
    upload = fake.calls[-1]
    assert upload.path == "/v23.0/1000000001/media" and upload.status == 200
    assert upload.body["messaging_product"] == "whatsapp" and upload.body["file"]["size"] == len(photo)

    await wa.send_image(to=citizen, image=media, caption="Foto dari lokasi")
    await wa.send_image(to=citizen, image=png(), mime_type="image/png")  # pywa uploads first
    first, second = fake.sent(CITIZEN)
    assert first["image"] == {"id": media.id, "caption": "Foto dari lokasi"}
    assert first["_image_bytes"] == photo
    assert second["_image_bytes"] == png() and second["_mime_type"] == "image/png"


async def test_uploads_that_are_not_images_or_too_big_are_refused(fake, wa):
    with pytest.raises(WhatsAppError) as caught:
        await wa.upload_media(b"not an image", mime_type="image/jpeg", filename="x.jpg")
    assert caught.value.code == 131053
    with pytest.raises(WhatsAppError) as caught:
        await wa.upload_media(b"MZ\x90\x00", mime_type="application/x-msdownload", filename="x.exe")
    assert caught.value.code == 100


async def test_media_url_and_download_round_trip_needs_the_bearer(fake, wa, citizen, tmp_path):
    photo = phone_jpeg()
    notification = await fake.send_image(CITIZEN, photo, caption="Api!")
    image = notification["entry"][0]["changes"][0]["value"]["messages"][0]["image"]
    assert image["caption"] == "Api!" and image["mime_type"] == "image/jpeg"

    url = await wa.get_media_url(image["id"])
    assert url.mime_type == "image/jpeg" and url.file_size == len(photo)
    assert url.sha256 == hashlib.sha256(photo).hexdigest()
    assert await wa.get_media_bytes(url.url) == photo
    path = await wa.download_media(url=url.url, path=tmp_path, filename="foto.jpg")
    assert pathlib.Path(path).read_bytes() == photo

    async with httpx.AsyncClient() as http:
        assert (await http.get(url.url)).status_code == 401
        assert (await http.get(url.url, headers={"Authorization": "Bearer nope"})).status_code == 401
        now = fake.clock()
        fake.clock = lambda: now + fake.media_url_ttl + 1
        expired = await http.get(url.url, headers={"Authorization": f"Bearer {fake.token}"})
        assert expired.status_code == 404

    with pytest.raises(WhatsAppError) as caught:
        await wa.get_media_url("1234567890123456")
    assert caught.value.code == 100 and caught.value.subcode == 33


async def test_outside_the_window_only_templates_pass(fake, wa, citizen, receiver):
    fake.pair_interval = 0
    fake.templates.add("siaga_rating_request")
    fake.template_buttons["siaga_rating_request"] = ["Sangat puas", "Kurang puas"]
    fake.expire_window(CITIZEN)
    assert not fake.window_open(CITIZEN)

    with pytest.raises(ReEngagementMessage) as caught:
        await wa.send_message(to=citizen, text="Bagaimana layanan kami?")
    assert caught.value.code == 131047

    sent = await wa.send_template(
        to=citizen, name="siaga_rating_request", language=TemplateLanguage.INDONESIAN,
        params=[BodyText.params("LAP-0042"), QuickReplyButton.params(callback_data="rating:5", index=0),
                QuickReplyButton.params(callback_data="rating:2", index=1)],
    )
    [template] = fake.sent(CITIZEN)
    assert template["template"]["name"] == "siaga_rating_request"
    assert template["template"]["language"] == {"code": "id"}
    assert fake.calls[-1].response["messages"][0]["message_status"] == "accepted"

    with pytest.raises(TemplateNotExists):
        await wa.send_template(to=citizen, name="nope", language=TemplateLanguage.INDONESIAN)

    notification = await fake.press_quick_reply(CITIZEN, sent.id, "rating:5")
    incoming = notification["entry"][0]["changes"][0]["value"]["messages"][0]
    assert incoming["type"] == "button"
    assert incoming["button"] == {"payload": "rating:5", "text": "Sangat puas"}
    assert incoming["context"]["id"] == sent.id
    assert fake.window_open(CITIZEN)  # the press was a user message: the window is open again
    await wa.send_message(to=citizen, text="Terima kasih!")


async def test_crew_never_wrote_so_only_templates_reach_them(fake, wa):
    fake.templates.add("siaga_task_assigned")
    with pytest.raises(ReEngagementMessage):
        await wa.send_message(to=CREW, text="Tugas baru")
    await wa.send_template(to=CREW, name="siaga_task_assigned", language=TemplateLanguage.INDONESIAN)
    assert [m["type"] for m in fake.sent(CREW)] == ["template"]


async def test_reengagement_as_failed_status(fake, wa, citizen, receiver):
    fake.reengagement_as_status = True
    fake.expire_window(CITIZEN)
    sent = await wa.send_message(to=citizen, text="Masih di sana?")
    await fake.flush()
    status = receiver.bodies[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert (status["id"], status["status"], status["recipient_id"]) == (sent.id, "failed", CITIZEN)
    assert status["errors"][0]["code"] == 131047


async def test_injected_throughput_error_raises_rate_limit_hit(fake, wa, citizen):
    fake.fail_next(code=130429, to=CITIZEN)
    with pytest.raises(RateLimitHit) as caught:
        await wa.send_message(to=citizen, text="x")
    assert isinstance(caught.value, ThrottlingError) and caught.value.code == 130429
    assert fake.limit_violations == []  # injected, not a real violation
    await wa.send_message(to=citizen, text="x")  # the fault was used up; the refused send did not count
    fake.fail_next(code=131000, http_status=500, count=2)
    for _ in range(2):
        with pytest.raises(WhatsAppError) as caught:
            await wa.send_message(to=citizen, text="y")
        assert caught.value.status_code == 500


async def test_pair_rate_limit(fake, wa, citizen):
    await wa.send_message(to=citizen, text="satu")
    with pytest.raises(TooManyMessages) as caught:
        await wa.send_message(to=citizen, text="dua")
    assert caught.value.code == 131056
    assert len(fake.limit_violations) == 1 and "131056" in fake.limit_violations[0]
    now = fake.clock()
    fake.clock = lambda: now + fake.pair_interval
    await wa.send_message(to=citizen, text="dua")
    assert [m["text"]["body"] for m in fake.sent(CITIZEN)] == ["satu", "dua"]


async def test_throughput_limit_of_80_per_second(fake, wa):
    fake.templates.add("siaga_status_update")
    fake.clock = lambda: 5000.0  # every send in the same second
    for i in range(80):
        await wa.send_template(to=f"62812000{i:05d}", name="siaga_status_update",
                               language=TemplateLanguage.INDONESIAN)
    with pytest.raises(RateLimitHit):
        await wa.send_template(to="6281299999999", name="siaga_status_update", language=TemplateLanguage.INDONESIAN)
    assert "130429" in fake.limit_violations[-1]
    fake.clock = lambda: 5001.5
    await wa.send_template(to="6281299999999", name="siaga_status_update", language=TemplateLanguage.INDONESIAN)


# ---- users without a phone number (business-scoped user ids) ----------------------------------


async def test_user_with_only_a_business_scoped_user_id(fake, wa, receiver):
    contact = fake.user(None, "Budi", user_id=BSUID)
    assert contact == {"profile": {"name": "Budi"}, "user_id": BSUID}
    await fake.send_text(BSUID, "pohon tumbang")
    value = receiver.bodies[-1]["entry"][0]["changes"][0]["value"]
    assert value["contacts"] == [contact]
    assert "from" not in value["messages"][0] and value["messages"][0]["from_user_id"] == BSUID

    sent = await wa.send_message(to=BSUID, text="Diterima")
    call = fake.calls[-1]
    assert call.body["recipient"] == BSUID and "to" not in call.body
    assert call.response["contacts"] == [{"input": BSUID, "user_id": BSUID}]
    assert sent.chat.id == BSUID
    assert fake.sent(BSUID)[0]["text"]["body"] == "Diterima"


async def test_user_with_both_ids_is_reachable_by_either(fake, wa, receiver):
    fake.pair_interval = 0
    fake.user(CITIZEN, "Siti", user_id="ID.1491208655302741918")
    await fake.send_text(CITIZEN, "halo")
    value = receiver.bodies[-1]["entry"][0]["changes"][0]["value"]
    assert value["contacts"][0] == {"profile": {"name": "Siti"}, "wa_id": CITIZEN,
                                    "user_id": "ID.1491208655302741918"}
    await wa.send_message(to=CITIZEN, text="a")
    await wa.send_message(to="ID.1491208655302741918", text="b")
    assert [m["text"]["body"] for m in fake.sent("ID.1491208655302741918")] == ["a", "b"]


# ---- webhooks -----------------------------------------------------------------------------------


async def test_webhook_is_signed_with_the_app_secret(fake, receiver):
    fake.user(CITIZEN, "Siti Aminah")
    notification = await fake.send_text(CITIZEN, "Kebakaran di Jl. Trunojoyo/Pasar — ñ")
    headers, raw = receiver.received[-1]
    expected = "sha256=" + hmac.new(b"test-app-secret", raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-hub-signature-256"], expected)
    assert headers["content-type"] == "application/json"
    assert b"\\/" in raw and b"\\u00f1" in raw  # Meta escapes "/" and non-ASCII: verify the raw bytes
    body = json.loads(raw)
    assert body == notification
    assert body["object"] == "whatsapp_business_account"
    value = body["entry"][0]["changes"][0]["value"]
    assert body["entry"][0]["changes"][0]["field"] == "messages"
    assert value["metadata"] == {"display_phone_number": "6281100000112", "phone_number_id": "1000000001"}
    assert value["contacts"] == [{"profile": {"name": "Siti Aminah"}, "wa_id": CITIZEN}]
    message = value["messages"][0]
    assert message["from"] == CITIZEN and message["id"].startswith("wamid.HBgN")
    assert message["timestamp"].isdigit() and message["text"] == {"body": "Kebakaran di Jl. Trunojoyo/Pasar — ñ"}


async def test_webhook_retries_until_2xx(fake, receiver):
    fake.webhook_retry_delay = 0.01
    receiver.statuses = [500, 503]
    fake.user(CITIZEN)
    await fake.send_text(CITIZEN, "halo")
    assert fake.delivery_log == [500, 503, 200]
    assert len({raw for _, raw in receiver.received}) == 1  # the same bytes each time

    receiver.statuses = [500] * 10
    assert await fake.redeliver(fake.notifications[-1]) == 500
    assert len(receiver.received) == 3 + fake.webhook_max_attempts


async def test_forged_signature_and_raw_bodies(fake, receiver):
    notification = fake.recorded("text")
    assert await fake.deliver(notification, signature="sha256=" + "0" * 64) == 200
    assert receiver.received[-1][0]["x-hub-signature-256"] == "sha256=" + "0" * 64
    assert await fake.deliver(notification, signature=None) == 200
    assert "x-hub-signature-256" not in receiver.received[-1][0]
    assert await fake.deliver({}, raw=b"{not json") == 200
    headers, raw = receiver.received[-1]
    assert raw == b"{not json" and headers["x-hub-signature-256"] == fake.sign(b"{not json")


async def test_recorded_notification_registers_the_sender_and_opens_the_window(fake, wa, receiver):
    notification = fake.recorded("text")
    assert await fake.deliver(notification) == 200
    message = notification["entry"][0]["changes"][0]["value"]["messages"][0]
    assert fake.window_open(message["from"]) and fake.window_open(message["from_user_id"])
    await wa.send_message(to=message["from_user_id"], text="Diterima")
    assert fake.sent(message["from"])[0]["recipient"] == message["from_user_id"]


async def test_status_notifications_follow_accepted_messages(fake, wa, citizen, receiver):
    fake.send_statuses = True
    sent = await wa.send_message(to=citizen, text="Petugas menuju lokasi", tracker="case:42")
    await fake.flush()
    values = [body["entry"][0]["changes"][0]["value"] for body in receiver.bodies]
    statuses = [value["statuses"][0] for value in values if "statuses" in value]
    assert [s["status"] for s in statuses] == ["sent", "delivered", "read"]
    assert {s["id"] for s in statuses} == {sent.id}
    assert all(s["recipient_id"] == CITIZEN and s["biz_opaque_callback_data"] == "case:42" for s in statuses)
    assert statuses[0]["pricing"]["pricing_model"] == "PMP"

    failed = await fake.send_status(sent.id, "failed", error_code=131026)
    assert failed["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0]["code"] == 131026


async def test_no_webhook_url_keeps_notifications(fake):
    fake.user(CITIZEN)
    notification = await fake.send_voice(CITIZEN)
    assert fake.undelivered == [notification]
    audio = notification["entry"][0]["changes"][0]["value"]["messages"][0]["audio"]
    assert audio["voice"] is True and audio["mime_type"].startswith("audio/ogg")


async def test_user_side_message_kinds(fake, receiver):
    fake.user(CITIZEN)
    await fake.send_document(CITIZEN, PDF, filename="surat.pdf")
    await fake.send_sticker(CITIZEN)
    await fake.send_texts(CITIZEN, "satu", "dua")
    values = [body["entry"][0]["changes"][0]["value"] for body in receiver.bodies]
    document = values[0]["messages"][0]["document"]
    assert document["filename"] == "surat.pdf" and fake.media_bytes(document["id"]) == PDF
    assert values[1]["messages"][0]["type"] == "sticker"
    assert [m["text"]["body"] for m in values[2]["messages"]] == ["satu", "dua"]


# ---- recorded payloads ----------------------------------------------------------------------------

RECORDED = sorted(path.stem for path in DATA_DIR.glob("*.json"))


async def test_every_recorded_kind_is_there():
    assert set(RECORDED) >= {
        "text", "image", "document_pdf", "location", "voice", "sticker", "button_reply", "list_reply",
        "template_quick_reply", "status_sent", "status_delivered", "status_read", "status_failed",
        "user_without_wa_id", "two_messages",
    }


@pytest.mark.parametrize("name", RECORDED)
async def test_recorded_payloads_parse_with_pywa(name, fake, wa):
    """pywa's own webhook parser understands every recorded payload (a check of their shape)."""
    notification = fake.recorded(name)
    value = notification["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == fake.phone_number_id
    raw = RawUpdate(json.dumps(notification).encode(), hmac_header=None, update_hash=name)
    handler = wa._get_handler_type(raw)
    update = wa._handlers_to_updates[handler].from_update(client=wa, update=raw)
    if name.startswith("status_"):
        assert update.status.value == name.removeprefix("status_")
        if name == "status_failed":
            assert isinstance(update.error, ReEngagementMessage)
    else:
        assert update.id == value["messages"][0]["id"]
        contact = value["contacts"][0]
        assert update.from_user.bsuid == contact["user_id"]
        assert update.from_user.wa_id == contact.get("wa_id")

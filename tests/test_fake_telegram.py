"""The fake Telegram Bot API behaves like the real one for the real python-telegram-bot client."""

import asyncio
import datetime as dtm
import io

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, RetryAfter

from tests.fakes.telegram_api import FakeTelegram, LocalServer

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")

GROUP = -1001000000101
CITIZEN = 5001


def png(width: int = 800, height: int = 600) -> bytes:
    """A real image, so Pillow can make thumbnails of it."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def seconds(error: RetryAfter) -> float:
    """retry_after in seconds: an int in PTB 22 (with a deprecation warning), a timedelta with PTB_TIMEDELTA=1."""
    value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else value


@pytest.fixture
async def fake():
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake):
    client = Bot(fake.token, base_url=f"{fake.base_url}/bot", base_file_url=f"{fake.base_url}/file/bot")
    async with client:
        yield client


class Receiver:
    """A tiny webhook endpoint that answers with scripted statuses and records what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[tuple[dict, dict]] = []
        self.server = LocalServer(Starlette(routes=[Route("/hook", self.hook, methods=["POST"])]))

    async def hook(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.json()))
        return Response(status_code=self.statuses.pop(0) if self.statuses else 200)


async def test_initialize_calls_get_me(fake, bot):
    assert bot.username == "siaga112_bot"
    assert bot.id == 999000
    assert [call.method for call in fake.calls] == ["getMe"]
    assert fake.calls[0].status == 200


async def test_wrong_token_is_refused(fake):
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG", base_url=f"{fake.base_url}/bot"):
            pass
    assert fake.calls[-1].status == 401


async def test_send_message_with_inline_keyboard_is_recorded(fake, bot):
    fake.group(GROUP, "Damkar")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("🚒 Terima", callback_data="task:1:accept")]])

    message = await bot.send_message(GROUP, " Tugas baru: api, lihat https://siaga.example/k/1 ", reply_markup=keyboard)

    assert message.text == "Tugas baru: api, lihat https://siaga.example/k/1"
    assert message.reply_markup == keyboard
    [stored] = fake.sent(GROUP)
    assert stored["_method"] == "sendMessage"
    assert stored["entities"] == [{"type": "url", "offset": 23, "length": 25}]
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "task:1:accept"
    assert stored["chat"] == {"id": GROUP, "type": "supergroup", "title": "Damkar"}
    assert stored["from"] == {"id": 999000, "is_bot": True, "first_name": "Siaga112", "username": "siaga112_bot"}
    assert fake.calls[-1].params["chat_id"] == GROUP


async def test_edit_without_markup_drops_keyboard_and_noop_edit_is_refused(fake, bot):
    fake.group(GROUP)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data="ok")]])
    message = await bot.send_message(GROUP, "Laporan", reply_markup=keyboard)

    await bot.edit_message_text("Laporan (diterima)", chat_id=GROUP, message_id=message.message_id)
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Laporan (diterima)", chat_id=GROUP, message_id=message.message_id)
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=GROUP, message_id=999)

    [stored] = fake.sent(GROUP)
    assert stored["text"] == "Laporan (diterima)"
    assert "reply_markup" not in stored and "edit_date" in stored


async def test_message_validation_errors(fake, bot):
    fake.group(GROUP)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await bot.send_message(GROUP, "x" * 4097)
    with pytest.raises(BadRequest, match="(?i)message text is empty"):
        await bot.send_message(GROUP, "   ")
    with pytest.raises(BadRequest, match="(?i)unsupported parse_mode"):  # the product sends plain text only
        await bot.send_message(GROUP, "<b>x</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(
            GROUP, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
        )
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(-100999, "x")
    with pytest.raises(BadRequest, match="(?i)message caption is too long"):
        await bot.send_photo(GROUP, InputFile(png(), filename="a.png"), caption="c" * 1025)


async def test_uploaded_photo_can_be_fetched_and_downloaded(fake, bot):
    fake.group(GROUP)
    image = png()

    message = await bot.send_photo(GROUP, InputFile(image, filename="laporan.png"), caption="Foto TKP")

    assert [size.width for size in message.photo] == [90, 320, 800]
    assert message.photo[-1].file_size == len(image)
    assert fake.sent(GROUP)[0]["_photo_bytes"] == image
    assert fake.calls[-1].params["photo"] == image
    file = await bot.get_file(message.photo[-1].file_id)
    assert file.file_path.startswith(f"{fake.base_url}/file/bot{fake.token}/photos/")
    assert await file.download_as_bytearray() == bytearray(image)


async def test_json_and_form_bodies_and_case_insensitive_methods(fake):
    fake.group(GROUP)
    keyboard = {"inline_keyboard": [[{"text": "Terima", "callback_data": "ok"}]]}
    async with httpx.AsyncClient(base_url=f"{fake.base_url}/bot{fake.token}") as client:
        as_json = await client.post("/SENDMESSAGE", json={"chat_id": GROUP, "text": "a", "reply_markup": keyboard})
        form = {"chat_id": str(GROUP), "text": "b", "disable_notification": "true"}
        as_form = await client.post("/sendMessage", data=form)
        unknown = await client.post("/sendTelepathy", json={})

    assert as_json.json()["result"]["reply_markup"] == keyboard
    assert as_form.json()["result"]["text"] == "b"
    assert fake.calls[1].params == {"chat_id": GROUP, "text": "b", "disable_notification": True}
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_citizen_updates_parse_with_ptb_via_get_updates(fake, bot):
    fake.user(CITIZEN, "Budi")
    image = png(1280, 960)
    await fake.send_text(CITIZEN, "/start")
    await fake.send_photo(CITIZEN, image, caption="api!")
    await fake.send_location(CITIZEN, -7.0, 113.86)
    await fake.send_voice(CITIZEN)
    await fake.send_sticker(CITIZEN)
    await fake.send_video(CITIZEN)
    await fake.send_document(CITIZEN, b"%PDF-1.4", file_name="surat.pdf")
    await fake.send_contact(CITIZEN, "+6281234567890")

    updates = await bot.get_updates(timeout=0)

    assert [u.update_id for u in updates] == list(range(updates[0].update_id, updates[0].update_id + 8))
    text, photo, location, voice, sticker, video, document, contact = (u.message for u in updates)
    assert text.text == "/start" and text.entities[0].type == "bot_command"
    assert photo.photo[-1].file_size == len(image) and photo.caption == "api!"
    assert await (await bot.get_file(photo.photo[-1])).download_as_bytearray() == bytearray(image)
    assert (location.location.latitude, location.location.longitude) == (-7.0, 113.86)
    assert voice.voice and sticker.sticker and video.video
    assert document.document.file_name == "surat.pdf"
    assert contact.contact.user_id == CITIZEN
    assert all(u.effective_user.first_name == "Budi" for u in updates)

    confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert confirmed == ()


async def test_long_poll_wakes_up_when_an_update_arrives(fake, bot):
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    await fake.send_text(CITIZEN, "tolong")
    [update] = await asyncio.wait_for(poll, 2)
    assert update.message.text == "tolong"


async def test_injected_429_raises_retry_after(fake, bot):
    fake.group(GROUP)
    fake.fail_next("sendMessage", retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "x")

    assert seconds(caught.value) == 7
    assert fake.calls[-1].status == 429
    assert fake.limit_violations == []
    assert (await bot.send_message(GROUP, "x")).text == "x"


async def test_group_limit_21st_message_in_a_minute(fake, bot):
    fake.group(GROUP)
    for n in range(20):
        await bot.send_message(GROUP, f"pesan {n}")

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "pesan 21")

    assert 1 <= seconds(caught.value) <= 60
    assert len(fake.limit_violations) == 1 and str(GROUP) in fake.limit_violations[0]
    assert len(fake.sent(GROUP)) == 20


async def test_group_limit_window_slides_with_the_clock(fake, bot):
    now = [1000.0]
    fake.clock = lambda: now[0]
    fake.group(GROUP)
    for _ in range(20):
        await bot.send_message(GROUP, "x")
    now[0] += 61
    assert (await bot.send_message(GROUP, "lagi")).text == "lagi"


async def test_private_chat_burst_then_rate_limit(fake, bot):
    fake.start_private(CITIZEN)
    for _ in range(3):
        await bot.send_message(CITIZEN, "x")
    with pytest.raises(RetryAfter):
        await bot.send_message(CITIZEN, "x")
    assert "private chat" in fake.limit_violations[0]


async def test_private_chat_must_be_started_and_not_blocked(fake, bot):
    fake.user(CITIZEN)
    with pytest.raises(Forbidden, match="(?i)bot can't initiate conversation with a user"):
        await bot.send_message(CITIZEN, "halo")

    await fake.send_text(CITIZEN, "/start")
    assert (await bot.send_message(CITIZEN, "halo")).chat.type == "private"

    fake.block_bot(CITIZEN)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await bot.send_message(CITIZEN, "halo")


async def test_migrated_group_answers_with_the_new_id(fake, bot):
    fake.group(-4001, "Grup lama")
    fake.migrate_group(-4001, GROUP)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-4001, "x")
    assert caught.value.new_chat_id == GROUP


async def test_webhook_delivery_with_secret_and_retry(fake, bot):
    receiver = Receiver([500, 200])
    async with receiver.server:
        assert await bot.set_webhook(f"{receiver.server.base_url}/hook", secret_token="s3cr3t-_X")

        update = await fake.send_text(CITIZEN, "kebakaran di pasar")

        assert len(receiver.received) == 2
        for headers, body in receiver.received:
            assert headers["x-telegram-bot-api-secret-token"] == "s3cr3t-_X"
            assert headers["content-type"] == "application/json"
            assert body == update
        assert Update.de_json(receiver.received[0][1], bot).message.text == "kebakaran di pasar"
        assert fake.webhook["url"].endswith("/hook") and fake.webhook["secret_token"] == "s3cr3t-_X"

        assert await fake.redeliver(update) == 200
        assert receiver.received[-1][1]["update_id"] == update["update_id"]


async def test_webhook_gives_up_after_max_attempts(fake, bot):
    fake.webhook_max_attempts = 3
    receiver = Receiver([503, 503, 503, 503])
    async with receiver.server:
        await bot.set_webhook(f"{receiver.server.base_url}/hook")
        raw = {"message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}}}
        assert await fake.deliver(raw) == 503
        assert raw["update_id"] >= 1
    assert len(receiver.received) == 3
    assert "x-telegram-bot-api-secret-token" not in receiver.received[0][0]


async def test_set_webhook_validates_secret_and_blocks_get_updates(fake, bot):
    with pytest.raises(BadRequest, match="(?i)secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="bad:token")
    await bot.set_webhook("http://127.0.0.1:9/hook")
    with pytest.raises(Conflict, match="(?i)can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_answer_callback_query_only_once(fake, bot):
    fake.group(GROUP)
    fake.user(3001, "Regu A")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Terima", callback_data="accept")]])
    await bot.send_message(GROUP, "Tugas #1", reply_markup=keyboard)

    update = await fake.press_button(3001, fake.sent(GROUP)[0], "accept")
    [received] = await bot.get_updates(timeout=0)

    query = received.callback_query
    assert query.data == "accept" and query.from_user.id == 3001 and query.message.chat.id == GROUP
    assert query.id == update["callback_query"]["id"]
    assert await bot.answer_callback_query(query.id, text="Diterima")
    with pytest.raises(BadRequest, match="(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    assert [answer["text"] for answer in fake.callback_answers()] == ["Diterima"]
    with pytest.raises(ValueError):
        await fake.press_button(3001, fake.sent(GROUP)[0], "reject")


async def test_get_file_refuses_files_over_20_mb(fake, bot):
    file_id, unique_id = fake.add_file(b"\0" * (20 * 1024 * 1024 + 1))
    assert unique_id and file_id != unique_id
    with pytest.raises(BadRequest, match="(?i)file is too big"):
        await bot.get_file(file_id)


async def test_commands_are_stored_per_scope_and_language(fake, bot):
    await bot.set_my_commands([("lapor", "Buat laporan"), ("status", "Status laporan")], language_code="id")
    assert [c["command"] for c in fake.commands_by_scope[("default", "id")]] == ["lapor", "status"]
    assert fake.commands[0] == {"command": "lapor", "description": "Buat laporan"}
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Lapor!", "x")])

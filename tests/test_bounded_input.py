"""Numbers a citizen or a button supplies are checked against what the bot offered before anything is built
from them, and photo decoding runs off the event loop (issue 12, item 2)."""
from __future__ import annotations

import asyncio
import io
import time
from types import SimpleNamespace

import pytest
from PIL import Image, ImageDraw

from bots.pipeline.media import attach_media
from bots.services.desk import Desk
from core import button_data, casework
from core.clock import FakeClock
from core.db import make_engine, make_sessionmaker, utcnow
from core.messages import Address, Choice, Inbound, Kind, MediaRef
from core.photos import MAX_PIXELS
from tests.conftest import fresh_database_url
from tests.test_casework import new_case
from workflows import actions as desk_actions
from workflows import citizen_report
from workflows.choices import chosen
from workflows.context import Context
from workflows.conversation_state import ConversationState

CITIZEN = Address("telegram", "5001")


@pytest.mark.parametrize("data, ok", [
    ("type:fire", True), ("rate:12:5", True), ("op:dupto:12:7", True), ("tk:eta:3:15", True), ("skip", True),
    ("rate_skip", True), ("confirm:send", True), ("op:rr:4:not_emergency", True), (f"op:verify:{2**31 - 1}", True),
    (f"op:verify:{2**31}", False), ("rate:1:" + "9" * 5000, False), ("x" * 65, False), ("", False),
    ("rate:1:²", False), ("rate:1:5\n", False), ("Rate:1:5", False), ("op:verify:1:2:3:4", False),
    ("lang:id<script>", False), (None, False), (17, False), ("type:🔥", False),
])
def test_button_data_grammar(data, ok):
    assert button_data.valid(data) is ok


def test_numbers_are_read_only_within_range():
    assert button_data.number("5", 1, 5) == 5
    for text in ("0", "6", "9" * 5000, "²", "٣", "-1", "1e3", " 5", ""):
        assert button_data.number(text, 1, 5) is None


def ctx(config) -> Context:
    return Context(config=config, now=utcnow(), ticket="SMP-00-00-01", blocked=False, reports_last_hour=0, cases=())


@pytest.mark.parametrize("stars", ["0", "6", "10000000", "9" * 5000])
def test_a_rating_outside_the_offered_stars_builds_nothing(config, stars):
    """The request offered 1-5 stars; "⭐" * 10,000,000 once took hundreds of MB and stalled the loop."""
    event = Inbound(kind=Kind.CHOICE, chat=CITIZEN, sender=CITIZEN, choice=f"rate:1:{stars}")
    result = citizen_report.step(ConversationState(lang="id"), event, ctx(config))
    assert result.out == [] and result.commands == []


def test_a_typed_list_number_is_bounded(config):
    choices = (Choice("a", "A"), Choice("b", "B"))
    typed = lambda text: chosen(Inbound(kind=Kind.TEXT, chat=CITIZEN, sender=CITIZEN, text=text), choices)  # noqa: E731
    assert typed("2") == "b"
    assert typed("3") is None and typed("²") is None and typed("9" * 5000) is None  # int() raised on these


def test_desk_ids_beyond_the_database_integer_are_not_actions():
    press = lambda data: Inbound(kind=Kind.CHOICE, chat=CITIZEN, sender=CITIZEN, choice=data)  # noqa: E731
    assert desk_actions.parse(press("op:verify:12")).target == 12
    assert desk_actions.parse(press("op:verify:99999999999")) is None  # PostgreSQL: DataError, retried
    assert desk_actions.parse(press("op:verify:0")) is None


async def test_an_eta_the_menu_did_not_offer_is_refused(sessions, config):
    crew = Address("telegram", "3001")  # Regu Damkar A
    group = Address("telegram", "-1001000000101")
    async with sessions() as s, s.begin():
        case = await new_case(s)
        [task] = await casework.verify(s, case, "telegram:1001", ["damkar"], utcnow())
        task_id = task.id
    assert 7 not in config.cases.eta_choices and 240 not in config.cases.eta_choices
    for minutes in (7, 240, 0):
        press = Inbound(kind=Kind.CHOICE, chat=group, sender=crew, choice=f"tk:eta:{task_id}:{minutes}",
                        callback_id="cb", is_private=False)
        async with sessions() as s, s.begin():
            await Desk(s, config, press, utcnow()).handle()
        async with sessions() as s:
            assert (await casework.load_case(s, case.id)).state == "dispatched"  # not accepted
    press = Inbound(kind=Kind.CHOICE, chat=group, sender=crew, choice=f"tk:eta:{task_id}:{config.cases.eta_choices[0]}",
                    callback_id="cb", is_private=False)
    async with sessions() as s, s.begin():
        await Desk(s, config, press, utcnow()).handle()
    async with sessions() as s:
        assert (await casework.load_case(s, case.id)).state == "accepted"


def test_max_pixels_is_what_a_phone_camera_takes():
    assert 4032 * 3024 <= 6000 * 4000 <= MAX_PIXELS < 40_000_000


def big_png() -> bytes:
    """12 MP that compress to little but must be decoded whole (PNG has no reduced-scale decoding)."""
    img = Image.new("RGB", (4000, 3000), (30, 90, 160))
    ImageDraw.Draw(img).rectangle((500, 500, 3500, 2500), fill=(220, 120, 40))
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    return buf.getvalue()


async def test_a_photo_is_inspected_off_the_event_loop(tmp_path, config):
    """While a 12 MP photo is decoded and re-encoded (seconds on a small host), the loop keeps ticking."""
    data = big_png()
    engine = make_engine(await fresh_database_url("sqlite", tmp_path))
    deps = SimpleNamespace(config=config, sessions=make_sessionmaker(engine), clock=FakeClock())

    class Channel:
        async def fetch_media(self, file_id: str) -> bytes:
            return data

    gaps, done = [], asyncio.Event()

    async def ticker():
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(0.03)
    started = time.perf_counter()
    event = Inbound(kind=Kind.PHOTO, chat=CITIZEN, sender=CITIZEN, media=MediaRef("f1"))
    result = await attach_media(deps, Channel(), event)
    took = time.perf_counter() - started
    done.set()
    await ticking
    await engine.dispose()
    assert result.media.media_id is not None and result.media.problem is None
    # the work is real (tens of ticks' worth, about 0.2–2 s depending on the host): on the loop, this whole time
    # would be one gap between ticks
    assert took > 5 * 0.01, took
    # ~10 ms ticks. Pillow holds the GIL in short stretches (the JPEG encode: ~50 ms on an idle host), and a
    # loaded 2-core host adds scheduling delays; on the loop, one gap would be the whole inspection
    assert max(gaps) < took / 3, (max(gaps), took)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_photo_id_past_the_database_integer_is_refused_not_a_server_error(backend, tmp_path, config):
    """Even a signed-in path parameter is an id somebody typed: past the `integer` column it is a 4xx, not a 503."""
    from tests.conftest import fresh_database_url
    from tests.test_web_pages import seed, sign_in, web
    async with web(await fresh_database_url(backend, tmp_path), config) as (client, deps):
        photo = await seed(deps, config)
        assert (await sign_in(client, "op1")).status_code == 303
        assert (await client.get(photo)).status_code == 200
        for media_id in ("99999999999999999999", str(2**31), "0", "-1"):
            response = await client.get(f"/dashboard/media/{media_id}")
            assert 400 <= response.status_code < 500, (media_id, response.status_code)

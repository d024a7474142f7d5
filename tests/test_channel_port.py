"""One channel port: every adapter fills core/channel.py's `Channel`, and outbox rows come back as typed messages."""
from __future__ import annotations

import inspect
import json
from dataclasses import asdict, fields
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bots.pipeline.sender import Sender
from bots.telegram.client import TelegramChannel
from bots.web.chat_channel import WebChatChannel
from bots.whatsapp.client import WhatsAppChannel
from core import outbox
from core.channel import Channel
from core.clock import SystemClock
from core.coordination import LocalCoordinator
from core.db import utcnow
from core.messages import Address, Choice, GeoPoint, Outbound, Priority
from core.models import OutboxItem

PORT_METHODS = ("start", "stop", "parse", "fetch_media", "limits", "is_group", "send")
ASYNC_METHODS = {"start", "stop", "fetch_media", "send"}


@pytest.fixture
async def adapters(config):
    whatsapp = WhatsAppChannel("token", "1234", "http://127.0.0.1:9", "v21.0", config)
    yield [TelegramChannel("123:abc", "http://127.0.0.1:9"), whatsapp, WebChatChannel()]
    await whatsapp.session.aclose()


def _shape(function) -> list[tuple[str, object, object]]:
    """Parameter names, kinds and defaults (annotations are strings under `from __future__ import annotations`)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


async def test_every_adapter_fills_the_whole_port(adapters):
    assert [a.name for a in adapters] == ["telegram", "whatsapp", "web"]
    assert [a.needs_window for a in adapters] == [False, True, False]  # only WhatsApp has a 24-hour window
    for adapter in adapters:
        assert isinstance(adapter, Channel), type(adapter).__name__
        for method in PORT_METHODS:
            theirs, ours, where = getattr(type(adapter), method), getattr(Channel, method), f"{adapter.name}.{method}"
            assert _shape(theirs) == _shape(ours), where
            assert inspect.iscoroutinefunction(theirs) == (method in ASYNC_METHODS), where


def test_the_port_is_exactly_these_members_and_telegrams_registration_is_not_one():
    members = {name for name in vars(Channel) if not name.startswith("_")} | set(Channel.__annotations__)
    assert members == {*PORT_METHODS, "name", "needs_window"}
    assert callable(TelegramChannel.register)  # Telegram's own step, called by the composition root


def _card() -> Outbound:
    return Outbound(Address("telegram", "-1001000000001"), "🔥 SMP-12-34-56\nKebakaran",
                    choices=(Choice("op:verify:7", "✅ Verifikasi"), Choice("op:reject:7", "❌ Tolak")),
                    photo_media_id=3, location=GeoPoint(-7.016712, 113.866721), priority=Priority.URGENT,
                    ref="card:7", columns=2)


async def test_a_stored_message_comes_back_equal(sessions):
    sent = [_card(), Outbound(Address("whatsapp", "6281234567890"), "Di mana?", request_location=True,
                              location_label="📍 Kirim lokasi", template="status_update", force_reply=True),
            Outbound(Address("web", "c" * 32), answer_callback="cb1", text="Hanya operator",
                     priority=Priority.CALLBACK)]
    async with sessions() as s, s.begin():
        for message in sent:
            await outbox.enqueue(s, message, utcnow())
    async with sessions() as s:
        rows = (await s.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars().all()
        assert [outbox.message_of(row) for row in rows] == sent
        assert await outbox.shown_choices(s, "card:7") == _card().choices


def test_every_field_survives_the_trip_through_json():
    every = Outbound(Address("whatsapp", "628"), "t", choices=(Choice("d", "l", "s"),), request_location=True,
                     location_label="📍", request_contact=True, contact_label="☎", menu_label="☰",
                     remove_keyboard=True, photo_media_id=4, location=GeoPoint(-7.5, 113.25),
                     answer_callback="cb", priority=Priority.URGENT, ref="r", edit_of="card:1", force_reply=True,
                     template="status_update", case_id=9, columns=3, merge="new_case", line="🚨 SMP-1 · 🔥")
    unset = Outbound(every.to)
    assert all(getattr(every, f.name) != getattr(unset, f.name) for f in fields(Outbound) if f.name != "to")
    assert outbox.decode(json.loads(json.dumps(asdict(every)))) == every


async def test_a_row_stored_by_an_older_version_still_loads(sessions):
    old = {"to": {"channel": "telegram", "id": "5001"}, "text": "halo", "choices": [{"data": "a", "label": "A"}],
           "location": None, "priority": 10, "ref": "", "edit_of": "", "retired_field": True}  # no merge, columns…
    async with sessions() as s, s.begin():
        s.add(OutboxItem(channel="telegram", chat_id="5001", payload=old, priority=10, status="pending",
                         not_before=utcnow(), created_at=utcnow()))
    async with sessions() as s:
        row = (await s.execute(select(OutboxItem))).scalar_one()
    assert outbox.message_of(row) == Outbound(Address("telegram", "5001"), "halo", choices=(Choice("a", "A"),))


class Recording:
    """A channel that remembers what the sender handed it."""

    name = "telegram"
    needs_window = False

    def __init__(self) -> None:
        self.sends: list[tuple[Outbound, bytes | None, tuple[str, Outbound] | None]] = []

    def limits(self, message: Outbound) -> list:
        assert isinstance(message, Outbound)
        return []

    def is_group(self, chat_id: str) -> bool:
        return False

    async def send(self, message, photo, target=None, *, window_open=True):
        self.sends.append((message, photo, target))
        return str(len(self.sends))


async def test_the_sender_hands_typed_messages_and_edit_targets_to_the_channel(sessions):
    channel = Recording()
    sender = Sender(SimpleNamespace(sessions=sessions, channels={"telegram": channel}, coord=LocalCoordinator(),
                                    clock=SystemClock()))
    card = Outbound(Address("telegram", "5001"), "kartu", choices=(Choice("op:verify:7", "V"),), ref="card:7")
    edit = Outbound(Address("telegram", "5001"), "kartu baru", choices=(Choice("op:pick:7", "P"),),
                    edit_of="card:7")
    for message in (card, edit):
        async with sessions() as s, s.begin():
            await outbox.enqueue(s, message, utcnow())
        assert await sender.run_once() == 1
    assert channel.sends == [(card, None, None), (edit, None, ("1", card))]

"""Applying one inbox event (bots/services/events.py) on real databases, without an HTTP gateway."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from bots.app import build_deps, stop_deps
from bots.services import events
from core import casework, inbox
from core.clock import FakeClock
from core.i18n import t
from core.messages import Address, Inbound, Kind, Priority
from core.models import Conversation, InboxItem, OutboxItem, Reporter
from core.outbox import decode
from core.repository import create_case
from core.settings import load_settings
from tests.harness import SECRET_KEY

CITIZEN = Address("telegram", "5001")
OTHER = Address("telegram", "5002")
_ids = itertools.count(1)


@pytest.fixture
async def deps(db_url, config):
    """One process's pieces on a fresh database; the Telegram channel is on (nothing is sent: no worker)."""
    deps = build_deps(load_settings(database_url=db_url, telegram_bot_token="123456:TEST-TOKEN",
                                    siaga_secret_key=SECRET_KEY), config, FakeClock())
    yield deps
    await stop_deps(deps)


async def apply(deps, event: Inbound) -> int:
    """Store the event in the inbox as an adapter would, then apply it; returns the inbox item's id."""
    external_id = f"u{next(_ids)}"
    async with deps.sessions() as s, s.begin():
        await inbox.store(s, channel="telegram", external_id=external_id, conversation_key=str(event.chat),
                          payload={"test": external_id}, now=deps.clock.now())
        item_id = await inbox.id_of(s, "telegram", external_id)
    assert await events.handle(deps, item_id, event) is True
    return item_id


def text(body: str, who: Address = CITIZEN) -> Inbound:
    return Inbound(kind=Kind.TEXT, chat=who, sender=who, sender_name="Budi", language_code="id", text=body)


def choice(data: str, who: Address = CITIZEN, callback: str = "cb-1") -> Inbound:
    return Inbound(kind=Kind.CHOICE, chat=who, sender=who, sender_name="Budi", choice=data, callback_id=callback)


async def queued(deps, to: Address = CITIZEN) -> list:
    async with deps.sessions() as s:
        rows = (await s.execute(select(OutboxItem).where(OutboxItem.channel == to.channel).order_by(OutboxItem.id)))
        return [(row.priority, m) for row in rows.scalars() if (m := decode(row.payload)).to == to]


async def test_a_message_runs_the_flow_and_saves_state_and_replies_together(deps):
    item_id = await apply(deps, text("tolong"))
    async with deps.sessions() as s:
        conv = (await s.execute(select(Conversation).where(Conversation.key == str(CITIZEN)))).scalar_one()
        item = await s.get(InboxItem, item_id)
        reporter = (await s.execute(select(Reporter))).scalar_one()
    assert conv.version == 1 and conv.state and conv.last_inbound_at is not None
    assert item.status == "done" and (reporter.channel, reporter.external_id) == ("telegram", "5001")
    [(_, menu)] = await queued(deps)
    assert menu.to == CITIZEN and menu.choices  # the incident-type menu
    assert await events.handle(deps, item_id, text("tolong")) is False  # done once: another worker skips it


async def test_a_button_press_is_always_answered(deps):
    await apply(deps, choice("no-such-button", callback="cb-42"))
    answers = [m for _, m in await queued(deps) if m.answer_callback]
    assert [(m.answer_callback, m.priority) for m in answers] == [("cb-42", Priority.CALLBACK)]


async def test_a_flood_is_answered_once_then_ignored_until_it_calms(deps, config):
    limit = config.limits.messages_per_minute
    for i in range(limit + 3):
        await apply(deps, text(f"halo {i}"))
    flood = t("id", "flood.messages", number=config.region.emergency_number)
    replies = [m.text for _, m in await queued(deps)]
    assert replies.count(flood) == 1 and replies[-1] == flood  # the 21st answered, the 22nd and 23rd not


async def siti_reported_a_fire(deps, now, *, closed: bool = False, due: bool = False) -> int:
    """Another reporter's fire case, closed or with its deadline now; its id."""
    async with deps.sessions() as s, s.begin():
        owner = Reporter(channel="telegram", external_id=OTHER.id, name="Siti", language="id")
        s.add(owner)
        await s.flush()
        case = await create_case(s, reporter=owner, chat=str(OTHER), ticket="SMP-00-00-01", incident_type="fire",
                                 urgent=True, language="id", latitude=-7.0, longitude=113.8, address_text=None,
                                 description=None, photo_media_id=None, started_at=now, now=now)
        if closed:
            casework.close(s, case, "telegram:1001", now)
        if due:
            case.sla_due_at = now
        return case.id


async def test_a_rating_of_someone_elses_case_is_refused(deps):
    now = deps.clock.now()
    case_id = await siti_reported_a_fire(deps, now, closed=True)
    await apply(deps, choice(f"rate:{case_id}:1"))
    texts = [m.text for _, m in await queued(deps) if m.text]
    assert texts == [t("id", "rating.not_open")]
    async with deps.sessions() as s:
        assert (await casework.load_case(s, case_id)).rating is None
    await apply(deps, choice(f"rate:{case_id}:2", who=OTHER, callback="cb-2"))  # the owner may
    async with deps.sessions() as s:
        assert (await casework.load_case(s, case_id)).rating == 2


async def test_a_fired_timer_of_the_clock_reaches_its_handler(deps, config):
    now = deps.clock.now()
    case_id = await siti_reported_a_fire(deps, now, due=True)
    await apply(deps, events.timer_event({"kind": "sla.verify", "key": f"case:{case_id}", "payload": {}}))
    operators = Address("telegram", str(config.operators.telegram_chat_id))
    [(priority, reminder)] = await queued(deps, to=operators)
    assert priority == Priority.URGENT and "SMP-00-00-01" in reminder.text

"""Batch cards under backlog (issue 16): a group's long queue of new cards goes out as one list, a line per card
with its own button; edits of a listed card edit its line; pressing a line sends the card to a private chat."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from bots.pipeline.sender import Sender
from bots.services.case_view import case_view
from core import casework, outbox
from core import outbox_lists as lists
from core.clock import SystemClock
from core.coordination import Limit, LocalCoordinator
from core.db import utcnow
from core.i18n import t
from core.messages import Address, Outbound
from core.models import OutboxItem, Reporter
from core.repository import create_case
from workflows import batch_card
from workflows.card_messages import card_message, task_messages
from workflows.cards import CaseView, TaskView

OPS = "-1001000000001"
DAMKAR = "-1001000000101"


def surge(config, after: int = 2, size: int = 10):
    """Lists after `after` waiting cards; no private copies of urgent cards (another feature), so a private chat
    here holds only what a pressed line sent."""
    return config.model_copy(update={"surge": config.surge.model_copy(update={
        "batch_after": after, "batch_size": size, "private_copies": False})})


class Recording:
    """Telegram as the sender sees it: groups have negative ids; every send and edit is remembered."""

    name = "telegram"
    needs_window = False

    def __init__(self) -> None:
        self.sends: list[tuple[Outbound, tuple[str, Outbound] | None]] = []

    def limits(self, message: Outbound) -> list:
        return []

    def is_group(self, chat_id: str) -> bool:
        return chat_id.startswith("-")

    async def send(self, message, photo, target=None, *, window_open=True):
        self.sends.append((message, target))
        return str(len(self.sends))


def sender_for(sessions, config) -> tuple[Sender, Recording]:
    channel = Recording()
    deps = SimpleNamespace(sessions=sessions, channels={"telegram": channel}, coord=LocalCoordinator(),
                           clock=SystemClock(), config=config)
    return Sender(deps), channel


async def new_case(s, n: int, *, urgent: bool = False, incident: str = "fire", address: str | None = None):
    reporter = Reporter(channel="telegram", external_id=f"90{n}", name="Budi", language="id")
    s.add(reporter)
    await s.flush()
    now = utcnow()
    return await create_case(s, reporter=reporter, chat=f"telegram:90{n}", ticket=f"SMP-00-00-{n:02d}",
                             incident_type=incident, urgent=urgent, language="id", latitude=-7.0 - n / 100,
                             longitude=113.8, address_text=address, description=None, photo_media_id=None,
                             started_at=now, now=now)


async def queue(s, config, message: Outbound) -> None:
    await outbox.enqueue(s, message, utcnow(), group=message.to.id.startswith("-"))


async def rows(sessions) -> list[OutboxItem]:
    async with sessions() as s:
        return list((await s.execute(select(OutboxItem).order_by(OutboxItem.id))).scalars())


# --- the words ---------------------------------------------------------------------------------------

def test_a_line_names_urgency_ticket_type_place_and_state_and_a_list_stays_within_telegram(config):
    now = utcnow()
    view = CaseView(id=12, ticket="SMP-12-34-56", state="submitted", incident_type="fire", urgent=True,
                    submitted_at=now, updated_at=now, reporter_name="Budi", channel="telegram", contact="-",
                    address_text="Jl. Trunojoyo no. 5, belakang pasar, rumah cat hijau dekat masjid besar" * 3)
    line = batch_card.case_line(view, config)
    assert line.startswith("🚨 SMP-12-34-56 · 🔥") and "❝Jl" in line and line.endswith("· baru")
    assert len(line) < 120  # the typed address is cut short
    assert "(Operator Satu)" in batch_card.case_line(
        CaseView(**{**view.__dict__, "state": "dispatched", "operator_name": "Operator Satu"}), config)
    task = TaskView(7, "damkar", "accepted", owner_name="Regu Damkar A", eta_minutes=10)
    assert "diterima Regu Damkar A, tiba ±10 menit" in batch_card.task_line(view, task, config)

    lines = [lists.Line(f"card:{n}", n, f"SMP-00-00-{n:02d}", "x" * 500, now) for n in range(1, 11)]
    message = batch_card.list_message(Address("telegram", OPS), lines, now, config, priority=50, ref="batch:1")
    assert len(message.text) < 4096 and len(message.choices) == 10
    assert message.choices[0].data == "case:open:1" and message.choices[0].label == "1 SMP-00-00-01"
    tasks = batch_card.list_message(Address("telegram", DAMKAR), [lists.Line("task:7", 7, "SMP-1", "y", now)],
                                    now, config, priority=50, ref="batch:2")
    assert tasks.choices[0].data == "task:open:7" and tasks.text.startswith(t("id", "batch.head_tasks", count=1))


# --- the rows: folding and line edits on SQLite and PostgreSQL ---------------------------------------------

async def test_a_long_queue_goes_out_as_one_list_urgent_first_and_edits_replace_their_line(sessions, config):
    config = surge(config)
    async with sessions() as s, s.begin():
        cases = [await new_case(s, 1), await new_case(s, 2, urgent=True), await new_case(s, 3)]
        for case in cases:
            await queue(s, config, card_message(await case_view(s, case, config), config, edit=False))
    sender, channel = sender_for(sessions, config)
    assert await sender.run_once() == 1 and await sender.run_once() == 0  # one list carried all three
    [(listed, target)] = channel.sends
    assert target is None and listed.text.startswith(t("id", "batch.head", count=3))
    body = listed.text.splitlines()
    assert body[2].startswith("1. 🚨 SMP-00-00-02") and body[3].startswith("2. SMP-00-00-01")  # urgent first
    assert [c.data for c in listed.choices] == [f"case:open:{cases[n].id}" for n in (1, 0, 2)]
    stored = await rows(sessions)
    [list_row] = [r for r in stored if lists.is_list(r.ref)]
    assert list_row.status == "sent" and {(r.status, r.batch_ref) for r in stored if r is not list_row} == {
        ("batched", list_row.ref)}

    async with sessions() as s, s.begin():  # an operator verifies the first report: its card is edited
        case = await casework.load_case(s, cases[0].id)
        await casework.verify(s, case, "telegram:1001", ["damkar"], utcnow())
        await queue(s, config, card_message(await case_view(s, case, config), config, edit=True))
    assert await sender.run_once() == 1
    edit, target = channel.sends[-1]
    assert edit.edit_of == list_row.ref and target[0] == list_row.platform_message_id
    lines = edit.text.splitlines()
    assert "petugas diberi tahu (Operator Satu)" in lines[3] and lines[2] == body[2] and lines[4] == body[4]

    async with sessions() as s, s.begin():  # a sub-menu on the card changes nothing its line shows
        view = await case_view(s, await casework.load_case(s, cases[1].id), config)
        await queue(s, config, card_message(view, config, edit=True, menu="reject"))
    assert await sender.run_once() == 1 and len(channel.sends) == 2  # taken, but no edit sent
    assert (await rows(sessions))[-1].status == "sent"


async def test_below_the_threshold_cards_go_out_singly(sessions, config):
    config = surge(config, after=2)
    async with sessions() as s, s.begin():
        for n in (1, 2):
            await queue(s, config, card_message(await case_view(s, await new_case(s, n), config), config, edit=False))
    sender, channel = sender_for(sessions, config)
    while await sender.run_once():
        pass
    assert [m.ref for m, _ in channel.sends] == ["card:1", "card:2"]  # one other waiting: below batch_after
    assert {r.status for r in await rows(sessions)} == {"sent"}


async def test_a_crew_groups_tasks_fold_with_their_pins_and_batch_size_caps_the_list(sessions, config):
    config = surge(config, after=1, size=2)
    async with sessions() as s, s.begin():
        for n in (1, 2, 3):
            case = await new_case(s, n)
            [task] = await casework.verify(s, case, "telegram:1001", ["damkar"], utcnow())
            view = await case_view(s, case, config)
            for message in task_messages(view, view.task(task.id), config, edit=False):  # card and pin
                await queue(s, config, message)
    sender, channel = sender_for(sessions, config)
    while await sender.run_once():
        pass
    first, second, third = (m for m, _ in channel.sends)
    assert first.text.startswith(t("id", "batch.head_tasks", count=2)) and first.choices[0].data.startswith("task:")
    assert second.ref.startswith("task:") and third.location is not None  # the third alone, its pin after it
    stored = await rows(sessions)
    assert sum(r.status == "batched" for r in stored) == 4  # two task cards and their two pins


async def test_racing_edits_of_one_list_keep_both_lines(sessions, config):
    config = surge(config)
    async with sessions() as s, s.begin():
        cases = [await new_case(s, n) for n in (1, 2, 3)]
        for case in cases:
            await queue(s, config, card_message(await case_view(s, case, config), config, edit=False))
    sender, channel = sender_for(sessions, config)
    await sender.run_once()
    async with sessions() as s, s.begin():
        for listed in cases[:2]:
            case = await casework.load_case(s, listed.id)
            casework.reject(s, case, "telegram:1001", "hoax", utcnow())
            await queue(s, config, card_message(await case_view(s, case, config), config, edit=True))
    async with sessions() as s:  # both edits at once (as if two workers held them: leases aside)
        edits = list((await s.execute(select(OutboxItem).where(OutboxItem.edit_of.is_not(None)))).scalars())
    await asyncio.gather(*(sender.send(item) for item in edits))
    while await sender.run_once():  # a refresh, if the older rendering landed last
        pass
    final = channel.sends[-1][0].text
    assert final.count(t("id", "batch.state.rejected")) == 2, final

    async with sessions() as s, s.begin():  # and the versions: a late older one asks for one more edit
        list_ref = await lists.list_of(s, "card:3")
        relisted = await lists.relist(s, list_ref, "card:3", opened="Operator Dua")
        assert relisted is not None and relisted.due
        assert await lists.shown(s, list_ref, relisted.version) is False
        assert await lists.shown(s, list_ref, relisted.version - 1) is True


# --- end to end: the fake Telegram, the gateway over HTTP ---------------------------------------------------

@pytest.fixture(params=["embedded", "production"])
async def surge_gw(request, fake, tmp_path, redis_url, config):
    from tests.conftest import fresh_database_url
    from tests.harness import gateway
    cfg = surge(config)
    if request.param == "embedded":
        async with gateway(fake, await fresh_database_url("sqlite", tmp_path), config=cfg) as g:
            yield g
    else:
        url = await fresh_database_url("postgres", tmp_path)
        async with gateway(fake, url, redis_url=redis_url, config=cfg, run_worker=False, workers=2) as g:
            yield g


async def spend_group_burst(gw, chat: int) -> None:
    """As if the group's burst had just been spent: its next message waits ~20 s, so new cards queue up."""
    for _ in range(8):
        await gw.deps.coord.take([Limit(f"tg:burst:{chat}", 8, 20.0)])


def list_in(fake, chat: int, prefix: str) -> dict | None:
    from tests.e2e_support import buttons
    return next((m for m in reversed(fake.sent(chat)) if any(b.startswith(prefix) for b in buttons(m))), None)


async def test_a_saturated_operators_group_gets_one_list_and_each_line_opens_its_card(fake, surge_gw):
    from tests.e2e_support import OPERATORS, answer_for, buttons, press, texts
    from tests.harness import eventually
    from tests.test_e2e_casework import DAMKAR as CREW_GROUP
    from tests.test_e2e_casework import OPERATOR, OPERATOR_2, REGU_A
    from tests.test_e2e_same_incident import report_nearby

    await fake.send_text(OPERATOR, "/start")  # the operator has a private chat with the bot; Operator Dua has not
    await eventually(lambda: fake.sent(OPERATOR), timeout=40)
    await spend_group_burst(surge_gw, OPERATORS)
    places = [(-7.0167, 113.8667), (-7.05, 113.90), (-6.99, 113.83)]  # kilometres apart: three incidents
    tickets = await asyncio.gather(*(report_nearby(fake, 5101 + n, lat, lon) for n, (lat, lon) in enumerate(places)))

    listed = await eventually(lambda: list_in(fake, OPERATORS, "case:open:"), timeout=60)
    assert all(ticket in listed["text"] for ticket in tickets)
    assert t("id", "batch.head", count=3) in listed["text"]
    assert not any(m.get("caption") or "case:verify" in str(m) for m in fake.sent(OPERATORS))  # no single card
    opens = buttons(listed)
    assert len(opens) == 3 and all(b.startswith("case:open:") for b in opens)

    refused = await press(fake, OPERATOR_2, listed, opens[0])
    assert await answer_for(fake, refused) == t("id", "batch.private_first")
    case_id = int(opens[0].split(":")[2])
    first = next(tk for tk in tickets if f"1 {tk}" in str(listed["reply_markup"]))
    pressed = await press(fake, OPERATOR, listed, opens[0])
    assert first in await answer_for(fake, pressed)
    await eventually(lambda: list_in(fake, OPERATOR, f"case:verify:{case_id}"), timeout=40)
    assert not fake.sent(OPERATOR_2)
    line = lambda: next((x for x in (list_in(fake, OPERATORS, "case:open:") or {}).get("text", "").splitlines()  # noqa: E731
                         if first in x), "")
    await eventually(lambda: "dibuka Operator Satu" in line(), timeout=40)
    again = await press(fake, OPERATOR, listed, opens[0])  # a second press: the copy there is kept current, no other
    assert first in await answer_for(fake, again)
    async with surge_gw.deps.sessions() as s:  # queued once, whatever has been delivered by now
        copies = await s.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.ref == f"card:{case_id}@telegram:{OPERATOR}"))
    assert copies == 1

    # verified from the private copy, the other two from the list's data, while the crews' group's burst is spent
    await spend_group_burst(surge_gw, CREW_GROUP)
    copy = list_in(fake, OPERATOR, f"case:verify:{case_id}")
    await press(fake, OPERATOR, copy, f"case:verify:{case_id}")
    for data in opens[1:]:
        await press(fake, OPERATOR, listed, f"case:verify:{data.split(':')[2]}")
    await eventually(lambda: t("id", "batch.state.dispatched") in line(), timeout=40)
    assert "dibuka Operator Satu" in line()

    # the crews' group: three tasks queued while its burst is spent → one list of tasks
    try:
        tasks = await eventually(lambda: list_in(fake, CREW_GROUP, "task:open:"), timeout=60)
    except AssertionError:
        print("the crews' group got instead:", [(m.get("text") or m.get("caption") or "")[:60]
                                                 for m in fake.sent(CREW_GROUP)])
        raise
    assert t("id", "batch.head_tasks", count=3) in tasks["text"] and len(buttons(tasks)) == 3
    assert not any(m.get("location") for m in fake.sent(CREW_GROUP))  # the pins folded with their cards
    await fake.send_text(REGU_A, "/start")
    await eventually(lambda: fake.sent(REGU_A), timeout=40)
    task_open = buttons(tasks)[0]
    await press(fake, REGU_A, tasks, task_open)
    task_id = int(task_open.split(":")[2])
    card = await eventually(lambda: list_in(fake, REGU_A, f"task:accept:{task_id}"), timeout=40)
    await eventually(lambda: any(m.get("location") for m in fake.sent(REGU_A)), timeout=40)  # its pin too
    await press(fake, REGU_A, card, f"task:accept:{task_id}")
    eta = await eventually(lambda: list_in(fake, REGU_A, f"task:eta:{task_id}:"), timeout=40)
    await press(fake, REGU_A, eta, f"task:eta:{task_id}:10")
    await eventually(lambda: "diterima Regu Damkar A" in texts(fake, CREW_GROUP), timeout=40)

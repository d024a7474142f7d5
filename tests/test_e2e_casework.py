"""The whole case on Telegram over HTTP webhooks: operators verify, crews act, support, documentation, rating."""
from __future__ import annotations

from sqlalchemy import select

from core.i18n import t
from core.models import Attachment, Case, CaseEvent, OutboxItem, Reporter, Task
from tests.e2e_support import (
    CITIZEN,
    OPERATORS,
    TICKET,
    answer_for,
    buttons,
    find,
    latest_card,
    press,
    report_fire,
    texts,
    wait_text,
)
from tests.harness import eventually
from tests.images import phone_jpeg

OPERATOR, OPERATOR_2 = 1001, 1002
DAMKAR, PDAM = -1001000000101, -1001000000105
REGU_A, REGU_B, PSC, PDAM_TEAM = 3001, 3002, 3003, 3006


async def card_of(fake, ticket: str, data: str = "") -> dict:
    """The operators' report card of `ticket` once it shows a button whose data starts with `data`."""
    return await task_card(fake, OPERATORS, ticket, data)


async def task_card(fake, group: int, ticket: str, data: str) -> dict:
    """The card of `ticket` in a group once it shows a button whose data starts with `data`."""
    def ready():
        card = latest_card(fake, group, ticket)
        return card if card and any(b.startswith(data) for b in buttons(card)) else None
    return await eventually(ready, timeout=40)


def case_id_of(card: dict) -> int:
    return int(next(b for b in buttons(card) if b.startswith("case:verify")).split(":")[2])


def task_id_of(card: dict) -> int:
    return int(next(b for b in buttons(card) if b.startswith("task:")).split(":")[2])


async def load(gw, model, **where):
    async with gw.deps.sessions() as s:
        stmt = select(model).filter_by(**where)
        return (await s.execute(stmt)).scalars().all()


async def verified_fire(fake, gw) -> tuple[str, int, dict]:
    """A fire reported by the citizen and verified by an operator: (ticket, case id, Damkar's task card)."""
    ticket = await report_fire(fake, phone_jpeg())
    card = await card_of(fake, ticket, "case:verify")
    case_id = case_id_of(card)
    await press(fake, OPERATOR, card, f"op:verify:{case_id}")
    return ticket, case_id, await task_card(fake, DAMKAR, ticket, "task:accept")


async def test_the_whole_chain_from_report_to_rating(fake, gw):
    ticket, case_id, damkar_card = await verified_fire(fake, gw)
    await wait_text(fake, CITIZEN, "sudah diperiksa operator 112")
    # the card's edit may still be on its way (a group is paced) when the citizen's notice has arrived
    await eventually(lambda: "Operator: Operator Satu" in ((latest_card(fake, OPERATORS, ticket) or {})
                                                            .get("caption") or ""), timeout=40)
    task = task_id_of(damkar_card)
    assert damkar_card["_method"] == "sendPhoto" and "Gudang kayu" in damkar_card["caption"]
    await eventually(lambda: any(m.get("location") for m in fake.sent(DAMKAR)))  # sent right after the card

    await press(fake, REGU_A, damkar_card, f"tk:acc:{task}")
    eta_menu = await task_card(fake, DAMKAR, ticket, f"task:eta:{task}:")
    assert f"task:eta:{task}:10" in buttons(eta_menu)
    await press(fake, REGU_A, eta_menu, f"tk:eta:{task}:10")
    await wait_text(fake, CITIZEN, "perkiraan tiba 10 menit")
    assert "diterima Regu Damkar A" in (await task_card(fake, DAMKAR, ticket, f"task:arrived:{task}"))["caption"]

    await press(fake, REGU_A, damkar_card, f"tk:sup:{task}")
    await press(fake, REGU_A, damkar_card, f"tk:supto:{task}:pdam")
    pdam_card = await task_card(fake, PDAM, ticket, "task:accept")
    assert "BANTUAN" in pdam_card["caption"] and "Pemadam" in pdam_card["caption"]
    await eventually(lambda: "bantuan untuk" in (find(fake, OPERATORS, ticket) or {}).get("caption", ""), timeout=40)
    support = task_id_of(pdam_card)
    await press(fake, PDAM_TEAM, pdam_card, f"tk:acc:{support}")
    await press(fake, PDAM_TEAM, pdam_card, f"tk:eta:{support}:15")
    await eventually(lambda: "diterima Tim Teknis PDAM" in (find(fake, DAMKAR, ticket) or {}).get("caption", ""))

    await press(fake, REGU_A, damkar_card, f"tk:arr:{task}")
    await wait_text(fake, CITIZEN, "sudah tiba di lokasi")
    await press(fake, REGU_A, damkar_card, f"tk:done:{task}")
    await wait_text(fake, DAMKAR, "balas pesan ini dengan foto dokumentasi")
    await fake.send_photo(REGU_A, phone_jpeg(640, 480), caption="Api padam, 1 gudang rusak", chat_id=DAMKAR)
    documentation = await eventually(lambda: find(fake, OPERATORS, "Dokumentasi " + ticket))
    assert documentation["_method"] == "sendPhoto" and documentation["_photo_bytes"]
    await press(fake, REGU_A, damkar_card, f"tk:send:{task}")
    await wait_text(fake, OPERATORS, "Api padam, 1 gudang rusak")
    await wait_text(fake, CITIZEN, "telah ditangani")

    rating = await eventually(lambda: next((m for m in fake.sent(CITIZEN) if f"rate:{case_id}:5" in buttons(m)), None))
    await press(fake, CITIZEN, rating, f"rate:{case_id}:5")
    await wait_text(fake, CITIZEN, "Terima kasih atas penilaian")
    [case] = await load(gw, Case, id=case_id)
    assert (case.state, case.rating) == ("closed", 5)
    [_attachment] = await load(gw, Attachment, case_id=case_id)
    states = {x.agency: x.state for x in await load(gw, Task, case_id=case_id)}
    assert states == {"damkar": "done", "pdam": "accepted"}

    events = await load(gw, CaseEvent, case_id=case_id)
    steps = [(e.to_state, e.note.split(":")[0], e.actor) for e in events]
    assert steps == [
        ("draft", "", f"telegram:{CITIZEN}"), ("submitted", "", f"telegram:{CITIZEN}"),
        ("verified", "", f"telegram:{OPERATOR}"), ("dispatched", "dispatch", f"telegram:{OPERATOR}"),
        ("accepted", "accepted", f"telegram:{REGU_A}"), ("accepted", "support", f"telegram:{REGU_A}"),
        ("accepted", "accepted", f"telegram:{PDAM_TEAM}"), ("on_scene", "on_scene", f"telegram:{REGU_A}"),
        ("on_scene", "done", f"telegram:{REGU_A}"), ("resolved", "", f"telegram:{REGU_A}"),
        ("closed", "auto_close", "system"), ("closed", "rating", f"telegram:{CITIZEN}")]
    assert all(e.at is not None for e in events) and events == sorted(events, key=lambda e: e.at)

    await fake.send_text(OPERATOR, f"/kasus {ticket}", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, f"Riwayat {ticket}")
    history = find(fake, OPERATORS, f"Riwayat {ticket}")["text"]
    for fragment in ("Budi (pelapor)", "Operator Satu", "Regu Damkar A", "Tim Teknis PDAM", "meminta bantuan",
                     "sistem"):
        assert fragment in history
    assert fake.limit_violations == []


async def test_people_without_the_right_change_nothing_and_are_told(fake, gw):
    ticket = await report_fire(fake, phone_jpeg())
    card = await card_of(fake, ticket, "case:verify")
    case_id = case_id_of(card)
    update = await press(fake, REGU_A, card, f"op:verify:{case_id}")  # a crew member is not an operator
    assert await answer_for(fake, update) == t("id", "desk.not_operator")
    [case] = await load(gw, Case, id=case_id)
    assert case.state == "submitted" and case.operator is None

    await press(fake, OPERATOR, card, f"op:verify:{case_id}")
    damkar_card = await task_card(fake, DAMKAR, ticket, "task:accept")
    task = task_id_of(damkar_card)
    update = await press(fake, PSC, damkar_card, f"tk:eta:{task}:5")  # the ambulance crew is another agency
    assert await answer_for(fake, update) == t("id", "crew.not_member")
    [row] = await load(gw, Task, id=task)
    assert row.state == "dispatched" and row.owner is None

    await press(fake, REGU_A, damkar_card, f"tk:eta:{task}:10")
    await wait_text(fake, CITIZEN, "perkiraan tiba 10 menit")
    for data in (f"tk:acc:{task}", f"tk:eta:{task}:5"):  # a second crew member, late
        update = await press(fake, REGU_B, damkar_card, data)
        assert await answer_for(fake, update) == t("id", "crew.already_taken", name="Regu Damkar A")
    update = await press(fake, REGU_B, damkar_card, f"tk:arr:{task}")
    assert await answer_for(fake, update) == t("id", "crew.not_owner", name="Regu Damkar A")
    update = await press(fake, OPERATOR_2, card, f"op:call:{case_id}")  # the card belongs to the first operator
    assert await answer_for(fake, update) == t("id", "desk.owned_by_other")
    [row] = await load(gw, Task, id=task)
    assert (row.state, row.owner, row.eta_minutes) == ("accepted", f"telegram:{REGU_A}", 10)
    [case] = await load(gw, Case, id=case_id)
    assert case.state == "accepted" and not case.callback_requested


async def test_reject_tells_the_reporter_respectfully(fake, gw):
    ticket = await report_fire(fake, phone_jpeg())
    card = await card_of(fake, ticket, "case:verify")
    case_id = case_id_of(card)
    await press(fake, OPERATOR, card, f"op:reject:{case_id}")
    menu = await card_of(fake, ticket, f"case:reject_why:{case_id}:hoax")
    await press(fake, OPERATOR, menu, f"op:rr:{case_id}:hoax")
    await wait_text(fake, CITIZEN, "Operator 112 belum dapat memastikan kejadiannya")
    await eventually(lambda: "Ditolak: Hoaks" in (find(fake, OPERATORS, ticket) or {}).get("caption", ""))
    assert buttons(find(fake, OPERATORS, ticket)) == []
    [case] = await load(gw, Case, id=case_id)
    assert (case.state, case.reject_reason) == ("rejected", "hoax")
    assert find(fake, DAMKAR, ticket) is None


async def test_duplicate_reporters_both_follow_the_surviving_case(fake, gw):
    fake.user(5002, "Siti", language_code="en")
    first = await report_fire(fake, phone_jpeg())
    first_card = await card_of(fake, first, "case:verify")
    await press(fake, OPERATOR, first_card, f"op:verify:{case_id_of(first_card)}")

    await fake.send_text(5002, "/start")
    menu = await eventually(lambda: next((m for m in fake.sent(5002) if "type:fire" in buttons(m)), None))
    for data in ("type:fire",):
        await fake.press_button(5002, menu, data)
    await eventually(lambda: t("en", "report.ask_location")[:12] in (fake.sent(5002)[-1].get("text") or ""))
    await fake.send_location(5002, -7.0168, 113.8668)  # urgent: where first
    await eventually(lambda: "skip" in buttons(fake.sent(5002)[-1]))
    await fake.press_button(5002, fake.sent(5002)[-1], "skip")  # no photo
    await eventually(lambda: t("en", "talk.ask_phone")[:12] in (fake.sent(5002)[-1].get("text") or ""))
    await fake.send_text(5002, "skip")  # no call-back number
    await eventually(lambda: "confirm:send" in buttons(fake.sent(5002)[-1]))
    await fake.press_button(5002, fake.sent(5002)[-1], "confirm:send")
    await eventually(lambda: TICKET.search(texts(fake, 5002)))
    second = TICKET.search(texts(fake, 5002)).group(0)

    # 15 m away, minutes later: it joins the open case by itself (tests/test_e2e_same_incident.py: by hand)
    await eventually(lambda: f"joined to report {first} of the same incident" in texts(fake, 5002), timeout=40)
    first_id = case_id_of(first_card)
    [second_case] = await load(gw, Case, ticket=second)
    second_id = second_case.id

    damkar = await task_card(fake, DAMKAR, first, "task:accept")
    await press(fake, REGU_A, damkar, f"tk:eta:{task_id_of(damkar)}:5")
    await wait_text(fake, CITIZEN, "perkiraan tiba 5 menit")
    await eventually(lambda: "arriving in about 5 min" in texts(fake, 5002))  # in Siti's own language
    [dup] = await load(gw, Case, id=second_id)
    assert (dup.state, dup.duplicate_of_id) == ("duplicate", first_id)


async def test_a_blocked_reporter_is_refused_until_unblocked(fake, gw):
    ticket = await report_fire(fake, phone_jpeg())
    await fake.send_text(CITIZEN, f"/blokir {ticket}", chat_id=DAMKAR)  # not from the operators: ignored
    await fake.send_text(REGU_A, f"/blokir {ticket}", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, t("id", "desk.not_operator"))
    await fake.send_text(OPERATOR, f"/blokir {ticket}", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, t("id", "desk.blocked", ticket=ticket))
    [reporter] = await load(gw, Reporter, external_id=str(CITIZEN))
    assert reporter.blocked
    before = len(fake.sent(CITIZEN))
    await fake.send_text(CITIZEN, "kebakaran lagi")
    await wait_text(fake, CITIZEN, "tidak dapat diterima lagi")
    assert len(fake.sent(CITIZEN)) == before + 1 and len(await load(gw, Case)) == 1

    await fake.send_text(OPERATOR, f"/buka_blokir {ticket}", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, t("id", "desk.unblocked", ticket=ticket))
    await fake.send_text(CITIZEN, "/start")
    await eventually(lambda: "type:fire" in buttons(fake.sent(CITIZEN)[-1]))


async def test_sixty_updates_for_one_group_stay_under_its_limit(fake, gw):
    """Three tasks in Damkar's group, then 60 button presses in a few seconds: edits merge, no 429."""
    tickets = []
    for _ in range(3):
        ticket, _, card = await verified_fire(fake, gw)
        tickets.append((ticket, task_id_of(card), card))
    presses = []
    for i in range(60):
        ticket, task, card = tickets[i % 3]
        data = f"tk:acc:{task}" if (i // 3) % 2 == 0 else f"tk:back:{task}"
        presses.append(await press(fake, REGU_A, card, data))
    assert len(presses) == 60

    async def settled():
        rows = [r for r in await load(gw, OutboxItem) if r.chat_id.startswith(str(DAMKAR))]
        return rows and all(r.status in ("sent", "superseded") for r in rows)
    await eventually(settled, timeout=90)
    for ticket, task, _ in tickets:  # 60 presses = 10 rounds: back to the normal keyboard
        await eventually(lambda: buttons(find(fake, DAMKAR, ticket)) == [f"task:accept:{task}", f"task:refuse:{task}"])  # noqa: B023
    assert fake.limit_violations == []
    ops = sorted(c.at for c in fake.calls if c.status == 200 and c.params.get("chat_id") == DAMKAR
                 and c.method in ("sendMessage", "sendPhoto", "sendLocation", "editMessageCaption",
                                  "editMessageText"))
    assert max(sum(1 for x in ops if start <= x < start + 60) for start in ops) <= 20
    rows = [r for r in await load(gw, OutboxItem) if r.chat_id.startswith(str(DAMKAR))]
    assert sum(r.status == "superseded" for r in rows) > 0  # merged, not dropped: the last edit of each was sent
    answered = {a["callback_query_id"] for a in fake.callback_answers()}
    late = [(c.status, c.at) for c in fake.calls if c.method == "answerCallbackQuery" and c.status != 200]
    assert [p for p in presses if p["callback_query"]["id"] not in answered] == [], late


async def test_operator_closes_then_a_low_rating_alerts_and_a_second_is_refused(fake, gw):
    ticket, case_id, _ = await verified_fire(fake, gw)
    await fake.send_text(OPERATOR, f"/tutup {ticket} ditangani lewat telepon", chat_id=OPERATORS)
    await wait_text(fake, OPERATORS, t("id", "desk.closed", ticket=ticket))
    rating = await eventually(lambda: next((m for m in fake.sent(CITIZEN) if f"rate:{case_id}:2" in buttons(m)),
                                           None), timeout=40)
    assert rating["text"].endswith(t("id", "care.rating_ask_service", ticket=ticket))  # no crew took it: the service
    await press(fake, CITIZEN, rating, f"rate:{case_id}:2")
    await wait_text(fake, CITIZEN, t("id", "care.rating_sorry", stars="⭐⭐"))  # an apology, not a celebration
    await fake.send_text(CITIZEN, "Petugas datang terlambat")
    await wait_text(fake, OPERATORS, f"Penilaian rendah ⭐⭐ untuk {ticket}\n{t('id', 'card.citizen_header')}\n"
                                     "Komentar: ❝Petugas datang terlambat❞")  # quoted, after the system line
    await press(fake, CITIZEN, rating, f"rate:{case_id}:5")
    await wait_text(fake, CITIZEN, t("id", "rating.already"))
    [case] = await load(gw, Case, id=case_id)
    assert (case.state, case.rating, case.rating_comment) == ("closed", 2, "Petugas datang terlambat")
    closing = next(e for e in await load(gw, CaseEvent, case_id=case_id) if e.to_state == "closed")
    assert (closing.actor, closing.note) == (f"telegram:{OPERATOR}", "ditangani lewat telepon")

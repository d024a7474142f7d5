"""A second report of the same fire is flagged on the card; one press merges it and both reporters follow.

With `duplicates.auto_join` off: the operators merge by hand (tests/test_clusters.py: joined by themselves)."""
from __future__ import annotations

import pytest

from core.models import Case
from tests.conftest import fresh_database_url
from tests.e2e_support import (
    CITIZEN,
    OPERATORS,
    TICKET,
    asked,
    buttons,
    card_text,
    last_with_button,
    press,
    report_fire,
    texts,
    wait_text,
)
from tests.harness import eventually, gateway
from tests.images import phone_jpeg
from tests.test_e2e_casework import DAMKAR, OPERATOR, REGU_A, card_of, case_id_of, load, task_card, task_id_of


@pytest.fixture(params=["embedded", "production"])
async def gw(request, fake, tmp_path, redis_url, config):
    """The two shapes of tests/conftest.py's `gw`, with reports left for the operators to merge."""
    manual = config.model_copy(update={"duplicates": config.duplicates.model_copy(update={"auto_join": False})})
    if request.param == "embedded":
        async with gateway(fake, await fresh_database_url("sqlite", tmp_path), config=manual) as g:
            yield g
    else:
        async with gateway(fake, await fresh_database_url("postgres", tmp_path), redis_url=redis_url,
                           run_worker=False, workers=2, config=manual) as g:
            yield g


async def report_nearby(fake, user: int, lat: float, lon: float) -> str:
    """Another citizen reports a fire by buttons only (no photo, no description); returns the ticket."""
    fake.user(user, f"Warga {user}", language_code="id")
    since = len(fake.sent(user))
    await fake.send_text(user, "/start")
    await fake.press_button(user, await eventually(lambda: last_with_button(fake, user, "type:fire")), "type:fire")
    await eventually(lambda: asked("report.ask_location") in texts(fake, user), timeout=40)  # urgent: where first
    await fake.send_location(user, lat, lon)
    await eventually(lambda: "skip" in buttons(fake.sent(user)[-1]), timeout=40)
    await fake.press_button(user, fake.sent(user)[-1], "skip")  # no photo
    await eventually(lambda: asked("talk.ask_phone") in texts(fake, user), timeout=40)
    await fake.send_text(user, "lewati")  # no call-back number
    confirm = await eventually(lambda: last_with_button(fake, user, "confirm:send"), timeout=40)
    await fake.press_button(user, confirm, "confirm:send")
    done = await eventually(lambda: next((m["text"] for m in fake.sent(user)[since:]
                                          if TICKET.search(m.get("text") or "")), None), timeout=40)
    return TICKET.search(done).group(0)


async def test_probable_duplicate_is_flagged_merged_with_one_press_and_raises_priority(fake, gw):
    first = await report_fire(fake, phone_jpeg())
    first_card = await card_of(fake, first, "case:verify")
    first_id = case_id_of(first_card)

    second = await report_nearby(fake, 5002, -7.0168, 113.8668)  # about 15 m away, minutes later
    second_card = await card_of(fake, second, "case:same_as:")
    second_id = case_id_of(second_card)
    assert f"Kemungkinan kejadian yang sama dengan {first}" in card_text(fake, OPERATORS, second)
    assert buttons(second_card)[0] == f"case:same_as:{second_id}:{first_id}"
    await press(fake, OPERATOR, second_card, f"op:dupto:{second_id}:{first_id}")
    await wait_text(fake, 5002, f"sama dengan laporan {first}")
    await eventually(lambda: "📣 2 laporan" in card_text(fake, OPERATORS, first), timeout=40)
    assert "Duplikat dari" not in card_text(fake, OPERATORS, first)  # each card keeps its own text

    third = await report_nearby(fake, 5003, -7.0166, 113.8666)
    third_card = await card_of(fake, third, "case:same_as:")
    third_id = case_id_of(third_card)
    assert second not in card_text(fake, OPERATORS, third)  # a merged report is no longer offered, its survivor is
    await press(fake, OPERATOR, third_card, f"op:dupto:{third_id}:{first_id}")
    await eventually(lambda: "PRIORITAS DINAIKKAN: 3 laporan" in card_text(fake, OPERATORS, first), timeout=40)

    await press(fake, OPERATOR, first_card, f"op:verify:{first_id}")
    damkar = await task_card(fake, DAMKAR, first, "task:accept")
    await press(fake, REGU_A, damkar, f"tk:eta:{task_id_of(damkar)}:5")
    for user in (CITIZEN, 5002, 5003):  # every reporter follows the surviving case
        await wait_text(fake, user, "perkiraan tiba 5 menit")
    merged = {c.id: (c.state, c.duplicate_of_id) for c in await load(gw, Case)}
    assert merged[second_id] == ("duplicate", first_id) and merged[third_id] == ("duplicate", first_id)

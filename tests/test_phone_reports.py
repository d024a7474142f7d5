"""Reports entered by operators (bots/services/phone_intake.py) on SQLite and PostgreSQL: checked fields, one case
per form, the clock from the call, dispatch like a verified chat report, calls that page nobody, and callers
that no message may reach unless they chose WhatsApp."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bots.app import build_deps, stop_deps
from bots.services import dashboard_actions, phone_intake
from core import casework, outbox
from core.messages import Address, Outbound
from core.models import Case, CaseEvent, OutboxItem, Reporter, Task, Timer
from core.settings import load_settings
from tests.harness import SECRET_KEY
from workflows.operator_intake import phone_digits, split_caller, validate

OPERATORS, DAMKAR = "-1001000000001", "-1001000000101"
MOBILE = "6281234567890"
INSIDE = ("-7.0167", "113.8667")


@pytest.fixture
async def deps(db_url, config):
    """One process on a fresh database with Telegram and WhatsApp on (nothing is sent: no worker runs)."""
    settings = load_settings(database_url=db_url, telegram_bot_token="123456:TEST-TOKEN",
                             whatsapp_access_token="wa-token", whatsapp_phone_number_id="1234",
                             whatsapp_app_secret="wa-secret", siaga_secret_key=SECRET_KEY)
    from core.clock import FakeClock
    deps = build_deps(settings, config, FakeClock())
    yield deps
    await stop_deps(deps)


def fields(**extra: str) -> dict[str, str]:
    base = {"incident_type": "fire", "caller_name": "Bu Sri", "caller_phone": "0812-3456-7890",
            "latitude": INSIDE[0], "longitude": INSIDE[1], "description": "Rumah terbakar"}
    return {**base, **extra}


def local(deps, at) -> str:
    return at.astimezone(deps.config.region.tz).strftime("%Y-%m-%dT%H:%M:%S")


async def enter(deps, form_id: str = "form-000000000000001", **extra: str):
    report = validate(fields(**extra), deps.config, deps.clock.now())
    assert not isinstance(report, dict), report
    return await phone_intake.submit(deps, form_id, report, "op1", "Operator Ani")


async def rows(deps, model, *where):
    async with deps.sessions() as s:
        return list((await s.execute(select(model).where(*where))).scalars())


async def queued(deps) -> list[tuple[OutboxItem, Outbound]]:
    return [(row, outbox.decode(row.payload)) for row in await rows(deps, OutboxItem)]


@pytest.mark.parametrize(("typed", "digits", "mobile"), [
    ("0812-3456-7890", MOBILE, True), ("+62 812 3456 7890", MOBILE, True), ("6281234567890", MOBILE, True),
    ("0328-662211", "62328662211", False), ("(0328) 662211", "62328662211", False),
    ("0812-3456-abc", None, None), ("12345", None, None), ("0812", None, None), ("halo", None, None),
    ("0" * 40, None, None),
])
def test_indonesian_numbers_are_stored_as_e164_digits(typed, digits, mobile):
    found = phone_digits(typed)
    assert (found is None) if digits is None else found == (digits, mobile)


def test_the_chat_intake_reads_a_name_and_a_number_from_one_line():
    assert split_caller("Budi 0812 3456 7890") == ("Budi", "0812 3456 7890")
    assert split_caller("Pak Kades") == ("Pak Kades", "")


@pytest.mark.parametrize(("extra", "field", "key"), [
    ({"incident_type": "meteor"}, "incident_type", "intake.err_type"),
    ({"caller_phone": "12345"}, "caller_phone", "intake.err_phone"),
    ({"caller_phone": "0328-662211", "follow_up": "1"}, "caller_phone", "intake.err_follow_up"),
    ({"latitude": "1.5", "longitude": "100.0"}, "location", "intake.err_outside"),
    ({"latitude": "nan", "longitude": "113.8"}, "location", "intake.err_location"),
    ({"latitude": "", "longitude": ""}, "location", "intake.err_location"),
    ({"intake": "pigeon"}, "intake", "intake.err_channel"),
    ({"traffic_class": "spam"}, "traffic_class", "intake.err_class"),
    ({"agencies": "damkar,nasa"}, "agencies", "intake.err_agencies"),
    ({"caller_name": "x" * 101}, "caller_name", "intake.err_too_long"),
    ({"called_at": "kemarin"}, "called_at", "intake.err_time_format"),
])
def test_each_wrong_field_is_named_with_its_reason(config, extra, field, key):
    from core.clock import FakeClock
    assert validate(fields(**extra), config, FakeClock().now()) == {field: key}


async def test_times_of_the_call_in_the_future_or_over_a_day_old_are_refused_and_nothing_is_stored(deps):
    now = deps.clock.now()
    for when, key in ((now + timedelta(minutes=10), "intake.err_time_future"),
                      (now - timedelta(hours=25), "intake.err_time_old")):
        assert validate(fields(called_at=local(deps, when)), deps.config, now) == {"called_at": key}
    assert await rows(deps, Case) == [] and await rows(deps, OutboxItem) == []


async def test_an_emergency_call_is_verified_by_the_operator_and_dispatched_with_the_clock_from_the_call(deps):
    called = deps.clock.now() - timedelta(minutes=2)
    entered = await enter(deps, called_at=local(deps, called))
    [case] = await rows(deps, Case)
    assert (case.id, case.ticket, entered.duplicate) == (entered.case_id, entered.ticket, False)
    assert case.state == "dispatched" and case.operator == "dashboard:op1" == case.entered_by
    assert (case.intake, case.traffic_class, case.caller_name, case.caller_phone) == (
        "phone", "emergency", "Bu Sri", MOBILE)
    assert case.submitted_at == called.replace(microsecond=0)
    assert case.sla_due_at == case.submitted_at + timedelta(minutes=5)  # fire: 5 minutes from the call
    assert [t.agency for t in await rows(deps, Task)] == ["damkar"]
    notes = [e.note for e in await rows(deps, CaseEvent, CaseEvent.case_id == case.id)]
    assert notes[0] == "entered:phone" and "dispatch:damkar" in notes
    assert await rows(deps, Timer, Timer.key.like(f"%{case.id}%"))  # the deadline's steps are armed
    sent = await queued(deps)
    to = {str(m.to) for _, m in sent}
    assert f"telegram:{DAMKAR}" in to and f"telegram:{OPERATORS}" in to  # the task card and the case card
    assert any(m.ref == f"card:{case.id}" for _, m in sent)  # the operators' card posted once, after dispatch
    assert all(m.to.channel in ("telegram", "whatsapp") for _, m in sent)
    assert not any(m.to.channel == "phone" for _, m in sent)  # the caller chose no WhatsApp: nothing to them
    leaders = [m.text for _, m in sent if m.to.id == str(deps.config.leadership[0].telegram_user_id)]
    assert leaders and "langsung diteruskan" in leaders[0] and "memverifikasi" not in leaders[0]


async def test_a_double_submit_of_one_form_makes_one_case(deps):
    first = await enter(deps)
    second = await enter(deps)
    assert second == phone_intake.Entered(first.case_id, first.ticket, duplicate=True)
    assert len(await rows(deps, Case)) == 1 and len(await rows(deps, Task)) == 1
    other = await enter(deps, form_id="form-000000000000002")
    assert other.case_id != first.case_id  # another form is another report


@pytest.mark.parametrize(("traffic", "reason"), [("ghost", "other"), ("prank", "hoax"),
                                                  ("information", "not_emergency")])
async def test_calls_that_need_no_crew_are_logged_and_page_nobody(deps, traffic, reason):
    await enter(deps, traffic_class=traffic, latitude="", longitude="", follow_up="1")
    [case] = await rows(deps, Case)
    assert (case.state, case.traffic_class, case.reject_reason) == ("rejected", traffic, reason)
    assert await rows(deps, Task) == [] and await rows(deps, OutboxItem) == [] and await rows(deps, Timer) == []
    [reporter] = await rows(deps, Reporter)
    assert reporter.channel == "phone"  # no follow-up for a call that needed no help


async def test_no_message_reaches_a_caller_met_off_chat_even_when_a_flow_addresses_one(deps):
    async with deps.sessions() as s, s.begin():
        dropped = await outbox.enqueue(s, Outbound(to=Address("phone", "6281234567890"), text="halo"),
                                       deps.clock.now())
        kept = await outbox.enqueue(s, Outbound(to=Address("telegram", "5001"), text="halo"), deps.clock.now())
    assert dropped is None and kept is not None
    entered = await enter(deps)
    await dashboard_actions.submit(deps, "op1", "Operator Ani", f"case:close:{entered.case_id}")  # closing asks
    [case] = await rows(deps, Case)                                                             # for stars
    assert case.state == "closed" and case.chat.startswith("phone:")
    assert not any(row.channel == "phone" for row, _ in await queued(deps))
    async with deps.sessions() as s, s.begin():  # the operator records the rating from the call-back
        casework.rate(s, await casework.load_case(s, case.id), 4, "dashboard:op1", deps.clock.now())
    assert (await rows(deps, Case))[0].rating == 4


async def test_a_caller_who_chose_whatsapp_gets_the_ticket_and_the_rating_request_there(deps):
    entered = await enter(deps, follow_up="1")
    [case] = await rows(deps, Case)
    [reporter] = await rows(deps, Reporter)
    assert (reporter.channel, reporter.external_id, case.chat) == ("whatsapp", MOBILE, f"whatsapp:{MOBILE}")
    first = [m for _, m in await queued(deps) if str(m.to) == f"whatsapp:{MOBILE}"]
    assert len(first) == 1 and entered.ticket in first[0].text and first[0].template == "status_update"
    await dashboard_actions.submit(deps, "op1", "Operator Ani", f"case:close:{entered.case_id}")
    later = [m for _, m in await queued(deps) if str(m.to) == f"whatsapp:{MOBILE}"]
    assert any(m.template == "rating_request" and m.choices for m in later)  # a template outside the window


async def test_a_typed_address_is_enough_and_chosen_agencies_replace_the_types(deps):
    await enter(deps, latitude="", longitude="", address_text="Depan Masjid Jamik", agencies="damkar,pdam",
                intake="radio")
    [case] = await rows(deps, Case)
    assert (case.intake, case.address_text, case.latitude) == ("radio", "Depan Masjid Jamik", None)
    assert sorted(t.agency for t in await rows(deps, Task)) == ["damkar", "pdam"]
    async with deps.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(Reporter))).scalar_one() == 1

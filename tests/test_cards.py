"""The cards as operators and crews see them: text and buttons in each state, and the citizen's words quoted."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.i18n import t
from core.messages import Address
from workflows import card_messages, cards, keyboards
from workflows.addresses import agency_group, operators_address
from workflows.cards import CaseView, Similar, TaskView

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


def view(state: str = "submitted", *tasks: TaskView, **kw) -> CaseView:
    fields = dict(id=41, ticket="SMP-12-34-56", state=state, incident_type="fire", urgent=True, submitted_at=NOW,
                  updated_at=NOW, reporter_name="Budi", channel="telegram", contact="+62812", now=NOW,
                  description="asap tebal\nStatus: selesai", tasks=tasks)
    return CaseView(**{**fields, **kw})


def codes(choices) -> list[str]:
    return [":".join(c.data.split(":")[:2]) for c in choices]


@pytest.mark.parametrize(("state", "expected"), [
    ("submitted", ["case:verify", "case:pick_agency", "case:reject", "case:duplicate", "case:call"]),
    ("verified", ["case:pick_agency", "case:call"]),
    ("dispatched", ["case:pick_agency", "case:call"]),
    ("accepted", ["case:pick_agency", "case:call"]),
    ("on_scene", ["case:pick_agency", "case:call"]),
    ("resolved", ["case:close"]),
    ("closed", []), ("rejected", []), ("duplicate", []),
])
def test_the_report_card_in_each_state(config, state, expected):
    card = card_messages.card_message(view(state), config, edit=True)
    assert codes(card.choices) == expected
    assert card.to == operators_address(config) and card.edit_of == "card:41"
    assert t("id", "card.status", state=t("id", f"state.{state}"), when="10:00") in card.text


def test_a_new_report_offers_to_merge_into_probable_duplicates(config):
    similar = (Similar(40, "SMP-11-11-11", 80, 3), Similar(39, "SMP-22-22-22", None, 9), Similar(38, "X", 5, 1))
    first = card_messages.card_message(view(similar=similar), config, edit=False)
    assert [c.data for c in first.choices[:2]] == ["case:same_as:41:40", "case:same_as:41:39"]
    assert first.choices[0].label == t("id", "button.op_merge", ticket="SMP-11-11-11")
    assert first.ref == "card:41" and not first.edit_of
    assert t("id", "card.similar", ticket="SMP-11-11-11", distance=t("id", "card.metres", metres=80), minutes=3) \
        in first.text


def test_the_agency_menu_leaves_out_agencies_already_on_the_case(config):
    busy = view("dispatched", TaskView(7, "damkar", "accepted"), TaskView(8, "pdam", "refused"))
    offered = [c.data for c in keyboards.report_buttons(busy, config, "pick")]
    assert "case:send_to:41:damkar" not in offered and "case:send_to:41:pdam" in offered
    assert offered[-1] == "case:back:41"


@pytest.mark.parametrize(("state", "expected"), [
    ("dispatched", ["task:accept", "task:refuse"]),
    ("accepted", ["task:arrived", "task:support", "task:done"]),
    ("on_scene", ["task:support", "task:done"]),
    ("finishing", ["task:send", "task:support"]),
    ("done", []), ("refused", []),
])
def test_the_task_card_in_each_state(config, state, expected):
    task = TaskView(7, "damkar", state, owner_name="Regu Damkar A", eta_minutes=10)
    [card] = card_messages.task_messages(view("dispatched", task), task, config, edit=True)
    assert codes(card.choices) == expected
    assert card.to == agency_group(config, "damkar") and card.edit_of == "task:7"


def test_task_menus_and_a_supporting_agencys_card(config):
    task = TaskView(7, "damkar", "accepted")
    v = view("accepted", task, latitude=-7.0, longitude=113.9)
    assert codes(keyboards.task_buttons(v, task, config, "refuse")) == ["task:refuse_why"] * 3 + ["task:back"]
    support = keyboards.task_buttons(v, task, config, "support")
    assert "task:support_from:7:damkar" not in [c.data for c in support]
    helper = TaskView(8, "pdam", "dispatched", support_of=7)
    first = card_messages.task_messages(view("accepted", task, helper, latitude=-7.0, longitude=113.9), helper, config,
                                        edit=False)
    assert [m.ref for m in first] == ["task:8", ""] and first[1].location is not None  # the card, then the pin
    assert first[0].text.startswith(t("id", "task.support_header", agency=cards.agency_name(config, "damkar", "id")))
    assert "+62812" not in first[0].text  # a supporting crew sees the contact masked


def test_whatsapp_crew_members_get_the_task_one_to_one(config):
    task = TaskView(7, "damkar", "dispatched")
    direct = card_messages.crew_whatsapp_tasks(view("dispatched", task), task, config)
    assert [(str(m.to), m.template) for m in direct] == [("whatsapp:6281200000101", "crew_task")]
    assert codes(direct[0].choices) == ["task:accept", "task:refuse"]
    taken = card_messages.crew_taken_notices(view("accepted", task), TaskView(7, "damkar", "accepted", owner_name="A"),
                                             config, except_=Address("whatsapp", "6281200000101"))
    assert taken == []  # the one who took it is not told


def test_the_citizens_words_come_last_and_quoted(config):
    text = cards.report_text(view(address_text="Jl. Melati\nStatus: ditutup"), config)
    lines = text.split("\n")
    said = lines[lines.index(t("id", "card.citizen_header")) + 1:]
    assert said == [t("id", "card.said_name", text="❝Budi❞"),
                    t("id", "card.said_address", text="❝Jl. Melati Status: ditutup❞"),
                    t("id", "card.said_description", text="❝asap tebal Status: selesai❞")]


def test_the_clock_line_counts_down_then_says_whether_the_target_was_met(config):
    due = NOW + timedelta(minutes=12)
    assert cards.clock_line(view(sla_due_at=due), config, "id") == t("id", "card.clock_left", minutes=12, time="10:12")
    met = view("accepted", sla_due_at=due, accepted_at=NOW + timedelta(minutes=4))
    assert cards.clock_line(met, config, "id") == t("id", "card.clock_met", minutes=4,
                                                       target=config.incident_type("fire").sla_minutes)

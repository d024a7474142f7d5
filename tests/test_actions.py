"""The action table: every button any card can show has an entry and a handler, every entry a right (issue 13)."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bots.services.desk import HANDLERS
from bots.web.case_page import ACTIONS as DASHBOARD_ACTIONS
from core import button_data
from core.i18n import catalog
from core.messages import Address, Inbound, Kind
from core.outbox_lists import Line
from workflows import abandoned_draft, batch_card, card_messages, crew_tasks, keyboards, operator_desk
from workflows import actions as A
from workflows.cards import CaseView, Similar, TaskView
from workflows.conversation_state import Draft

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
CASE_STATES = ("submitted", "verified", "dispatched", "accepted", "on_scene", "resolved", "closed", "rejected",
               "duplicate")
TASK_STATES = ("dispatched", "accepted", "on_scene", "finishing", "done", "refused")
GROUP = Address("telegram", "-100")


def view(state: str = "submitted", tasks: tuple[TaskView, ...] = ()) -> CaseView:
    return CaseView(id=41, ticket="SMP-12-34-56", state=state, incident_type="fire", urgent=True, submitted_at=NOW,
                    updated_at=NOW, reporter_name="Budi", channel="telegram", contact="+62812", now=NOW,
                    tasks=tasks, similar=(Similar(40, "SMP-11-11-11", 80, 3), Similar(39, "SMP-22-22-22", None, 9)))


def press(data: str) -> Inbound:
    return Inbound(kind=Kind.CHOICE, chat=GROUP, sender=Address("telegram", "1001"), choice=data, is_private=False)


def every_button(config) -> list[tuple[str, int]]:
    """(data, the id it must name) for every button the renderers can produce, in every state and menu."""
    out = []
    for state in CASE_STATES:
        v = view(state, (TaskView(7, "damkar", "accepted"),))
        for menu in keyboards.CASE_MENUS:
            out += [(c.data, v.id) for c in keyboards.report_buttons(v, config, menu)]
        out += [(c.data, v.id) for c in keyboards.duplicate_buttons(v, [(40, "SMP-11-11-11", "fire"),
                                                                         (v.id, v.ticket, "fire")], config)]
    for state in TASK_STATES:
        for support_of in (None, 7):
            task = TaskView(8, "psc119", state, support_of=support_of)
            v = view("dispatched", (TaskView(7, "damkar", "accepted"), task))
            for menu in keyboards.TASK_MENUS:
                out += [(c.data, task.id) for c in keyboards.task_buttons(v, task, config, menu)]
                direct = card_messages.crew_direct(v, task, config, Address("whatsapp", "62812"), menu)
                out += [(c.data, task.id) for c in direct.choices]
            out += [(c.data, task.id) for m in card_messages.crew_whatsapp_tasks(v, task, config) for c in m.choices]
    out += [(pressed.data(41, arg), 41) for pressed, arg in DASHBOARD_ACTIONS.values()]
    unfinished = abandoned_draft.card(config, Draft(NOW.isoformat(), "fire"),
                                      abandoned_draft.Reporter(41, "telegram", "5001", "Budi", None))
    out += [(c.data, 41) for c in unfinished.choices]
    listed = [Line("card:41", 41, "SMP-12-34-56", "", NOW), Line("task:8", 8, "SMP-12-34-56", "", NOW)]
    out += [(c.data, line.target) for c, line in zip(batch_card.choices(listed), listed, strict=True)]
    return out


def test_every_rendered_button_has_an_entry_and_a_handler(config):
    rendered = every_button(config)
    assert len({data for data, _ in rendered}) > 30
    seen = set()
    for data, target in rendered:
        assert button_data.valid(data), data
        pressed = A.parse(press(data))
        assert pressed is not None and pressed.target == target, data
        assert pressed.action in HANDLERS, data
        seen.add(pressed.action)
    assert seen == set(A.BUTTONS.values())  # and no entry is a button nobody renders


def test_every_entry_has_a_right_a_handler_and_a_translated_label():
    for action in A.TABLE:
        assert isinstance(action.right, A.Right) and action in HANDLERS, action.code
        if action.label:
            assert all(action.label in catalog(lang) for lang in ("id", "en")), action.label  # staff: id and en
    assert set(operator_desk.DECISIONS) == {a for a in A.TABLE if a.code.startswith("case:")} - A.OPENERS
    assert set(crew_tasks.DECISIONS) == {a for a in A.TABLE if a.code.startswith("task:")} - A.OPENERS
    assert {a.right for a in A.BUTTONS.values()} == {A.Right.OPERATOR, A.Right.CREW}


@pytest.mark.parametrize("command", sorted(A.COMMANDS))
def test_every_command_parses_to_its_entry_with_a_handler(command):
    event = Inbound(kind=Kind.COMMAND, chat=GROUP, sender=Address("telegram", "1001"), command=command,
                    args="SMP-12-34-56")
    pressed = A.parse(event)
    assert pressed == A.Pressed(A.COMMANDS[command], 0, "SMP-12-34-56") and pressed.action in HANDLERS
    assert A.parse(replace(event, command="nonsense")) is None


OLD_CARDS = {  # data on cards posted before the table, as they still sit in the groups
    "op:verify:12": (A.CASE_VERIFY, 12, ""), "op:pick:12": (A.CASE_PICK_AGENCY, 12, ""),
    "op:to:12:pdam": (A.CASE_SEND_TO, 12, "pdam"), "op:reject:12": (A.CASE_REJECT, 12, ""),
    "op:rr:12:hoax": (A.CASE_REJECT_WHY, 12, "hoax"), "op:duplicate:12": (A.CASE_DUPLICATE, 12, ""),
    "op:dupto:12:7": (A.CASE_SAME_AS, 12, "7"), "op:call:12": (A.CASE_CALL, 12, ""),
    "op:back:12": (A.CASE_BACK, 12, ""), "op:close:12": (A.CASE_CLOSE, 12, ""),
    "tk:acc:3": (A.TASK_ACCEPT, 3, ""), "tk:eta:3:15": (A.TASK_ETA, 3, "15"), "tk:ref:3": (A.TASK_REFUSE, 3, ""),
    "tk:rr:3:busy": (A.TASK_REFUSE_WHY, 3, "busy"), "tk:arr:3": (A.TASK_ARRIVED, 3, ""),
    "tk:sup:3": (A.TASK_SUPPORT, 3, ""), "tk:supto:3:pdam": (A.TASK_SUPPORT_FROM, 3, "pdam"),
    "tk:done:3": (A.TASK_DONE, 3, ""), "tk:send:3": (A.TASK_SEND, 3, ""), "tk:back:3": (A.TASK_BACK, 3, ""),
}


@pytest.mark.parametrize("old", sorted(OLD_CARDS))
def test_old_codes_parse_to_the_same_entries_as_the_new(old):
    action, target, arg = OLD_CARDS[old]
    assert A.parse(press(old)) == A.Pressed(action, target, arg)
    assert A.parse(press(action.data(target, arg))) == A.Pressed(action, target, arg)
    assert A.is_desk_press(press(old)) and A.is_desk_press(press(action.data(target, arg)))


def test_codes_are_readable_and_within_the_grammar():
    assert A.CASE_REJECT_WHY.data(12, "hoax") == "case:reject_why:12:hoax"
    assert A.TASK_ETA.data(7, "10") == "task:eta:7:10"
    longest = A.TASK_SUPPORT_FROM.data(button_data.MAX_ID, "x" * 32)
    assert button_data.valid(longest) and len(longest) <= button_data.MAX_BYTES
    for bad in ("case:verify:0", "case:verify:99999999999", "case:nonsense:12", "task:accept", "type:fire",
                "rate:12:5", "op:verify:x"):
        assert A.parse(press(bad)) is None, bad

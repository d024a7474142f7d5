"""Golden transcripts of the crews' task cards: a press in, decisions and messages out (no database)."""
from __future__ import annotations

from datetime import UTC, datetime

from core.i18n import t
from core.messages import Address, Inbound, Kind
from workflows import actions as A
from workflows import crew_tasks as crew
from workflows.cards import CaseView, TaskView, agency_name
from workflows.desk_replies import DeskContext, Follower, Refusal, Reply, ShowMenu

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
DAMKAR = Address("telegram", "-1001000000101")
OPERATORS = "telegram:-1001000000001"
REGU_A = "telegram:3001"
REPORTER = Follower(41, "SMP-12-34-56", "telegram:5001", "en")


def ctx(config, private: bool = False) -> DeskContext:
    chat = Address("whatsapp", "6281200000101") if private else DAMKAR
    return DeskContext(config, NOW, REGU_A, "Regu Damkar A", "id", chat, private, "" if private else "cb1")


def view(state: str, *tasks: TaskView) -> CaseView:
    return CaseView(id=41, ticket="SMP-12-34-56", state=state, incident_type="fire", urgent=True, submitted_at=NOW,
                    updated_at=NOW, reporter_name="Budi", channel="telegram", contact="+62812", now=NOW,
                    tasks=tasks, language="en")


def task(state: str = "dispatched", **kw) -> TaskView:
    return TaskView(7, "damkar", state, **kw)


def decide(config, data: str, before: TaskView, private: bool = False):
    event = Inbound(kind=Kind.CHOICE, chat=DAMKAR, sender=Address("telegram", "3001"), choice=data)
    return crew.decide(A.parse(event), before, ctx(config, private))


def to(reply: Reply, address: str) -> list[str]:
    return [m.text for m in reply.messages if str(m.to) == address]


def test_accepting_asks_for_the_eta_then_takes_the_task(config):
    before = view("dispatched", task())
    assert decide(config, "task:accept:7", task()) == ShowMenu("eta")
    menu = crew.messages(ShowMenu("eta"), before, crew.Outcome(before), ctx(config), 7)
    assert [c.data for c in menu.messages[0].choices] == [f"task:eta:7:{m}" for m in (5, 10, 15, 30, 45, 60, 90)] \
        + ["task:back:7"]
    assert (menu.messages[0].edit_of, menu.answer) == ("task:7", None)
    assert decide(config, "task:eta:7:11", task()) == Refusal("desk.unknown_action")  # not on the menu
    assert decide(config, "task:eta:7:99999", task()) == Refusal("desk.unknown_action")
    decision = decide(config, "tk:eta:7:10", task())  # a card posted before the table
    assert decision == crew.Accept(7, 10)
    after = view("accepted", task("accepted", owner=REGU_A, owner_name="Regu Damkar A", eta_minutes=10))
    reply = crew.messages(decision, before, crew.Outcome(after, (REPORTER,)), ctx(config), 7)
    assert [m.edit_of for m in reply.messages[:2]] == ["card:41", "task:7"]
    assert [c.data for c in reply.messages[1].choices] == ["task:arrived:7", "task:support:7", "task:done:7"]
    assert to(reply, "whatsapp:6281200000101") == [t("id", "crew.taken_by", ticket="SMP-12-34-56",
                                                     name="Regu Damkar A")]
    assert to(reply, "telegram:5001") == [t("en", "notice.accepted", ticket="SMP-12-34-56", number="112",
                                            agency=agency_name(config, "damkar", "en"), eta=10)]
    assert reply.answer == t("id", "crew.accepted", eta=10)


def test_the_second_crew_member_is_told_who_took_it(config):
    taken = task("accepted", owner="telegram:3002", owner_name="Regu Damkar B")
    assert decide(config, "task:accept:7", taken) == Refusal("crew.already_taken", {"name": "Regu Damkar B"})
    assert decide(config, "task:refuse:7", taken) == Refusal("crew.wrong_task_state")
    assert decide(config, "task:support:7", taken) == Refusal("crew.not_owner", {"name": "Regu Damkar B"})


def test_refusing_tells_the_operators_and_whether_the_case_went_back(config):
    before = view("dispatched", task())
    assert decide(config, "task:refuse:7", task()) == ShowMenu("refuse")
    assert decide(config, "task:refuse_why:7:lazy", task()) == Refusal("desk.unknown_action")
    decision = decide(config, "task:refuse_why:7:busy", task())
    assert decision == crew.Refuse(7, "busy")
    after = view("verified", task("refused", refuse_reason="busy"))
    reply = crew.messages(decision, before, crew.Outcome(after, returned=True), ctx(config), 7)
    assert to(reply, OPERATORS)[-1] == t("id", "desk.task_refused", ticket="SMP-12-34-56",
                                         agency=agency_name(config, "damkar", "id"), reason=t("id", "refuse.busy"),
                                         back=t("id", "desk.returned"))
    assert reply.answer == t("id", "crew.refused")


def test_the_last_other_agency_refusing_after_a_crew_finished_resolves_and_asks_for_ratings(config):
    """The fire brigade had finished; the ambulance, still dispatched, refuses: nobody is left on the case."""
    psc = TaskView(9, "psc119", "dispatched")
    before = view("accepted", task("done", owner=REGU_A), psc)
    decision = crew.decide(A.parse(Inbound(kind=Kind.CHOICE, chat=DAMKAR, sender=Address("telegram", "3101"),
                                           choice="task:refuse_why:9:not_ours")), psc, ctx(config))
    assert decision == crew.Refuse(9, "not_ours")
    after = view("closed", task("done", owner=REGU_A), TaskView(9, "psc119", "refused", refuse_reason="not_ours"))
    reply = crew.messages(decision, before, crew.Outcome(after, (REPORTER,), resolved=True), ctx(config), 9)
    told = [m for m in reply.messages if str(m.to) == REPORTER.chat]
    assert [m.text for m in told][:2] == [
        t("en", "notice.resolved", ticket="SMP-12-34-56", number="112"),
        t("en", "notice.closed", ticket="SMP-12-34-56", number="112")]
    assert [c.data for c in told[-1].choices][:1] == ["rate:41:1"]
    unresolved = crew.messages(decision, before, crew.Outcome(view("accepted", psc), (REPORTER,)), ctx(config), 9)
    assert not [m for m in unresolved.messages if str(m.to) == REPORTER.chat]


def test_support_from_another_agency_posts_its_card_first(config):
    mine = task("accepted", owner=REGU_A)
    assert decide(config, "task:support:7", mine) == ShowMenu("support")
    assert decide(config, "task:support_from:7:nowhere", mine) == Refusal("desk.unknown_action")
    decision = decide(config, "task:support_from:7:pdam", mine)
    assert decision == crew.RequestSupport(7, "pdam")
    before = view("accepted", mine)
    after = view("accepted", mine, TaskView(8, "pdam", "dispatched", support_of=7))
    reply = crew.messages(decision, before, crew.Outcome(after, new_tasks=(8,)), ctx(config), 7)
    assert (reply.messages[0].to, reply.messages[0].ref) == (Address("telegram", "-1001000000105"), "task:8")
    assert reply.answer == t("id", "crew.support_requested", agency=agency_name(config, "pdam", "id"))


def test_a_supporting_crew_arriving_does_not_tell_the_reporter(config):
    support = TaskView(8, "pdam", "accepted", support_of=7, owner=REGU_A)
    before = view("accepted", task("accepted"), support)
    decision = decide(config, "task:arrived:8", support)
    assert decision == crew.Arrive(8)
    after = view("accepted", task("accepted"), TaskView(8, "pdam", "on_scene", support_of=7))
    reply = crew.messages(decision, before, crew.Outcome(after, (REPORTER,)), ctx(config), 8)
    assert [m.edit_of for m in reply.messages] == ["card:41", "task:8", "task:7"]  # its card and the one it supports
    assert reply.answer == t("id", "crew.on_scene")


def test_finishing_on_whatsapp_asks_for_documentation_then_closes(config):
    mine = task("on_scene", owner=REGU_A)
    assert decide(config, "task:done:7", mine, private=True) == crew.StartFinishing(7)
    before = view("on_scene", mine)
    asked = crew.messages(crew.StartFinishing(7), before, crew.Outcome(view("on_scene", task("finishing"))),
                          ctx(config, private=True), 7)
    direct = [m for m in asked.messages if m.template == "crew_task"]
    assert [c.data for c in direct[0].choices] == ["task:send:7", "task:support:7"]
    assert asked.messages[-1].force_reply and asked.messages[-1].text == t(
        "id", "crew.send_documentation", name="Regu Damkar A", ticket="SMP-12-34-56")
    assert asked.answer is None
    done = view("closed", task("done", note="api padam"))
    reply = crew.messages(crew.Finish(7), before, crew.Outcome(done, (REPORTER,), resolved=True, photos=2),
                          ctx(config, private=True), 7)
    assert to(reply, OPERATORS)[1:] == [t("id", "desk.crew_report", ticket="SMP-12-34-56", name="Regu Damkar A",
                                      agency=agency_name(config, "damkar", "id"), note="api padam", photos=2)]
    assert to(reply, "telegram:5001")[:2] == [t("en", "notice.resolved", ticket="SMP-12-34-56", number="112"),
                                              t("en", "notice.closed", ticket="SMP-12-34-56", number="112")]
    assert reply.answer == t("id", "crew.finished")


def test_documentation_photo_goes_to_the_operators(config):
    reply = crew.documentation_kept("SMP-12-34-56", 41, "damkar", 99, ctx(config))
    assert (str(reply.messages[0].to), reply.messages[0].photo_media_id) == (OPERATORS, 99)
    assert reply.answer == t("id", "crew.photo_kept")


# --- an operator enters a crew's step heard by radio (the case page) ------------------------------------------

def operator_decide(config, data: str, before: TaskView):
    event = Inbound(kind=Kind.CHOICE, chat=Address("dashboard", "ani"), sender=Address("dashboard", "ani"),
                    choice=data)
    op = DeskContext(config, NOW, "dashboard:ani", "Operator Ani", "id", Address("dashboard", "ani"))
    return crew.decide(A.parse(event), before, op), op


def test_an_operator_enters_a_radio_crews_acceptance_for_a_member_or_a_named_crew(config):
    assert operator_decide(config, "task:for_accept:7:12:regu damkar a", task())[0] == \
        crew.AcceptFor(7, 12, REGU_A, "Regu Damkar A")  # a member of the agency: they can go on from Telegram
    assert operator_decide(config, "task:for_accept:7:8:Regu Pos Kalianget", task())[0] == \
        crew.AcceptFor(7, 8, "radio:damkar", "Regu Pos Kalianget")
    for bad in ("task:for_accept:7:0:Regu", "task:for_accept:7:241:Regu", "task:for_accept:7:10:", "task:for_accept:7"):
        assert operator_decide(config, bad, task())[0] == Refusal("casepage.crew_step_incomplete"), bad
    taken = task("accepted", owner_name="Regu Damkar B")
    assert operator_decide(config, "task:for_accept:7:5:Regu", taken)[0] == \
        Refusal("crew.already_taken", {"name": "Regu Damkar B"})
    assert operator_decide(config, "task:for_arrive:7", task())[0] == Refusal("crew.wrong_task_state")
    assert operator_decide(config, "task:for_done:7:Api padam", task())[0] == Refusal("crew.wrong_task_state")
    assert operator_decide(config, "task:for_done:7:Api  padam", task("on_scene"))[0] == crew.FinishFor(7, "Api padam")


def test_a_radio_acceptance_re_renders_the_task_card_and_tells_the_reporter_like_a_press(config):
    decision, op = operator_decide(config, "task:for_accept:7:10:Regu Damkar A", task())
    before = view("dispatched", task())
    after = view("accepted", task("accepted", owner_name="Regu Damkar A", eta_minutes=10, owner=REGU_A))
    by_radio = crew.messages(decision, before, crew.Outcome(after, (REPORTER,)), op, 7)
    by_button = crew.messages(crew.Accept(7, 10), before, crew.Outcome(after, (REPORTER,)), ctx(config), 7)
    group = [m for m in by_radio.messages if m.to == DAMKAR]
    assert [m.edit_of for m in group] == ["task:7"] and "Regu Damkar A" in group[0].text
    assert [c.data for c in group[0].choices] == [c.data for m in by_button.messages if m.to == DAMKAR
                                                  for c in m.choices]
    assert to(by_radio, "telegram:5001") == to(by_button, "telegram:5001") != []

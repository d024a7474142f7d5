"""Golden transcripts of the operators' desk: a press on the report card in, decisions and messages out (pure)."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.i18n import t
from core.messages import Address, Inbound, Kind
from workflows import actions as A
from workflows import operator_desk as desk
from workflows.cards import CaseView, TaskView, agency_name
from workflows.desk_replies import DeskContext, Follower, Refusal, Reply, ShowMenu

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
OPERATORS = Address("telegram", "-1001000000001")
REPORTER = Follower(41, "SMP-12-34-56", "telegram:5001", "id")
MERGED = Follower(42, "SMP-65-43-21", "whatsapp:628", "en")  # a report merged into it


def ctx(config, **kw) -> DeskContext:
    return DeskContext(config, NOW, "telegram:1001", "Operator Satu", "id", OPERATORS, False, "cb1", **kw)


def view(state: str = "submitted", *tasks: TaskView, **kw) -> CaseView:
    return CaseView(id=41, ticket="SMP-12-34-56", state=state, incident_type="fire", urgent=True, submitted_at=NOW,
                    updated_at=NOW, reporter_name="Budi", channel="telegram", contact="+62812", now=NOW,
                    tasks=tasks, language="id", **kw)


def decide(config, data: str, before: CaseView):
    event = Inbound(kind=Kind.CHOICE, chat=OPERATORS, sender=Address("telegram", "1001"), choice=data,
                    callback_id="cb1", is_private=False)
    return desk.decide(A.parse(event), before, ctx(config))


def to(reply: Reply, address: str) -> list[str]:
    return [m.text for m in reply.messages if str(m.to) == address]


def test_verify_dispatches_the_types_agencies_and_tells_every_reporter(config):
    before = view()
    decision = decide(config, "case:verify:41", before)
    assert decision == desk.Verify(("damkar",))
    after = view("dispatched", TaskView(7, "damkar", "dispatched"))
    reply = desk.messages(decision, before, desk.Outcome(after, (REPORTER, MERGED), new_tasks=(7,)), ctx(config))
    names = agency_name(config, "damkar", "id")
    card, task_card = reply.messages[0], reply.messages[1]
    assert (card.to, card.edit_of, task_card.ref) == (OPERATORS, "card:41", "task:7")
    assert [c.data for c in task_card.choices] == ["task:accept:7", "task:refuse:7"]
    assert [str(m.to) for m in reply.messages if m.template == "crew_task"] == ["whatsapp:6281200000101"]
    assert to(reply, "telegram:5001") == [t("id", "notice.verified", ticket="SMP-12-34-56", number="112",
                                            agencies=names)]
    assert to(reply, "whatsapp:628") == []  # WhatsApp, urgent: said with the crew's ETA (test_whatsapp_economy.py)
    assert reply.answer == t("id", "desk.dispatched", agencies=names)


def test_a_second_agency_is_sent_without_telling_reporters_again(config):
    before = view("dispatched", TaskView(7, "damkar", "accepted"))
    assert decide(config, "case:send_to:41:pdam", before) == desk.Verify(("pdam",))
    assert decide(config, "op:to:41:pdam", before) == desk.Verify(("pdam",))  # a card posted before the table
    assert decide(config, "case:send_to:41:nowhere", before) == Refusal("desk.unknown_action")
    after = view("dispatched", TaskView(7, "damkar", "accepted"), TaskView(8, "pdam", "dispatched"))
    reply = desk.messages(desk.Verify(("pdam",)), before, desk.Outcome(after, (REPORTER,), new_tasks=(8,)),
                          ctx(config))
    assert to(reply, "telegram:5001") == []
    assert reply.answer == t("id", "desk.dispatched", agencies=agency_name(config, "pdam", "id"))


def test_rejecting_asks_why_then_tells_the_reporter_in_their_language(config):
    before = view()
    assert decide(config, "case:reject:41", before) == ShowMenu("reject")
    menu = desk.messages(ShowMenu("reject"), before, desk.Outcome(before), ctx(config))
    assert [c.data for c in menu.messages[0].choices] == [
        "case:reject_why:41:hoax", "case:reject_why:41:not_emergency", "case:reject_why:41:outside_region",
        "case:reject_why:41:other", "case:back:41"]
    assert menu.answer is None
    assert decide(config, "case:reject_why:41:because", before) == Refusal("desk.unknown_action")
    assert decide(config, "case:reject:41", view("dispatched")) == Refusal("desk.wrong_state", {"state": "dispatched"})
    decision = decide(config, "case:reject_why:41:hoax", before)
    assert decision == desk.Reject("hoax")
    reply = desk.messages(decision, before, desk.Outcome(view("rejected", reject_reason="hoax"), (REPORTER,)),
                          ctx(config))
    assert to(reply, "telegram:5001") == [t("id", "notice.rejected_hoax", ticket="SMP-12-34-56", number="112")]
    assert reply.answer == t("id", "desk.rejected")


def test_marking_a_duplicate_edits_both_cards_and_tells_both_reporters(config):
    before = view()
    assert decide(config, "case:duplicate:41", before) == desk.ListDuplicates()
    assert desk.messages(desk.ListDuplicates(), before, desk.Outcome(before), ctx(config)) == \
        Refusal("desk.no_duplicate_candidates")
    found = desk.Outcome(before, candidates=((7, "SMP-11-11-11", "fire"),))
    offer = desk.messages(desk.ListDuplicates(), before, found, ctx(config))
    assert [c.data for c in offer.messages[0].choices] == ["case:same_as:41:7", "case:back:41"]
    decision = decide(config, "case:same_as:41:7", before)
    assert decision == desk.MarkDuplicate(7)
    assert decide(config, "case:same_as:41:0", before) == Refusal("desk.unknown_case")
    target = replace(view("dispatched"), id=7, ticket="SMP-11-11-11")
    first = Follower(7, "SMP-11-11-11", "telegram:5002", "id")
    reply = desk.messages(decision, before, desk.Outcome(view("duplicate", duplicate_of="SMP-11-11-11"), (REPORTER,),
                                                         other=target, other_followers=(first,)), ctx(config))
    assert [m.edit_of for m in reply.messages[:2]] == ["card:41", "card:7"]
    assert to(reply, "telegram:5001") == [t("id", "notice.duplicate", ticket="SMP-12-34-56", number="112",
                                            other="SMP-11-11-11")]
    assert to(reply, "telegram:5002") == [t("id", "notice.merged", ticket="SMP-11-11-11", number="112",
                                            other="SMP-12-34-56")]
    assert reply.answer == t("id", "desk.marked_duplicate", ticket="SMP-11-11-11")


def test_calling_back_and_closing(config):
    before = view("resolved")
    assert decide(config, "case:call:41", before) == desk.NoteCallback()
    reply = desk.messages(desk.NoteCallback(), before, desk.Outcome(view("resolved", callback_requested=True)),
                          ctx(config))
    assert reply.answer == t("id", "desk.calling", contact="+62812")
    assert [c.data for c in reply.messages[0].choices] == ["case:close:41"]
    assert decide(config, "case:close:41", before) == desk.Close("")
    closed = desk.messages(desk.Close(""), before, desk.Outcome(view("closed"), (REPORTER, MERGED)), ctx(config))
    assert to(closed, "telegram:5001")[0] == t("id", "notice.closed", ticket="SMP-12-34-56", number="112")
    assert to(closed, "whatsapp:628")[0] == t("en", "notice.closed", ticket="SMP-65-43-21", number="112")
    stars = [m for m in closed.messages if m.template == "rating_request"]
    assert [c.data for c in stars[0].choices] == [f"rate:41:{n}" for n in range(1, 6)]
    assert closed.answer == t("id", "desk.closed", ticket="SMP-12-34-56")


def test_who_may_press(config):
    operator = Inbound(kind=Kind.CHOICE, chat=OPERATORS, sender=Address("telegram", "1001"), choice="case:verify:41")
    crew = replace(operator, sender=Address("telegram", "3001"))
    dashboard = replace(operator, sender=Address("dashboard", "op1"))
    assert A.refusal(A.CASE_VERIFY, operator, config) is None
    assert A.refusal(A.CASE_VERIFY, crew, config) == "desk.not_operator"
    assert A.refusal(A.CASE_VERIFY, dashboard, config) is None
    assert A.refusal(A.TASK_ACCEPT, dashboard, config, "damkar") == "desk.not_operator"
    assert A.refusal(A.CMD_STATISTIK, replace(operator, sender=Address("telegram", "2001")), config) is None  # a leader
    assert A.refusal(A.CMD_STATISTIK, crew, config) == "figures.not_allowed"


# --- the case page's own actions (typed on the dashboard, decided here like every press) ---------------------

def test_ticked_agencies_verify_and_dispatch_to_each_once(config):
    before = view()
    assert decide(config, "case:send_to:41:damkar,pdam,damkar", before) == desk.Verify(("damkar", "pdam"))
    assert decide(config, "case:send_to:41:damkar,nosuch", before) == Refusal("desk.unknown_action")
    assert decide(config, "case:send_to:41:", before) == Refusal("desk.unknown_action")


def test_a_note_is_one_bounded_line_and_never_empty(config):
    before = view("dispatched")
    assert decide(config, "case:note:41:  Penelepon kedua:\n  api  sudah padam ", before) == \
        desk.AddNote("Penelepon kedua: api sudah padam")
    long = decide(config, "case:note:41:" + "x" * 5000, before)
    assert isinstance(long, desk.AddNote) and len(long.text) == config.limits.max_description_chars
    assert decide(config, "case:note:41:   ", before) == Refusal("casepage.note_empty")
    reply = desk.messages(desk.AddNote("x"), before, desk.Outcome(before), ctx(config))
    assert reply.messages == () and reply.answer == t("id", "casepage.noted")  # nobody else is told


def test_a_call_back_carries_the_callers_rating_or_none(config):
    before = view("closed")
    assert decide(config, "case:called_back:41", before) == desk.RecordCallback(None)
    assert decide(config, "case:called_back:41:4", before) == desk.RecordCallback(4)
    for bad in ("0", "6", "99999999999", "x"):
        assert decide(config, f"case:called_back:41:{bad}", before) == Refusal("desk.unknown_action"), bad
    reply = desk.messages(desk.RecordCallback(4), before, desk.Outcome(before), ctx(config))
    assert reply.answer == t("id", "casepage.called_back_rated", stars=4)

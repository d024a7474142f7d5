"""Fewer billed WhatsApp messages per report, no step lost: which notices a reporter gets on which channel."""
from __future__ import annotations

from datetime import UTC, datetime

from core.i18n import t
from core.messages import Address, Inbound, Kind
from workflows import actions as A
from workflows import crew_tasks as crew
from workflows import operator_desk as desk
from workflows.cards import CaseView, TaskView, agency_name
from workflows.desk_replies import DeskContext, Follower, Reply

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
OPERATORS = Address("telegram", "-1001000000001")
DAMKAR = Address("telegram", "-1001000000101")
ON_TELEGRAM = Follower(41, "SMN-12-34-56", "telegram:5001", "id")
ON_WHATSAPP = Follower(42, "SMN-65-43-21", "whatsapp:6281234567890", "en")  # a report merged into it


def view(state: str, *tasks: TaskView, kind: str = "fire", urgent: bool = True) -> CaseView:
    return CaseView(id=41, ticket="SMN-12-34-56", state=state, incident_type=kind, urgent=urgent, submitted_at=NOW,
                    updated_at=NOW, reporter_name="Budi", channel="telegram", contact="+62812", now=NOW,
                    tasks=tasks, language="id")


def ctx(config, chat: Address, actor: str, live: frozenset[str] | None = None) -> DeskContext:
    return DeskContext(config, NOW, actor, "Someone", "id", chat, callback_id="cb1", live=live)


def press(config, data: str, chat: Address, actor: str) -> A.Pressed:
    return A.parse(Inbound(kind=Kind.CHOICE, chat=chat, sender=Address.parse(actor), choice=data))


def to(reply: Reply, address: str) -> list[str]:
    return [m.text for m in reply.messages if str(m.to) == address and not m.answer_callback]


def verify(config, before: CaseView, live: frozenset[str] | None = None) -> Reply:
    operator = ctx(config, OPERATORS, "telegram:1001", live)
    decision = desk.decide(press(config, "case:verify:41", OPERATORS, "telegram:1001"), before, operator)
    code = decision.agencies[0]
    after = view("dispatched", TaskView(7, code, "dispatched"), kind=before.incident_type, urgent=before.urgent)
    return desk.messages(decision, before, desk.Outcome(after, (ON_TELEGRAM, ON_WHATSAPP), new_tasks=(7,)), operator)


def test_an_urgent_verification_is_told_with_the_eta_on_whatsapp_and_at_once_elsewhere(config):
    reply = verify(config, view("submitted"))
    names = agency_name(config, "damkar", "id")
    assert to(reply, "telegram:5001") == [t("id", "notice.verified", ticket="SMN-12-34-56", number="112",
                                            agencies=names)]
    assert to(reply, "whatsapp:6281234567890") == []

    before = view("dispatched", TaskView(7, "damkar", "dispatched"))
    crew_ctx = ctx(config, DAMKAR, "telegram:3001")
    decision = crew.decide(press(config, "tk:eta:7:10", DAMKAR, "telegram:3001"), before.tasks[0], crew_ctx)
    after = view("accepted", TaskView(7, "damkar", "accepted", owner="telegram:3001", owner_name="Regu Damkar A",
                                      eta_minutes=10))
    accepted = crew.messages(decision, before, crew.Outcome(after, (ON_TELEGRAM, ON_WHATSAPP)), crew_ctx, 7)
    assert to(accepted, "telegram:5001") == [t("id", "notice.accepted", ticket="SMN-12-34-56", number="112",
                                               agency=names, eta=10)]
    folded, = to(accepted, "whatsapp:6281234567890")
    assert folded == t("en", "deploy.notice_verified_accepted", ticket="SMN-65-43-21", number="112", agency=names,
                       eta=10)
    assert "checked by a 112 operator" in folded and "10 min" in folded


def test_a_non_urgent_verification_is_told_at_once_everywhere(config):
    reply = verify(config, view("submitted", kind="water_outage", urgent=False))  # a crew may accept hours later
    assert len(to(reply, "whatsapp:6281234567890")) == 1 and len(to(reply, "telegram:5001")) == 1


def test_a_crew_the_operators_must_phone_is_said_at_once_on_whatsapp_too(config):
    reply = verify(config, view("submitted"), live=frozenset({"web"}))  # neither Telegram nor WhatsApp works
    said, = to(reply, "whatsapp:6281234567890")
    assert said == t("en", "channels.verified_by_phone", ticket="SMN-65-43-21", number="112",
                     agencies=agency_name(config, "damkar", "id"))


def test_arrival_is_not_billed_on_whatsapp_and_handled_comes_with_the_rating(config):
    before = view("accepted", TaskView(7, "damkar", "accepted", owner="telegram:3001", owner_name="Regu Damkar A"))
    crew_ctx = ctx(config, DAMKAR, "telegram:3001")
    decision = crew.decide(press(config, "tk:arr:7", DAMKAR, "telegram:3001"), before.tasks[0], crew_ctx)
    after = view("on_scene", TaskView(7, "damkar", "on_scene", owner="telegram:3001", owner_name="Regu Damkar A"))
    reply = crew.messages(decision, before, crew.Outcome(after, (ON_TELEGRAM, ON_WHATSAPP)), crew_ctx, 7)
    assert to(reply, "telegram:5001") == [t("id", "notice.on_scene", ticket="SMN-12-34-56", number="112",
                                            agency=agency_name(config, "damkar", "id"))]
    assert to(reply, "whatsapp:6281234567890") == []


def test_more_than_an_hour_is_offered_and_told_as_such(config):
    before = view("dispatched", TaskView(7, "damkar", "dispatched"))
    crew_ctx = ctx(config, DAMKAR, "telegram:3001")
    menu = crew.messages(crew.ShowMenu("eta"), before, crew.Outcome(before), crew_ctx, 7)
    labels = {c.data: c.label for c in menu.messages[0].choices}
    assert labels["task:eta:7:60"] == t("id", "button.eta", minutes=60)
    assert labels["task:eta:7:90"] == t("id", "deploy.eta_over_hour_button") == "> 1 jam"
    decision = crew.decide(press(config, "tk:eta:7:90", DAMKAR, "telegram:3001"), before.tasks[0], crew_ctx)
    assert decision == crew.Accept(7, 90)
    after = view("accepted", TaskView(7, "damkar", "accepted", owner="telegram:3001", owner_name="Regu Damkar A",
                                      eta_minutes=90))
    reply = crew.messages(decision, before, crew.Outcome(after, (ON_TELEGRAM, ON_WHATSAPP)), crew_ctx, 7)
    assert reply.answer == t("id", "deploy.crew_accepted_over_hour") and "90" not in reply.answer
    assert to(reply, "telegram:5001") == [t("id", "deploy.notice_accepted_over_hour", ticket="SMN-12-34-56",
                                            number="112", agency=agency_name(config, "damkar", "id"))]
    assert "more than an hour" in to(reply, "whatsapp:6281234567890")[0]
    assert crew.decide(press(config, "tk:eta:7:120", DAMKAR, "telegram:3001"), before.tasks[0],
                       crew_ctx) == crew.Refusal("desk.unknown_action")  # not on the menu

"""While help is on the way (safety advice after the ticket) and ratings that fit the case (pure)."""
from __future__ import annotations

import pytest

from core.config import LocalizedName
from core.i18n import t
from core.messages import Address, Inbound, Kind, Priority
from tests.test_citizen_report import INSIDE, Chat, ev, press, text, texts
from tests.test_operator_desk import MERGED, NOW, REPORTER, ctx, view
from workflows import crew_tasks
from workflows import operator_desk as desk
from workflows.cards import TaskView
from workflows.context import Context
from workflows.conversation_state import ConversationState
from workflows.effects import RateCase
from workflows.rating import rate


def _report(config, type_code: str, lang: str = "id"):
    """Choose the type, give a pin, skip the rest, send: the messages of the last step."""
    chat = Chat(config)
    chat.send(text("tolong", lang=lang))
    chat.send(press(f"type:{type_code}"))
    if chat.step == "photo":
        chat.send(press("skip"))
    chat.send(ev(Kind.LOCATION, location=INSIDE, lang=lang))
    chat.send(press("skip"))
    return chat.send(press("confirm:send"))


@pytest.mark.parametrize(("code", "lang", "advice"), [
    ("fire", "id", "Keluarkan semua orang dan jangan masuk kembali"),
    ("fire", "en", "Get everyone out and stay out"),
    ("traffic_accident", "id", "Jangan memindahkan korban kecuali ia dalam bahaya"),
    ("medical", "en", "Stay with the person"),
])
def test_an_urgent_report_gets_its_types_advice_and_the_general_one_after_the_ticket(config, code, lang, advice):
    out = _report(config, code, lang)
    assert len(out) == 2 and "SMP-12-34-56" in out[0].text and "SMP-12-34-56" not in out[1].text
    safety = out[1]
    assert safety.to == out[0].to and safety.priority == Priority.URGENT and not safety.choices
    lines = safety.text.splitlines()
    assert lines[0] == t(lang, "care.safety_head")
    assert advice in lines[1] and lines[2] == "• " + config.safety_general.get(lang)


def test_a_non_urgent_report_gets_no_safety_advice(config):
    out = _report(config, "flood")
    assert len(out) == 1 and t("id", "care.safety_head") not in texts(out)


def test_advice_comes_from_the_deployment_file_only(config):
    """No advice configured: nothing is invented; only the general line: just that."""
    fire = config.incident_type("fire").model_copy(update={"safety": None})
    bare = config.model_copy(update={"incident_types": [fire], "safety_general": None})
    assert len(_report(bare, "fire")) == 1
    general_only = config.model_copy(update={"incident_types": [fire],
                                             "safety_general": LocalizedName(id="Tetap aktif", en="Stay on")})
    assert _report(general_only, "fire")[1].text.splitlines()[1:] == ["• Tetap aktif"]


def _closed(config, *tasks: TaskView, **kw):
    before = view("resolved", *tasks, **kw)
    return desk.messages(desk.Close(""), before, desk.Outcome(view("closed", *tasks, **kw), (REPORTER, MERGED)),
                         ctx(config))


def test_a_case_closed_without_any_crew_asks_about_the_service(config):
    refused = TaskView(7, "damkar", "refused", refuse_reason="busy")
    reply = _closed(config, refused)
    asks = [m for m in reply.messages if m.template == "rating_request"]
    assert [m.text for m in asks] == [t("id", "care.rating_ask_service", ticket="SMP-12-34-56"),
                                      t("en", "care.rating_ask_service", ticket="SMP-65-43-21")]
    assert "pelayanan Call Center 112" in asks[0].text and "penanganan" not in asks[0].text
    assert [c.data for c in asks[0].choices] == [f"rate:41:{n}" for n in range(1, 6)]


def test_a_case_a_crew_accepted_asks_about_the_handling(config):
    done = TaskView(7, "damkar", "done", owner_name="Regu A", owner="telegram:3001")
    reply = _closed(config, done, accepted_at=NOW)
    asks = [m.text for m in reply.messages if m.template == "rating_request"]
    assert asks[0] == t("id", "rating.ask", ticket="SMP-12-34-56") and "penanganan" in asks[0]


def test_a_crew_finishing_the_last_task_asks_about_the_handling(config):
    """The crews' path to closing (crew_tasks.resolution) gets the same rule."""
    done = TaskView(7, "damkar", "done", owner_name="Regu A", owner="telegram:3001")
    outcome = crew_tasks.Outcome(view("closed", done, accepted_at=NOW), (REPORTER,), resolved=True)
    asks = [m.text for m in crew_tasks.resolution(outcome.view, outcome, config) if m.template == "rating_request"]
    assert asks == [t("id", "rating.ask", ticket="SMP-12-34-56")]
    refused = TaskView(7, "damkar", "refused")
    outcome = crew_tasks.Outcome(view("closed", refused), (REPORTER,), resolved=True)
    asks = [m.text for m in crew_tasks.resolution(outcome.view, outcome, config) if m.template == "rating_request"]
    assert asks == [t("id", "care.rating_ask_service", ticket="SMP-12-34-56")]


@pytest.mark.parametrize(("stars", "key"), [(1, "care.rating_sorry"), (2, "care.rating_sorry"),
                                            (3, "rating.thanks"), (5, "rating.thanks")])
def test_the_thank_you_does_not_celebrate_a_low_rating(config, stars, key):
    me = Address("telegram", "5001")
    event = Inbound(kind=Kind.CHOICE, chat=me, sender=me, choice=f"rate:41:{stars}")
    for lang in ("id", "en"):
        res = rate(ConversationState(lang=lang), event, Context(config=config, now=NOW, ticket="X"))
        assert res.out[0].text == t(lang, key, stars="⭐" * stars) and res.commands == [RateCase(41, stars)]
        assert [c.data for c in res.out[0].choices] == ["rate_skip"]
    assert ("pimpinan" in t("id", key, stars="")) == (stars <= 2)
    assert ("Terima kasih" in t("id", key, stars="")) == (stars > 2)

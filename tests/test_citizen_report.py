"""Golden transcripts of the citizen's conversation: what the reporter sends, what the bot answers."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.i18n import t
from core.messages import Address, GeoPoint, Inbound, Kind, MediaRef
from workflows import citizen_report
from workflows.context import CaseSummary, Context
from workflows.conversation_state import ConversationState, Step
from workflows.effects import SetLanguage, SubmitCase

ME = Address("telegram", "5001")
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
INSIDE = GeoPoint(-7.0167, 113.8667)      # Sumenep town
OUTSIDE = GeoPoint(-7.2575, 112.7521)     # Surabaya


def ev(kind: Kind, **kw) -> Inbound:
    return Inbound(kind=kind, chat=ME, sender=ME, sender_name="Budi", language_code=kw.pop("lang", "id"), **kw)


def text(s: str, **kw) -> Inbound:
    return ev(Kind.TEXT, text=s, **kw)


def press(data: str) -> Inbound:
    return ev(Kind.CHOICE, choice=data, callback_id="cb1")


def cmd(name: str) -> Inbound:
    return ev(Kind.COMMAND, command=name)


class Chat:
    """Feed events through the pure step function and keep the state, as the runtime would."""

    def __init__(self, config, **ctx) -> None:
        self.config, self.state, self.ctx = config, ConversationState(), ctx
        self.commands, self.timers = [], []

    def send(self, event: Inbound):
        res = citizen_report.step(self.state, event, Context(config=self.config, now=NOW, ticket="SMP-12-34-56",
                                                             **self.ctx))
        self.state = res.state
        self.commands += res.commands
        self.timers += res.timers
        return res.out

    @property
    def step(self) -> Step:
        return self.state.step


def texts(out) -> str:
    return "\n".join(m.text for m in out)


def test_fire_report_with_photo_and_pin_gets_a_ticket(config):
    chat = Chat(config)
    out = chat.send(text("tolong ada kebakaran"))
    assert "112" in texts(out) and "Privasi" in texts(out)
    assert [c.data for c in out[-1].choices][:2] == ["type:fire", "type:traffic_accident"]
    out = chat.send(press("type:fire"))
    assert chat.step == "photo" and [c.data for c in out[-1].choices] == ["skip"]
    chat.send(ev(Kind.PHOTO, media=MediaRef("f1", 1000, media_id=7)))
    assert chat.step == "location" and chat.state.open_draft.photo_media_id == 7
    out = chat.send(ev(Kind.LOCATION, location=INSIDE))
    assert chat.step == "description"
    chat.send(text("Rumah warga terbakar, 2 orang terjebak"))
    assert chat.step == "confirm"
    out = chat.send(press("confirm:send"))
    assert "SMP-12-34-56" in texts(out)
    [submit] = [c for c in chat.commands if isinstance(c, SubmitCase)]
    assert (submit.incident_type, submit.urgent, submit.photo_media_id) == ("fire", True, 7)
    assert (submit.latitude, submit.longitude) == (INSIDE.latitude, INSIDE.longitude)
    assert submit.description.startswith("Rumah warga")
    assert chat.step == "idle" and chat.state.draft is None


def test_location_and_photo_sent_first_are_kept(config):
    chat = Chat(config)
    chat.send(ev(Kind.LOCATION, location=INSIDE))
    assert chat.state.open_draft.latitude == INSIDE.latitude and chat.step == "type"
    chat.send(ev(Kind.PHOTO, media=MediaRef("f1", 10, media_id=3)))
    assert chat.step == "type"
    chat.send(press("type:flood"))
    assert chat.step == "description"  # photo and location were already given


def test_typed_address_and_typed_number_answers(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(text("8"))  # the 8th type, typed instead of pressed
    assert chat.state.open_draft.incident_type == config.incident_types[7].code
    chat.send(text("Depan Pasar Anom, Jl. Trunojoyo"))
    assert chat.state.open_draft.address == "Depan Pasar Anom, Jl. Trunojoyo"


def test_urgent_type_may_skip_photo_but_required_type_may_not(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:fallen_tree"))  # photo required, not urgent
    out = chat.send(press("skip"))
    assert chat.step == "photo" and out[-1].text == t("id", "report.hint_photo_required")
    chat.send(cmd("start"))
    chat.send(press("type:traffic_accident"))
    chat.send(press("skip"))
    assert chat.step == "location"


def test_medical_asks_no_photo(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:medical"))
    assert chat.step == "location"


def test_outside_region_is_refused_politely_and_creates_nothing(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:crime"))
    chat.send(press("skip"))
    out = chat.send(ev(Kind.LOCATION, location=OUTSIDE))
    assert "luar wilayah" in texts(out) and "112" in texts(out)
    assert chat.step == "location" and chat.state.open_draft.latitude is None
    assert not chat.commands


@pytest.mark.parametrize("kind", [Kind.VOICE, Kind.STICKER, Kind.VIDEO])
def test_voice_sticker_video_get_a_hint_where_a_photo_was_asked(config, kind):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:fire"))
    out = chat.send(ev(kind))
    assert t("id", f"hint.{kind.value}") in out[0].text
    assert chat.step == "photo"


@pytest.mark.parametrize("problem", ["too_large", "not_image", "unreadable"])
def test_bad_photo_is_refused_with_a_reason_and_the_report_goes_on(config, problem):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:fire"))
    out = chat.send(ev(Kind.DOCUMENT, media=MediaRef("f1", 10, problem=problem)))
    assert out[0].text.startswith(t("id", f"photo.{problem}", max_mb="10")[:20])
    assert chat.step == "photo"
    chat.send(press("skip"))
    assert chat.step == "location"


def test_cancel_language_help_status(config):
    chat = Chat(config, cases=(CaseSummary("SMP-11-11-11", "fire", "submitted", NOW),))
    chat.send(text("halo"))
    out = chat.send(cmd("batal"))
    assert texts(out) == t("id", "report.cancelled") and chat.state.draft is None
    assert texts(chat.send(cmd("batal"))) == t("id", "report.nothing_to_cancel")
    out = chat.send(cmd("bahasa"))
    assert [c.data for c in out[0].choices] == ["lang:id", "lang:en"]
    out = chat.send(press("lang:en"))
    assert texts(out) == t("en", "language.set") and SetLanguage("en") in chat.commands
    assert "/status" in texts(chat.send(cmd("bantuan")))
    status = texts(chat.send(cmd("status")))
    assert "SMP-11-11-11" in status and "waiting for operator verification" in status


def test_language_follows_telegram_language_code(config):
    chat = Chat(config)
    out = chat.send(text("hello", lang="en-GB"))
    assert "Privacy" in texts(out)


def test_reminder_once_then_expiry_and_stale_timers_do_nothing(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:fire"))
    touch = chat.state.touch
    assert {tm.kind for tm in chat.timers} == {"draft_reminder", "draft_expire", "draft_abandoned"}  # fire: urgent
    stale = ev(Kind.TIMER, timer="draft_reminder", timer_payload={"touch": touch - 1})
    assert chat.send(stale) == []
    remind = ev(Kind.TIMER, timer="draft_reminder", timer_payload={"touch": touch})
    out = chat.send(remind)
    assert out[0].text == t("id", "report.reminder")
    assert chat.send(remind) == []  # exactly one reminder per silence
    out = chat.send(ev(Kind.TIMER, timer="draft_expire", timer_payload={"touch": touch}))
    assert texts(out) == t("id", "report.expired") and chat.state.draft is None


def test_blocked_reporter_gets_the_phone_number_only(config):
    chat = Chat(config, blocked=True)
    out = chat.send(text("kebakaran"))
    assert texts(out) == t("id", "report.blocked", number="112")
    assert chat.state.step == "idle" and not chat.commands


def test_a_burst_of_reports_is_slowed_but_status_still_answers(config):
    chat = Chat(config, reports_last_hour=config.limits.reports_per_hour)
    out = chat.send(text("kebakaran lagi"))
    assert texts(out) == t("id", "flood.reports", count=3, number="112")
    assert chat.step == "idle" and not chat.state.draft
    assert chat.send(cmd("start"))[0].text == t("id", "flood.reports", count=3, number="112")
    assert t("id", "flood.reports", count=3, number="112") not in texts(chat.send(cmd("status")))
    fresh = Chat(config, reports_last_hour=config.limits.reports_per_hour - 1)
    assert fresh.send(text("kebakaran"))[-1].choices  # below the limit the type menu comes


def test_a_state_stored_by_an_earlier_version_loads_and_the_report_goes_on(config):
    chat = Chat(config)
    chat.state = ConversationState.from_json({"lang": "en", "step": "photo", "touch": 2, "someday": True,
                                              "draft": {"started_at": NOW.isoformat(), "type": "fire"}})
    chat.send(ev(Kind.PHOTO, media=MediaRef("f1", 1000, media_id=7)))
    assert chat.step == "location" and chat.state.open_draft.photo_media_id == 7 and chat.state.touch == 3
    assert ConversationState.from_json(chat.state.to_json()) == chat.state
    for unusable in ({"step": "witness", "draft": {"started_at": NOW.isoformat()}}, {"step": "type"}, None, []):
        assert ConversationState.from_json(unusable).step == Step.IDLE

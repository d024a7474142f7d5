"""Golden transcripts of the citizen's conversation: what the reporter sends, what the bot answers."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core import gazetteer
from core.i18n import LANGUAGES, t
from core.messages import Address, GeoPoint, Inbound, Kind, MediaRef
from workflows import citizen_report
from workflows.context import CaseSummary, Context
from workflows.conversation_state import ConversationState, Step
from workflows.effects import SetLanguage, SetPhone, SubmitCase, coalesce

ME = Address("telegram", "5001")
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
INSIDE = GeoPoint(-7.0167, 113.8667, 12.0)  # Sumenep town, 12 m as the phone reported it
OUTSIDE = GeoPoint(-7.2575, 112.7521)     # Surabaya


def ev(kind: Kind, **kw) -> Inbound:
    chat = kw.pop("chat", ME)
    return Inbound(kind=kind, chat=chat, sender=chat, sender_name="Budi", language_code=kw.pop("lang", "id"), **kw)


def text(s: str, **kw) -> Inbound:
    return ev(Kind.TEXT, text=s, **kw)


def press(data: str, **kw) -> Inbound:
    return ev(Kind.CHOICE, choice=data, callback_id="cb1", **kw)


def cmd(name: str) -> Inbound:
    return ev(Kind.COMMAND, command=name)


class Chat:
    """Feed events through the pure step function and keep the state, as the runtime would."""

    def __init__(self, config, **ctx) -> None:
        self.config, self.state = config, ConversationState()
        self.ctx = {"places": gazetteer.for_config(config), "phone_known": True, **ctx}
        self.commands, self.timers, self.sent = [], [], 0

    def send(self, event: Inbound):
        res = citizen_report.step(self.state, event, Context(config=self.config, now=NOW, ticket="SMP-12-34-56",
                                                             **self.ctx))
        self.state = res.state
        self.commands += res.commands
        self.timers += res.timers
        self.sent += len(coalesce(res.out))  # what the citizen's phone receives
        return res.out

    @property
    def step(self) -> Step:
        return self.state.step


def texts(out) -> str:
    return "\n".join(m.text for m in out)


def data(message) -> list[str]:
    return [c.data for c in message.choices]


def submitted(chat: Chat) -> SubmitCase:
    [submit] = [c for c in chat.commands if isinstance(c, SubmitCase)]
    return submit


# --- free text first -----------------------------------------------------------------------------------

def test_first_words_are_kept_the_type_proposed_and_urgent_asks_where_first(config):
    chat = Chat(config, phone_known=False)
    out = chat.send(text("tolong ada kebakarn di gudang kayu"))  # a typo, and no button pressed
    assert out[0].text.startswith(t("id", "report.greeting", region=config.region.name, number="112")[:20])
    assert data(out[-1]) == ["guess:yes", "guess:other"] and "Kebakaran?" in out[-1].text
    assert chat.step == "guess" and chat.state.open_draft.description == "tolong ada kebakarn di gudang kayu"
    out = chat.send(text("iya"))
    assert chat.step == "location" and out[-1].request_location  # urgent: where before the photo
    out = chat.send(ev(Kind.LOCATION, location=INSIDE))
    assert "Desa" in texts(out) and "-7.0" not in texts(out)  # the pin named by its desa
    assert chat.step == "photo" and data(out[-1]) == ["skip"]
    chat.send(ev(Kind.PHOTO, media=MediaRef("f1", 1000, media_id=7)))
    assert chat.step == "phone"
    out = chat.send(text("lewati"))
    summary = out[-1].text
    assert chat.step == "confirm" and t("id", "talk.summary_pin") in summary and "-7.0" not in summary
    assert "gudang kayu" in summary and data(out[-1]) == ["confirm:send", "confirm:edit", "confirm:cancel"]
    out = chat.send(text("Ya, kirim"))
    assert "SMP-12-34-56" in texts(out) and chat.step == "idle"
    submit = submitted(chat)
    assert (submit.incident_type, submit.urgent, submit.photo_media_id) == ("fire", True, 7)
    assert (submit.latitude, submit.longitude, submit.location_accuracy_m) == (-7.0167, 113.8667, 12.0)
    assert submit.kecamatan_code == "35.29.01" and submit.place_match in ("pin_inside", "pin_nearest")
    assert submit.description == "tolong ada kebakarn di gudang kayu"
    assert chat.sent == 6  # greeting+guess, where, photo, number, summary, ticket+advice


def test_whatsapp_report_with_a_known_number_takes_five_messages(config):
    chat = Chat(config, phone_known=True)
    chat.send(text("rumah tetangga terbakar"))
    chat.send(press("guess:yes"))
    chat.send(ev(Kind.LOCATION, location=INSIDE))
    chat.send(ev(Kind.PHOTO, media=MediaRef("f1", 1000, media_id=7)))
    assert chat.step == "confirm"
    chat.send(press("confirm:send"))
    assert submitted(chat).incident_type == "fire" and chat.sent == 5


@pytest.mark.parametrize(("words", "lang", "expected"), [
    ("ibu saya pingsan tidak bangun", "id", "medical"),
    ("ambulans", "id", "medical"),
    ("air mati sejak pagi", "id", "water_outage"),
    ("api", "id", "fire"),
    ("ada kecelakan motor", "id", "traffic_accident"),  # typo
    ("rumah kebanjiran", "id", "flood"),
    ("bapak kaulâ pèngsan, ta' sadar", "mad", "medical"),
    ("bâdâ tonoan, apoy kobhâr", "mad", "fire"),
    ("my father fainted and is not breathing", "en", "medical"),
    ("there was a car crash near the market", "en", "traffic_accident"),
])
def test_the_type_is_recognised_in_indonesian_madurese_and_english(config, words, lang, expected):
    chat = Chat(config)
    out = chat.send(text(words, lang="en" if lang == "en" else "id"))
    assert chat.state.open_draft.guess == expected and chat.state.lang == lang
    assert out[-1].text == t(lang, "talk.guess", type=out[-1].text.split("?")[0])
    if lang == "mad":  # switched by its words, said in one line with the way back
        assert t("mad", "talk.language_switched", name="x").split("x")[0] in texts(out)
        assert SetLanguage("mad") in chat.commands and "/bahasa" in texts(out)


def test_a_sentence_with_no_type_word_is_kept_and_the_menu_comes(config):
    chat = Chat(config)
    out = chat.send(text("tolong cepat datang ke sini"))
    assert chat.step == "type" and out[-1].text == t("id", "talk.type_unknown")
    assert data(out[-1])[0] == "type:fire" and data(out[-1])[-1] == "lang:menu"
    assert out[-1].menu_label == t("id", "talk.button_menu")
    assert "nomor" not in out[-1].text.lower()  # no "type its number" where no number is shown
    out = chat.send(text("rumahnya kemasukan air"))  # more words, still no type named
    assert chat.step == "type" and data(out[-1])[0] == "type:fire"
    chat.send(text("banjir"))  # the type's name typed
    assert chat.state.open_draft.incident_type == "flood"
    assert chat.step == "photo"  # not urgent: the photo first
    assert chat.state.open_draft.description == "tolong cepat datang ke sini\nrumahnya kemasukan air"


def test_a_greeting_is_not_kept_and_a_typed_number_or_name_picks_the_type(config):
    chat = Chat(config)
    out = chat.send(text("halo"))
    assert chat.step == "type" and chat.state.open_draft.description is None and out[-1].choices
    index = next(i for i, it in enumerate(config.incident_types) if it.code == "crime")
    chat.send(text(str(index + 1)))
    assert chat.state.open_draft.incident_type == "crime"
    fresh = Chat(config)
    fresh.send(text("Pohon tumbang"))  # the type's own name, as the first words
    assert fresh.state.open_draft.incident_type == "fallen_tree" and fresh.step == "photo"


def test_other_type_then_more_words_and_a_wrong_guess(config):
    chat = Chat(config)
    chat.send(text("ada asap"))
    assert chat.state.open_draft.guess == "fire"
    out = chat.send(text("bukan"))
    assert chat.step == "type" and out[-1].choices
    chat.send(press("type:landslide"))
    assert chat.state.open_draft.incident_type == "landslide"


# --- hints keep the buttons; typed answers at every step -------------------------------------------------

def test_hints_repeat_the_steps_buttons(config):
    chat = Chat(config)
    chat.send(text("halo"))
    out = chat.send(ev(Kind.STICKER))
    assert chat.step == "type" and data(out[-1])[0] == "type:fire" and t("id", "hint.sticker") in out[-1].text
    chat.send(press("type:fire"))
    out = chat.send(ev(Kind.VOICE))
    assert out[-1].request_location and t("id", "hint.voice") in out[-1].text
    chat.send(ev(Kind.LOCATION, location=INSIDE))
    out = chat.send(ev(Kind.VIDEO))
    assert chat.step == "photo" and data(out[-1]) == ["skip"]
    chat.send(text("tidak ada"))  # "no photo": skipped
    out = chat.send(ev(Kind.STICKER))
    assert chat.step == "confirm" and data(out[-1]) == ["confirm:send", "confirm:cancel"]
    assert out[-1].text.startswith(t("id", "hint.sticker"))


def test_words_at_the_confirm_step_become_the_description_and_can_be_edited(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:medical"))
    chat.send(text("Jl. Trunojoyo depan masjid"))
    assert chat.step == "confirm"
    it = config.incident_type("medical")
    question = it.describe.get("id") if it.describe else t("id", "talk.ask_description")
    out = chat.send(text("tidak"))  # not a description: the hint, with the buttons
    assert data(out[-1]) == ["confirm:send", "confirm:cancel"]
    chat.send(text("nenek jatuh di kamar mandi"))
    out = chat.send(text("masih bernapas"))
    assert "nenek jatuh di kamar mandi\nmasih bernapas" in out[-1].text and question not in out[-1].text
    chat.send(press("confirm:edit"))
    assert chat.step == "description"
    out = chat.send(text("nenek 80 tahun pingsan"))
    assert chat.step == "confirm" and "nenek 80 tahun pingsan" in out[-1].text and "kamar mandi" not in out[-1].text
    chat.send(text("kirim"))
    assert submitted(chat).description == "nenek 80 tahun pingsan"


def test_batal_typed_at_any_step_cancels(config):
    chat = Chat(config)
    chat.send(text("ada kebakaran"))
    out = chat.send(text("Batal"))
    assert texts(out) == t("id", "report.cancelled") and chat.state.draft is None and not chat.commands


def test_urgent_type_may_skip_photo_but_required_type_may_not(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:fallen_tree"))  # photo required, not urgent
    out = chat.send(press("skip"))
    assert chat.step == "photo" and out[-1].text == t("id", "talk.hint_photo_required")
    out = chat.send(text("lewati"))
    assert chat.step == "photo" and out[-1].text == t("id", "talk.hint_photo_required")
    chat.send(cmd("start"))
    chat.send(press("type:traffic_accident"))
    assert chat.step == "location"
    chat.send(ev(Kind.LOCATION, location=INSIDE))
    chat.send(press("skip"))
    assert chat.step == "confirm"


def test_medical_asks_no_photo(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:medical"))
    assert chat.step == "location"
    chat.send(ev(Kind.LOCATION, location=INSIDE))
    assert chat.step == "confirm"


# --- places ------------------------------------------------------------------------------------------

def test_a_typed_desa_is_confirmed_and_its_codes_reach_the_case(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:crime"))
    chat.send(press("skip"))
    out = chat.send(text("dekat pasar, Pabian"))
    assert chat.step == "place" and out[-1].text == t("id", "talk.place_confirm",
                                                       place="Desa Pabian, Kec. Kota Sumenep")
    assert data(out[-1]) == ["place:yes", "place:no"]
    out = chat.send(ev(Kind.STICKER))
    assert data(out[-1]) == ["place:yes", "place:no"]
    chat.send(text("ya"))
    assert chat.step == "confirm"
    chat.send(press("confirm:send"))
    submit = submitted(chat)
    assert (submit.address_text, submit.place_match) == ("dekat pasar, Pabian", "typed_confirmed")
    assert (submit.desa_code, submit.kecamatan_code) == ("35.29.01.2006", "35.29.01")


def test_a_wrong_or_unknown_place_is_kept_as_typed_for_the_operator(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:medical"))
    chat.send(text("Pabian"))
    chat.send(press("place:no"))
    assert chat.step == "confirm"
    assert chat.state.open_draft.place_match == "typed_unmatched" and chat.state.open_draft.desa_code is None
    other = Chat(config)
    other.send(text("halo"))
    other.send(press("type:medical"))
    other.send(text("rumah pak haji, belakang toko besi"))
    assert other.step == "confirm" and other.state.open_draft.place_match == "typed_unmatched"
    other.send(text("ya"))
    assert submitted(other).address_text == "rumah pak haji, belakang toko besi"


def test_places_work_without_a_gazetteer(config):
    chat = Chat(config, places=None)
    chat.send(text("halo"))
    chat.send(press("type:medical"))
    out = chat.send(ev(Kind.LOCATION, location=INSIDE))
    assert t("id", "talk.pin_received") in texts(out) and chat.step == "confirm"
    chat.send(press("confirm:send"))
    assert submitted(chat).place_match is None and submitted(chat).desa_code is None


def test_outside_region_is_refused_politely_and_creates_nothing(config):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:crime"))
    chat.send(press("skip"))
    out = chat.send(ev(Kind.LOCATION, location=OUTSIDE))
    assert "luar wilayah" in texts(out) and "112" in texts(out)
    assert chat.step == "location" and chat.state.open_draft.latitude is None
    assert not chat.commands


# --- the call-back number ------------------------------------------------------------------------------

def phone_step_chat(config) -> Chat:
    chat = Chat(config, phone_known=False)
    chat.send(text("halo"))
    chat.send(press("type:medical"))
    out = chat.send(ev(Kind.LOCATION, location=INSIDE))
    assert chat.step == "phone" and out[-1].request_contact and out[-1].contact_label
    assert data(out[-1]) == ["skip"]
    return chat


def test_own_contact_is_stored_and_someone_elses_is_refused(config):
    chat = phone_step_chat(config)
    out = chat.send(ev(Kind.CONTACT, phone="6281234567890", own_contact=False))
    assert chat.step == "phone" and out[-1].text == t("id", "talk.phone_not_own") and out[-1].request_contact
    assert not [c for c in chat.commands if isinstance(c, SetPhone)]
    chat.send(ev(Kind.CONTACT, phone="+6281234567890", own_contact=True))
    assert SetPhone("+6281234567890") in chat.commands and chat.step == "confirm"


@pytest.mark.parametrize(("typed", "stored"), [("0812 3456 7890", "+6281234567890"),
                                                ("+62 812-3456-7890", "+6281234567890"),
                                                ("6281234567890", "+6281234567890")])
def test_a_typed_indonesian_number_is_stored(config, typed, stored):
    chat = phone_step_chat(config)
    chat.send(text(typed))
    assert SetPhone(stored) in chat.commands and chat.step == "confirm"


def test_a_bad_number_is_refused_and_skip_is_remembered(config):
    chat = phone_step_chat(config)
    out = chat.send(text("12345"))
    assert out[-1].text == t("id", "talk.phone_invalid") and data(out[-1]) == ["skip"] and chat.step == "phone"
    chat.send(press("skip"))
    assert chat.step == "confirm" and chat.state.phone_asked
    chat.send(press("confirm:send"))
    chat.send(text("halo"))
    chat.send(press("type:medical"))
    chat.send(ev(Kind.LOCATION, location=INSIDE))
    assert chat.step == "confirm"  # asked once per chat


# --- language ----------------------------------------------------------------------------------------

def test_the_web_pages_language_applies_to_the_conversation(config):
    web = Address("web", "w1")
    chat = Chat(config)
    chat.send(text("halo", chat=web, lang="id"))
    chat.send(press("type:fire", chat=web, lang="id"))
    out = chat.send(ev(Kind.STICKER, chat=web, lang="en"))  # the page switched to English mid-report
    assert chat.state.lang == "en" and SetLanguage("en") in chat.commands
    assert out[-1].text.endswith(t("en", "talk.hint_location"))
    chat.send(text("bâdâ orèng sakè' è dinna'", chat=web, lang="en"))  # a typed place, in Madurese
    assert chat.state.lang == "en"  # words at a later step do not switch
    telegram = Chat(config)
    telegram.send(text("halo", lang="id"))
    telegram.send(ev(Kind.STICKER, lang="en"))  # Telegram keeps /bahasa
    assert telegram.state.lang == "id"


def test_madurese_by_words_is_not_undone_by_the_unchanged_web_page(config):
    web = Address("web", "w2")
    chat = Chat(config)
    chat.send(text("bapak kaulâ pèngsan, ta' sadar", chat=web, lang="id"))
    assert chat.state.lang == "mad"
    chat.send(press("guess:yes", chat=web, lang="id"))
    assert chat.state.lang == "mad" and chat.step == "location"


def test_the_language_button_opens_the_menu_of_every_catalog(config):
    chat = Chat(config)
    chat.send(text("halo"))
    out = chat.send(press("lang:menu"))
    assert data(out[-1]) == [f"lang:{code}" for code in LANGUAGES] and "lang:mad" in data(out[-1])
    out = chat.send(press("lang:mad"))
    assert SetLanguage("mad") in chat.commands and out[-1].text == t("mad", "report.ask_type")


def test_short_titles_reach_the_type_menu(config):
    types = [it.model_copy(update={"short": {"id": "Kebakaran", "en": "Fire"}}) if it.code == "fire" else it
             for it in config.incident_types]
    chat = Chat(config.model_copy(update={"incident_types": types}))
    out = chat.send(text("halo"))
    assert out[-1].choices[0].short == "Kebakaran"


def test_a_long_type_menu_comes_in_two_pages_that_fit_a_whatsapp_list(config):
    assert len(config.incident_types) > 10  # the example deployment: more than WhatsApp's 10 list rows
    chat = Chat(config)
    first = chat.send(text("halo"))[-1]
    assert len(first.choices) <= 10 and first.choices[-2].data == "type:more"
    assert [c.data for c in first.choices[:3]] == ["type:fire", "type:traffic_accident", "type:medical"]
    second = chat.send(press("type:more"))[-1]
    assert len(second.choices) <= 10 and "type:other" in [c.data for c in second.choices]
    assert not {c.data for c in first.choices} & {c.data for c in second.choices} - {"lang:menu"}
    assert chat.step == Step.TYPE
    chat.send(press("type:drought_water"))  # a type of the second page
    assert chat.state.draft.incident_type == "drought_water"
    small = Chat(config.model_copy(update={"incident_types": config.incident_types[:9]}))
    assert "type:more" not in [c.data for c in small.send(text("halo"))[-1].choices]  # nine fit on one page


# --- earlier behaviour kept ---------------------------------------------------------------------------

def test_location_and_photo_sent_first_are_kept(config):
    chat = Chat(config)
    chat.send(ev(Kind.LOCATION, location=INSIDE))
    assert chat.state.open_draft.latitude == INSIDE.latitude and chat.step == "type"
    chat.send(ev(Kind.PHOTO, media=MediaRef("f1", 10, media_id=3), text="air setinggi pinggang"))
    assert chat.step == "type" and chat.state.open_draft.description == "air setinggi pinggang"
    chat.send(press("type:flood"))
    assert chat.step == "confirm"  # photo and location were already given


@pytest.mark.parametrize("kind", [Kind.VOICE, Kind.STICKER, Kind.VIDEO])
def test_voice_sticker_video_get_a_hint_where_a_photo_was_asked(config, kind):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:flood"))
    out = chat.send(ev(kind))
    assert t("id", f"hint.{kind.value}") in out[0].text and data(out[0]) == ["skip"]
    assert chat.step == "photo"


@pytest.mark.parametrize("problem", ["too_large", "not_image", "unreadable"])
def test_bad_photo_is_refused_with_a_reason_and_the_report_goes_on(config, problem):
    chat = Chat(config)
    chat.send(text("halo"))
    chat.send(press("type:flood"))
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
    assert data(out[0]) == [f"lang:{code}" for code in LANGUAGES]
    out = chat.send(press("lang:en"))
    assert texts(out) == t("en", "language.set") and SetLanguage("en") in chat.commands
    assert "/status" in texts(chat.send(cmd("bantuan")))
    status = texts(chat.send(cmd("status")))
    assert "SMP-11-11-11" in status and t("en", "state.submitted") in status


def test_language_follows_telegram_language_code(config):
    chat = Chat(config)
    out = chat.send(text("hello", lang="en-GB"))
    assert out[0].text == t("en", "report.greeting", region=config.region.name, number="112")


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
    assert out[0].text == t("id", "report.reminder") and out[-1].request_location
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
    fresh.send(text("kebakaran"))
    assert fresh.step == "location"  # below the limit the report starts (the type's name picked it)


def test_a_state_stored_by_an_earlier_version_loads_and_the_report_goes_on(config):
    chat = Chat(config)
    chat.state = ConversationState.from_json({"lang": "en", "step": "photo", "touch": 2, "someday": True,
                                              "draft": {"started_at": NOW.isoformat(), "type": "flood"}})
    chat.send(ev(Kind.PHOTO, media=MediaRef("f1", 1000, media_id=7)))
    assert chat.step == "location" and chat.state.open_draft.photo_media_id == 7 and chat.state.touch == 3
    assert ConversationState.from_json(chat.state.to_json()) == chat.state
    old = {"lang": "id", "step": "description", "touch": 1, "reminded": False, "comment_for": None,
           "draft": {"started_at": NOW.isoformat(), "type": "flood", "photo_media_id": None, "photo_skipped": True,
                     "latitude": None, "longitude": None, "address": "Pasar Anom", "description": None,
                     "description_done": False}}
    assert ConversationState.from_json(old).to_json() == old  # the 0008 shape stays canonical
    chat.state = ConversationState.from_json(old)
    chat.send(text("air masuk rumah"))
    assert chat.step == "confirm" and chat.state.open_draft.description == "air masuk rumah"
    for unusable in ({"step": "witness", "draft": {"started_at": NOW.isoformat()}}, {"step": "type"}, None, []):
        assert ConversationState.from_json(unusable).step == Step.IDLE

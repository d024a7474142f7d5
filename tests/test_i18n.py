"""Every user-facing string exists in Indonesian and English, every citizen-facing one in Madurese too, with the
same placeholders; the languages come from the catalogs and a first message's words can name its language."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import get_args

import pytest

from core import channel_health, figures
from core.cases import CaseState
from core.casework import TaskState
from core.config import LocalizedName
from core.figures import STAGES
from core.i18n import (
    CITIZEN_KEYS,
    LANGUAGE_NAMES,
    LANGUAGES,
    LOCALE_DIR,
    catalog,
    citizen_facing,
    guess_language,
    pick_language,
    placeholders,
    t,
)
from workflows.actions import REFUSE_REASONS, REJECT_REASONS

STAFF_LANGUAGES = ("id", "en")  # complete catalogs; a citizens' language (Madurese) covers what citizens read

ROOT = Path(__file__).resolve().parent.parent
KEY = re.compile(r"""\bt\(\s*[\w.\[\]"']+,\s*f?["']([a-z_]+\.[a-z_{}.]+)["']""")
CODE = ("workflows/*.py", "bots/**/*.py", "core/*.py", "bots/web/templates/*.html")
# modules only citizens read: every key they name must be citizen-facing (so Madurese has it)
CITIZEN_CODE = ("workflows/citizen_*.py", "workflows/rating.py", "bots/web/templates/chat*.html")


def used_keys(globs: tuple[str, ...] = CODE) -> set[str]:
    """Keys named literally in the code; f-string keys are expanded from their known families."""
    keys = set()
    for path in [p for pattern in globs for p in ROOT.glob(pattern)]:
        keys |= set(KEY.findall(path.read_text()))
    families = {
        "state.{": [f"state.{s.value}" for s in CaseState],
        "batch.state.{": [f"batch.state.{s.value}" for s in CaseState],
        "photo.{": [f"photo.{r}" for r in ("too_large", "not_image", "unsupported_format", "unreadable",
                                           "too_small", "too_many_pixels")],
        "hint.{": [f"hint.{k}" for k in ("voice", "sticker", "video", "contact", "document", "other")],
        "command.{": [f"command.{c}" for c in ("start", "status", "batal", "bahasa", "bantuan")],
        "button.op_{": [f"button.op_{a}" for a in ("verify", "pick", "reject", "duplicate", "call", "close")],
        "button.tk_{": [f"button.tk_{a}" for a in ("acc", "ref", "arr", "sup", "done", "send")],
        "refuse.{": [f"refuse.{r}" for r in REFUSE_REASONS],
        "reject.{": [f"reject.{r}" for r in REJECT_REASONS],
        "task.{": [f"task.{s.value}" for s in TaskState],
        "timeline.{": [f"timeline.{k}" for k in ("accepted", "on_scene", "done", "refused")],
        "stage.{": [f"stage.{name}" for name, _, _ in STAGES],
        "web.period_": [f"web.period_{p}" for p in ("day", "week", "month")],
        "figures.title_{": [f"figures.title_{p}" for p in ("day", "week", "month")],
        "figures.channel.{": [f"figures.channel.{c}" for c in (*figures.CHANNELS, figures.OTHER)],
        "figures.class.{": [f"figures.class.{c}" for c in (*figures.CLASSES, figures.UNCLASSED)],
        "figures.standard.{": ["figures.standard.answer", "figures.standard.dispatch"],
        "channels.state_": [f"channels.state_{s}" for s in get_args(channel_health.State) if s != "ok"],
        "channels.reason_": [f"channels.reason_{r}" for r in get_args(channel_health.Reason)],
        "channels.todo_auth_revoked_": [f"channels.todo_auth_revoked_{c}" for c in channel_health.CHAT_CHANNELS],
        "channels.todo_": [f"channels.todo_{r}" for r in get_args(channel_health.Reason) if r != "auth_revoked"],
    }
    expanded = set()
    for key in keys:
        family = next((f for f in families if key.startswith(f)), None)
        expanded |= set(families[family]) if family else {key}
    return expanded


def test_catalogs_have_the_same_keys_and_no_empty_strings():
    ids, ens = catalog("id"), catalog("en")
    assert set(ids) == set(ens)
    assert all(v.strip() for lang in LANGUAGES for v in catalog(lang).values())


def test_placeholders_match_between_languages():
    for lang in LANGUAGES[1:]:
        theirs = catalog(lang)
        mismatched = [k for k in theirs if placeholders(theirs[k]) != placeholders(catalog("id").get(k, ""))]
        assert mismatched == [], lang


def test_every_key_used_in_code_is_translated():
    keys = used_keys()
    assert len(keys) > 50
    for lang in STAFF_LANGUAGES:
        assert sorted(keys - set(catalog(lang))) == [], lang


def test_madurese_has_every_citizen_facing_string_and_nothing_indonesian_lacks():
    ids, mad = catalog("id"), catalog("mad")
    citizen = {k for k in ids if citizen_facing(k)}
    assert len(citizen) > 100 and citizen >= CITIZEN_KEYS
    assert sorted(citizen - set(mad)) == []
    assert sorted(set(mad) - set(ids)) == []  # no key Indonesian (the fallback) lacks
    assert sum(mad[k] != ids[k] for k in citizen) > 0.8 * len(citizen)  # translated, not copied


def test_the_citizen_facing_set_holds_what_citizens_read_and_not_the_staffs_strings():
    assert all(citizen_facing(k) for k in ("report.greeting", "report.summary", "notice.accepted",
                                            "notice.rejected_hoax", "state.submitted", "web.chat_send",
                                            "care.safety_head", "rating.ask", "button.skip"))
    assert not any(citizen_facing(k) for k in ("card.head", "desk.rejected", "task.head", "crew.accepted",
                                                "button.op_verify", "rating.low_alert_head", "figures.total",
                                                "web.signin", "intake.title", "casepage.reject"))
    citizen_code = used_keys(CITIZEN_CODE)
    assert len(citizen_code) > 20
    assert sorted(k for k in citizen_code if not citizen_facing(k)) == []


def test_languages_come_from_the_catalogs_with_indonesian_first():
    on_disk = {d.name for d in LOCALE_DIR.iterdir() if list((d / "LC_MESSAGES").glob("*.po"))}
    assert LANGUAGES[0] == "id" and set(LANGUAGES) == on_disk and {"en", "mad"} <= on_disk
    assert {code: catalog(code)["language.name"] for code in LANGUAGES} == LANGUAGE_NAMES
    assert LANGUAGE_NAMES["mad"] == "Basa Madhura" and LANGUAGE_NAMES["id"] == "🇮🇩 Bahasa Indonesia"


def test_translation_and_language_choice():
    assert t("en", "button.skip") == "⏭ Skip" and t("id", "button.skip") == "⏭ Lewati"
    assert t("mad", "button.send") == "✅ Kèrèm" and t("mad", "card.normal") == t("id", "card.normal")  # falls back
    assert t("en", "report.submitted", ticket="SMP-01-02-03").count("SMP-01-02-03") == 1
    assert pick_language("en-US", "id") == "en" and pick_language("de", "id") == "id"
    assert pick_language(None, "en") == "en" and pick_language("mad", "id") == "mad"
    name = LocalizedName(id="Kebakaran", en="Fire", mad="Kobhâran")
    assert [name.get(code) for code in ("id", "en-GB", "mad", "jv")] == ["Kebakaran", "Fire", "Kobhâran", "Kebakaran"]
    assert LocalizedName(id="Banjir", en="Flood").get("mad") == "Banjir"


def test_indonesian_strings_carry_no_english():
    english = re.compile(r"\b(ETA|SLA|min|OK|ok|Ok)\b")
    assert sorted(k for k, v in catalog("id").items() if english.search(re.sub(r"\{\w+\}", "", v))) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("tolong, bâdâ kobhâr è roma sengko'", "mad"),
    ("emma' sengko' pengsan ta' agerrak", "mad"),
    ("bede oreng tabrâghân e jalan raya, sake parah", "mad"),
    ("èngghi, kaulâ ngantos petugas è dinna'", "mad"),
    ("ibu saya pingsan tidak bangun", "id"),
    ("tolong ada kebakaran di rumah tetangga", "id"),
    ("Kecelakaan motor dekat pasar Anom", "id"),
    ("my mother fainted and is not waking up", "en"),
    ("there is a fire near our house, please help", "en"),
    ("tolong ada kebakaran di roma sengko'", None),  # as much Indonesian as Madurese
    ("api", None),
    ("tolong", None),  # Madurese and Indonesian alike
    ("ya", None),
    ("", None),
])
def test_first_words_name_their_language_only_when_they_clearly_do(text, expected):
    assert guess_language(text) == expected


def test_the_native_speakers_review_list_is_current():
    spec = importlib.util.spec_from_file_location("madurese_review", ROOT / "scripts" / "madurese-review.py")
    assert spec is not None and spec.loader is not None
    review = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(review)
    text = review.render()
    assert all(f"| `{key}` |" in text for key in catalog("mad"))
    assert (ROOT / "docs" / "madurese-review.md").read_text(encoding="utf-8") == text, \
        "docs/madurese-review.md is stale: run scripts/madurese-review.py"

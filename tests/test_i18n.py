"""Every user-facing string exists in Indonesian and English with the same placeholders."""
from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from core import channel_health, figures
from core.cases import CaseState
from core.casework import TaskState
from core.figures import STAGES
from core.i18n import LANGUAGES, catalog, pick_language, placeholders, t
from workflows.actions import REFUSE_REASONS, REJECT_REASONS

ROOT = Path(__file__).resolve().parent.parent
KEY = re.compile(r"""\bt\(\s*[\w.\[\]"']+,\s*f?["']([a-z_]+\.[a-z_{}.]+)["']""")


def used_keys() -> set[str]:
    """Keys named literally in the code; f-string keys are expanded from their known families."""
    keys = set()
    for path in [*ROOT.glob("workflows/*.py"), *ROOT.glob("bots/**/*.py"), *ROOT.glob("core/*.py"),
                 *ROOT.glob("bots/web/templates/*.html")]:
        keys |= set(KEY.findall(path.read_text()))
    families = {
        "state.{": [f"state.{s.value}" for s in CaseState],
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
    assert all(v.strip() for v in [*ids.values(), *ens.values()])


def test_placeholders_match_between_languages():
    mismatched = [k for k in catalog("id") if placeholders(catalog("id")[k]) != placeholders(catalog("en")[k])]
    assert mismatched == []


def test_every_key_used_in_code_is_translated():
    keys = used_keys()
    assert len(keys) > 50
    for lang in LANGUAGES:
        assert sorted(keys - set(catalog(lang))) == [], lang


def test_translation_and_language_choice():
    assert t("en", "button.skip") == "⏭ Skip" and t("id", "button.skip") == "⏭ Lewati"
    assert t("en", "report.submitted", ticket="SMP-01-02-03").count("SMP-01-02-03") == 1
    assert pick_language("en-US", "id") == "en" and pick_language("de", "id") == "id"
    assert pick_language(None, "en") == "en"

"""Every user-facing string, from gettext catalogs: Indonesian first, then every language that has a catalog."""
from __future__ import annotations

import re
import string
import unicodedata
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
FALLBACK = "id"  # the source language: every key exists in it
LONG_MARKER = 6  # a marker word this long (without marks) is distinctive enough on its own


def _languages() -> tuple[str, ...]:
    """The directories under locale/ that hold catalogs; Indonesian first, the rest in name order."""
    found = sorted(d.name for d in LOCALE_DIR.iterdir() if any((d / "LC_MESSAGES").glob("*.po")))
    return (FALLBACK, *[code for code in found if code != FALLBACK])


@cache
def catalog(lang: str) -> dict[str, str]:
    """Read one language's .po files once (messages.po and one per feature); keys are ids like `report.greeting`."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with open(path, "rb") as f:
            cat = read_po(f, locale=lang if lang in ("id", "en") else None)
        for m in cat:
            if isinstance(m.id, str) and isinstance(m.string, str) and m.id and m.string:
                if m.id in merged:
                    raise ValueError(f"{path.name}: {m.id} is already in another catalog")
                merged[m.id] = m.string
    return merged


# What a citizen can read (the conversation, notices, the web chat); a citizens' language such as Madurese
# must translate these, while operators' and crews' strings may fall back to Indonesian.
CITIZEN_PREFIXES = ("report.", "photo.", "hint.", "status.", "state.", "language.", "command.", "summary.",
                    "notice.", "care.", "flood.", "reject.", "web.chat_", "webchat.", "talk.", "place.")
CITIZEN_KEYS = frozenset({"help.citizen", "button.skip", "button.send", "button.cancel", "button.share_location",
                          "draft.citizen_made", "drill.marker", "web.footer", "intake.follow_up_first", "rating.ask",
                          "rating.thanks", "rating.done", "rating.already", "rating.not_open", "surge.citizen"})


def citizen_facing(key: str) -> bool:
    """True for a key a citizen reads (see CITIZEN_PREFIXES)."""
    return key in CITIZEN_KEYS or key.startswith(CITIZEN_PREFIXES)


LANGUAGES = _languages()  # each has a catalog under locale/; the first is the fallback
LANGUAGE_NAMES = {code: catalog(code).get("language.name", code) for code in LANGUAGES}  # as the menu offers them


def pick_language(preferred: str | None, default: str) -> str:
    """Map a platform language code like `en-GB` (or `mad`) to one we speak, else the deployment default."""
    if preferred:
        short = preferred.replace("_", "-").split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default


def t(lang: str, key: str, **params: object) -> str:
    """Translate `key`; a missing translation falls back to Indonesian, then to the key itself."""
    text = catalog(lang if lang in LANGUAGES else FALLBACK).get(key) or catalog(FALLBACK).get(key) or key
    return text.format(**params) if params else text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _plain(text: str) -> str:
    """Lower case without diacritics or apostrophes: people type "sake" for "sakè'"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"['’‘`ʼ]", "", bare)


def _words(text: str) -> str:
    """The text as plain words between single spaces, padded so a marker matches whole words only."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", _plain(text))) + " "


@cache
def _markers() -> dict[str, frozenset[str]]:
    """Each language's marker words (`language.words`), minus those another language lists too."""
    listed = {code: frozenset(w for w in (_words(m).strip() for m in catalog(code).get("language.words", "")
                                          .split(",")) if w)
              for code in LANGUAGES}
    return {code: frozenset(w for w in words if not any(w in listed[o] for o in listed if o != code))
            for code, words in listed.items()}


def guess_language(text: str) -> str | None:
    """The language whose marker words clearly dominate `text` (two words, or one long one), else None."""
    words = _words(text[:2000])
    scores = {code: sum(2 if len(m) >= LONG_MARKER else 1 for m in markers if f" {m} " in words)
              for code, markers in _markers().items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0)
    if top >= 2 and (runner_up == 0 or top >= runner_up + 2):
        return best
    return None

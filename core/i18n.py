"""Every user-facing string, from gettext catalogs: Indonesian first, English second."""
from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("id", "en")  # each has a catalog under locale/; the first is the fallback
LANGUAGE_NAMES = {"id": "🇮🇩 Bahasa Indonesia", "en": "🇬🇧 English"}  # as the language menu offers them
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def catalog(lang: str) -> dict[str, str]:
    """Read one language's .po files once (messages.po and one per feature); keys are ids like `report.greeting`."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with open(path, "rb") as f:
            cat = read_po(f, locale=lang)
        for m in cat:
            if isinstance(m.id, str) and isinstance(m.string, str) and m.id and m.string:
                if m.id in merged:
                    raise ValueError(f"{path.name}: {m.id} is already in another catalog")
                merged[m.id] = m.string
    return merged


def pick_language(preferred: str | None, default: str) -> str:
    """Map a platform language code like `en-GB` to one we speak, else the deployment default."""
    if preferred:
        short = preferred.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default


def t(lang: str, key: str, **params: object) -> str:
    """Translate `key`; a missing translation falls back to Indonesian, then to the key itself."""
    text = catalog(lang if lang in LANGUAGES else "id").get(key) or catalog("id").get(key) or key
    return text.format(**params) if params else text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}

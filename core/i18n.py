"""Every user-facing string, from gettext catalogs: Indonesian first, English second."""
from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("id", "en")
LOCALE_DIR = Path(__file__).parent / "locale"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """Read one language's .po file once; keys are message ids like `report.greeting`."""
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        cat = read_po(f, locale=lang)
    return {m.id: m.string for m in cat if m.id and m.string}


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

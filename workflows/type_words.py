"""Recognise the incident type in a citizen's own words ("ibu saya pingsan" → medical), without guessing.

Pure and small on purpose: words are lowercased, stripped of marks and punctuation ("sakè'" = "sake"), reduced
to a stem (ter-/ke-/di-/ber-/me-… and -an/-kan/-nya/-i, Madurese è-/ka-) and forgiven one typo when they have
five letters or more. A type scores the number of typed words its keywords cover; the best type wins only when
no other type scores as much. Keywords come from the deployment file (`incident_types[].keywords`).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from core.config import IncidentType

PREFIXES = ("meng", "peng", "mem", "men", "pem", "pen", "ber", "ter", "per", "me", "pe", "ke", "di", "ka", "e", "se")
SUFFIXES = ("kan", "nya", "an", "i")
MIN_STEM = 4  # a stem shorter than this is not trusted (kept as typed)
TYPO_MIN = 5  # words this long may carry one typo


def plain(text: str) -> str:
    """Lower case without diacritics or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"['’‘`ʼ]", "", bare)


def words(text: str) -> list[str]:
    """The text's words: letters and digits only."""
    return re.findall(r"[a-z0-9]+", plain(text))


@lru_cache(maxsize=4096)
def stem(word: str) -> str:
    """A rough stem: one prefix and one suffix off, when enough of the word is left."""
    base = word
    for p in PREFIXES:
        if base.startswith(p) and len(base) - len(p) >= MIN_STEM:
            base = base[len(p):]
            break
    for s in SUFFIXES:
        if base.endswith(s) and len(base) - len(s) >= MIN_STEM:
            base = base[: -len(s)]
            break
    return base


def near(a: str, b: str) -> bool:
    """Edit distance at most one (a typo), for words long enough to carry one."""
    if a == b:
        return True
    if min(len(a), len(b)) < TYPO_MIN or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + 1:] == b[i + 1:] if len(a) == len(b) else a[i:] == b[i + 1:]


def same_word(typed: str, keyword: str) -> bool:
    """The typed word is the keyword, shares its stem, or is one typo away from it."""
    return typed == keyword or stem(typed) == stem(keyword) or near(typed, keyword)


def found(typed: Sequence[str], phrase: Sequence[str]) -> set[int]:
    """The positions of the typed words where the phrase occurs in a row."""
    n, at = len(phrase), set[int]()
    for i in range(len(typed) - n + 1 if n else 0):
        if all(same_word(typed[i + k], phrase[k]) for k in range(n)):
            at.update(range(i, i + n))
    return at


def score(typed: Sequence[str], keywords: Iterable[str]) -> int:
    """How many of the typed words the type's keywords cover (two spellings of one word count once)."""
    covered: set[int] = set()
    for phrase in {tuple(words(k)) for k in keywords}:
        covered |= found(typed, phrase)
    return len(covered)


def recognise(text: str, types: Sequence[IncidentType]) -> str | None:
    """The code of the one type the text names best; None when none does or two tie."""
    typed = words(text[:2000])[:200]
    if not typed:
        return None
    scores = sorted(((score(typed, [*it.keywords.all(), it.name.id, it.name.en]), it.code) for it in types),
                    reverse=True)
    best = scores[0]
    if best[0] == 0 or (len(scores) > 1 and scores[1][0] == best[0]):
        return None
    return best[1]

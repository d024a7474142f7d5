"""Which passwords are refused: too short, too common, or a trivial pattern an attacker tries first.

The common list (`core/data/common-passwords.txt.gz`, 19,640 entries, lowercased) is the one Django ships
(`django/contrib/auth/common-passwords.txt.gz`, BSD-3-Clause), created by Royce Williams from breach
corpora; a few words every Indonesian office guesses first are added here. A password is refused when it
is on the list, or is a listed word with only digits and symbols around it ("password2026!").
"""
from __future__ import annotations

import gzip
import re
from functools import lru_cache
from pathlib import Path

MIN_LENGTH, MAX_LENGTH = 12, 128  # the maximum keeps one sign-in from costing Argon2 megabytes of input
MIN_DISTINCT = 5  # "1212121212121" or "aaaaaaaaaaab" are not passwords
LIST = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
LOCAL = ("indonesia", "bismillah", "sayang", "sayangku", "sayangkamu", "rahasia", "katasandi", "kata sandi",
         "merdeka", "garuda", "pancasila", "sumenep", "madura", "siaga", "siaga112", "darurat", "dinas",
         "operator", "pemadam", "damkar", "admin", "administrator", "password", "passw0rd", "p@ssw0rd")
SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm", "1234567890", "01234567890",
             "1qaz2wsx3edc4rfv5tgb6yhn7ujm", "qazwsxedcrfvtgbyhnujmikolp")
_AROUND = re.compile(r"^[\d\W_]*(.*?)[\d\W_]*$")


@lru_cache(maxsize=1)
def common() -> frozenset[str]:
    with gzip.open(LIST, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip()) | frozenset(LOCAL)


def problem(password: str, username: str = "") -> str | None:
    """None for an acceptable password, else why not: `short`, `long`, `common`, `pattern` or `username`."""
    if len(password) < MIN_LENGTH:
        return "short"
    if len(password) > MAX_LENGTH:
        return "long"
    lowered = password.lower()
    around = _AROUND.match(lowered)  # no match only across a line break
    core = around.group(1) if around else lowered
    if lowered in common() or (len(core) >= 4 and core in common()):
        return "common"
    if len(set(lowered)) < MIN_DISTINCT or lowered.isdigit() or _repeats(lowered) or _in_sequence(lowered):
        return "pattern"
    name = username.strip().lower()
    if len(name) >= 3 and len(lowered.replace(name, "")) < MIN_LENGTH:
        return "username"  # the username does not count toward the length
    return None


def _repeats(text: str) -> bool:
    """A short unit written again and again ("qwertyqwerty", "abcabcabcabc")."""
    return any(len(text) % size == 0 and text == text[:size] * (len(text) // size)
               for size in range(1, len(text) // 2 + 1))


def _in_sequence(text: str) -> bool:
    """A run along the alphabet, the keyboard or the digits, either way ("abcdefghijkl", "0987654321…")."""
    return any(text in seq or text in seq[::-1] for seq in SEQUENCES)


REASONS = {  # worded for the command line (the dashboard uses the catalog)
    "short": f"password: at least {MIN_LENGTH} characters",
    "long": f"password: at most {MAX_LENGTH} characters",
    "common": "password: too common (it is on a list of passwords attackers try first)",
    "pattern": "password: too simple (digits only, repeats or a keyboard run)",
    "username": "password: must not be built from the username",
}

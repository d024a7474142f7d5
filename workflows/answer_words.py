"""Typed answers people give instead of pressing a button: "ya", "iya", "ok", "batal", "lewati"…

Indonesian, Madurese (marked for a native speaker's review in the README) and English; matched on the whole
message after lowercasing and dropping marks and punctuation, so "Ya!" and "iyâ" count as yes.
"""
from __future__ import annotations

from core.messages import Inbound, Kind
from workflows.type_words import words

YES = frozenset({"ya", "iya", "iyaa", "y", "yes", "yess", "ok", "oke", "okay", "okey", "kirim", "send", "benar",
                 "betul", "bener", "setuju", "lanjut", "sudah", "iye", "iya kirim", "ya kirim", "kirim saja",
                 "enggi", "engghi", "iyah", "yup", "yep", "sure", "correct", "right"})
NO = frozenset({"tidak", "bukan", "no", "nope", "gak", "ga", "nggak", "enggak", "tdk", "salah", "lain", "bukan itu",
                "jenis lain", "yang lain", "other", "something else", "bhunten", "bunten", "banne", "enja", "enjek"})
CANCEL = frozenset({"batal", "batalkan", "cancel", "stop", "gak jadi", "ga jadi", "nggak jadi", "tidak jadi",
                    "ta jadi", "batal saja"})
SKIP = frozenset({"lewati", "lewat", "skip", "tidak ada", "gak ada", "ga ada", "nggak ada", "tak ada", "ta ada",
                  "ta bada", "none", "no photo", "nanti", "nanti saja", "tidak usah", "gak usah", "ga usah",
                  "lewati saja", "tidak punya"})
GREETINGS = frozenset({"halo", "hallo", "hai", "hi", "hello", "helo", "p", "ping", "tes", "test", "permisi", "pagi",
                       "siang", "sore", "malam", "selamat pagi", "selamat siang", "selamat sore", "selamat malam",
                       "assalamualaikum", "assalamu alaikum", "asalamualaikum", "salam", "min", "admin", "halo min",
                       "tolong", "help", "sos", "darurat", "bantu", "tolong min", "lapor", "mau lapor", "start",
                       "mulai", "menu"})


def typed(event: Inbound) -> str:
    """The message as plain words between single spaces ("" for anything but text)."""
    return " ".join(words(event.text[:200])) if event.kind == Kind.TEXT else ""


def said(event: Inbound, answers: frozenset[str]) -> bool:
    """Whether the whole message is one of these answers."""
    return typed(event) in answers


def only_greeting(event: Inbound) -> bool:
    """A hello, not a description worth keeping for the operators."""
    text = typed(event)
    return not text or text in GREETINGS

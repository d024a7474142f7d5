"""Every log line of the test session, through the product's logging, in one file that is checked for leaks.

`SessionLog` routes stdlib logging (the product's and its libraries', these at DEBUG) and structlog through
`bots.logging.configure("DEBUG", file)` into tests/artifacts/session.log; conftest installs it when pytest
starts, puts it back after any test that reconfigured logging, and at the end of the session runs
`find_leaks` over the file: a token or secret, a phone number, a media URL, a bearer token or a photo's GPS
tags in any line fails the run.
"""
from __future__ import annotations

import inspect
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import structlog

from bots.logging import configure

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT / "tests" / "artifacts" / "session.log"
# Libraries that log URLs and request/response dumps. The product's configure() quiets most of them to WARNING;
# in the tests all speak at DEBUG, so those lines have to pass the scrubber too.
LIBRARIES = ("httpx", "httpcore", "uvicorn", "asyncpg", "telegram", "pywa", "pywa_async")

PHONE_GUARD = r"(?<![\w.+-])"  # not inside a word, a hex string, a decimal fraction, an id like -100…
PATTERNS: list[tuple[str, re.Pattern]] = [
    ("bot token", re.compile(r"(?<![A-Za-z])bot\d+:[A-Za-z0-9_-]+")),  # in a Bot API URL, however short
    ("bot token", re.compile(r"(?<![\w:])\d{5,}:[A-Za-z0-9_-]{20,}")),
    ("phone number", re.compile(PHONE_GUARD + r"\+?62\d{8,13}(?!\d)")),
    ("phone number", re.compile(PHONE_GUARD + r"08\d{8,12}(?!\d)")),
    ("phone number", re.compile(PHONE_GUARD + r"(?:\+62[ -]?|0)8\d{1,3}[ .-]\d{3,4}[ .-]\d{3,5}(?![\d-])")),
    ("media URL", re.compile(r"/file/bot")),  # Telegram's file download URLs carry the token
    ("media URL", re.compile(r"/media-download/[A-Za-z0-9_-]+")),  # the fake Graph API's media URLs
    ("media URL", re.compile(r"lookaside\.fbsbx\.com")),  # the real Graph API's media URLs
    ("bearer token", re.compile(r"(?i)\bbearer\s+(?!<token>)(?![a-z]+\b)[A-Za-z0-9._~+/=-]{6,}")),
    ("photo location", re.compile(r"\bGPS(?:Info|Latitude|Longitude)")),  # EXIF tags dumped by PIL at DEBUG
]
QUOTED_PHONE = re.compile(r"""["'](\+?62\d{8,13}|08\d{8,12}|0\d{3}-\d{4}-\d{4})["']""")
QUOTED_BOT_TOKEN = re.compile(r"""["'](\d{5,}:[A-Za-z0-9_-]{8,})["']""")


@dataclass(frozen=True)
class Leak:
    line_number: int
    findings: tuple[tuple[str, str], ...]  # (kind, what matched)
    line: str

    def __str__(self) -> str:
        line = self.line if len(self.line) <= 400 else self.line[:400] + "…"
        found = ", ".join(f"{kind} {text!r}" for kind, text in self.findings)
        return f"line {self.line_number}: {found}\n    {line}"


def find_leaks(lines, literals=()) -> list[Leak]:
    """Lines that carry a token, a phone number, a media URL, a bearer token or GPS tags by shape, or any of `literals`
    (the exact secrets and numbers the tests use); one Leak per line with everything found in it."""
    literals = sorted({s for s in literals if s}, key=len, reverse=True)
    numbers = {s: re.compile(r"(?<![0-9A-Fa-f.])" + re.escape(s) + r"(?![0-9A-Fa-f])")
               for s in literals if re.fullmatch(r"\+?[\d -]+", s)}  # a number, not inside a hex digest
    leaks = []
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        findings = [("secret", secret) for secret in literals
                    if secret in line and (secret not in numbers or numbers[secret].search(line))]
        findings += [(kind, m.group(0)) for kind, pattern in PATTERNS for m in pattern.finditer(line)]
        if findings:
            leaks.append(Leak(number, tuple(dict.fromkeys(findings)), line))
    return leaks


def _default(cls, name: str) -> str:
    return inspect.signature(cls.__init__).parameters[name].default


def known_secrets() -> set[str]:
    """Every token and secret the fakes and tests hand the gateway, and every reporter or staff number written
    in the tests' sources and the example deployment."""
    from tests.fakes.telegram_api import FakeTelegram
    from tests.fakes.whatsapp_api import FakeWhatsApp
    from tests.harness import SECRET, WA_VERIFY

    found = {SECRET, WA_VERIFY, _default(FakeTelegram, "token"), _default(FakeWhatsApp, "token"),
             _default(FakeWhatsApp, "app_secret")}
    sources = [*(ROOT / "tests").glob("*.py"), *(ROOT / "tests" / "fakes").glob("*.py"),
               ROOT / "config" / "sumenep.yaml"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        found.update(QUOTED_PHONE.findall(text))
        for token in QUOTED_BOT_TOKEN.findall(text):
            found.update((token, token.split(":", 1)[1]))
    return found


class Tee:
    """A stream writing to several: a test's own buffer and the session log."""

    def __init__(self, *streams) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


class SessionLog:
    """The product's logging configuration, at DEBUG, into one file for the whole session."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # a new file, not a truncated one: a concurrent session keeps its own
            path.unlink()
        except FileNotFoundError:
            pass
        self.stream = open(path, "w+", encoding="utf-8", errors="backslashreplace", buffering=1)  # noqa: SIM115 - the session's
        self.handler: logging.Handler | None = None
        self.factory = None
        self.reinstalls = 0

    def install(self) -> None:
        root = logging.getLogger()
        pytest_handlers = [h for h in root.handlers if type(h).__module__ == "_pytest.logging"]
        configure("DEBUG", self.stream)
        self.handler = root.handlers[0]
        root.handlers = [self.handler, *pytest_handlers]
        self.factory = structlog.get_config()["logger_factory"]
        for name in LIBRARIES:
            logging.getLogger(name).setLevel(logging.DEBUG)

    def installed(self) -> bool:
        root = logging.getLogger()
        return (self.handler in root.handlers and root.level == logging.DEBUG
                and structlog.get_config()["logger_factory"] is self.factory
                and all(logging.getLogger(name).level == logging.DEBUG for name in LIBRARIES))

    def ensure(self) -> None:
        """Put the capture back if a test reconfigured logging (test_logging, the e2e log test)."""
        if not self.installed():
            self.reinstalls += 1
            self.install()

    def lines(self) -> list[str]:
        self.stream.flush()
        self.stream.seek(0)
        text = self.stream.read()
        self.stream.seek(0, os.SEEK_END)
        return text.splitlines()

    def close(self) -> None:
        self.stream.close()

"""Structured JSON logs that carry ticket and channel, with tokens, phone numbers and file URLs scrubbed."""
from __future__ import annotations

import logging
import re
import sys

import structlog

SCRUB = [
    (re.compile(r"(?<![A-Za-z])bot\d+:[A-Za-z0-9_-]+"), "bot<token>"),  # a Bot API URL's token, however short
    # A secret by its name: setWebhook's secret_token in python-telegram-bot's DEBUG dump of the parameters,
    # hub.verify_token or access_token in a URL's query.
    (re.compile(r"(?i)(\b[\w.]*(?:token|secret)[\"']?\s*[:=]\s*[\"']?)(?!<)[^\"'&\s,;)}]+"), r"\1<secret>"),
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"), "<token>"),
    (re.compile(r"(?:\+|\b)62\d{8,13}\b"), "<phone>"),
    (re.compile(r"\b08\d{8,11}\b"), "<phone>"),
    (re.compile(r"https?://\S*/file/\S+"), "<media-url>"),
    # WhatsApp media URLs (pywa logs the Graph API's answer and the download): Meta's lookaside host, and the
    # /media-download/ path of the fake Graph API the tests run against.
    (re.compile(r"https?://[^\s\"']*(?:lookaside\.fbsbx\.com|/media-download/)[^\s\"']*"), "<media-url>"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._-]+"), r"\1<token>"),
]


def scrub(text: str) -> str:
    for pattern, replacement in SCRUB:
        text = pattern.sub(replacement, text)
    return text


def _scrub_processor(_logger, _name, event_dict: dict) -> dict:
    return {k: scrub(v) if isinstance(v, str) else v for k, v in event_dict.items()}


class ScrubFilter(logging.Filter):
    """Library loggers (httpx, uvicorn) may print URLs with the bot token: clean them too."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        return True


def configure(level: str = "INFO", stream=None) -> None:
    """JSON to stderr (or `stream`), for structlog and the standard library alike."""
    stream = stream or sys.stderr
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True), _scrub_processor,
                    structlog.processors.JSONRenderer()],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    handler.setFormatter(logging.Formatter('{"level": "%(levelname)s", "logger": "%(name)s", "event": "%(message)s"}'))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Libraries whose DEBUG lines dump requests, answers and photo metadata (pywa: message bodies and media
    # URLs; PIL: a photo's EXIF GPS position): quiet even when LOG_LEVEL=DEBUG.
    for noisy in ("httpx", "httpcore", "telegram", "aiosqlite", "asyncio", "pywa", "pywa_async", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""Structured JSON logs that carry ticket and channel, with tokens, phone numbers and file URLs scrubbed."""
from __future__ import annotations

import logging
import re
import sys

import structlog

SCRUB = [
    (re.compile(r"bot\d{5,}:[A-Za-z0-9_-]{20,}"), "bot<token>"),
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"), "<token>"),
    (re.compile(r"(?:\+|\b)62\d{8,13}\b"), "<phone>"),
    (re.compile(r"\b08\d{8,11}\b"), "<phone>"),
    (re.compile(r"https?://\S*/file/\S+"), "<media-url>"),
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
    for noisy in ("httpx", "httpcore", "telegram", "aiosqlite", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

"""The log scrubber removes bot tokens, phone numbers and file URLs even from library messages."""
import io
import json
import logging

import structlog

from bots.logging import configure, scrub

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_scrub_patterns():
    line = (f"HTTP Request: POST https://api.telegram.org/bot{TOKEN}/sendMessage; user +6281234567890 "
            f"or 081234567890; https://api.telegram.org/file/bot{TOKEN}/photos/file_1.jpg Bearer abc.def")
    clean = scrub(line)
    for leaked in (TOKEN, "6281234567890", "081234567890", "photos/file_1.jpg", "abc.def"):
        assert leaked not in clean
    assert scrub("ticket SMP-48-29-13 at 2026-11-27") == "ticket SMP-48-29-13 at 2026-11-27"


def test_library_and_structlog_lines_are_scrubbed():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    try:
        configure("DEBUG", stream)
        logging.getLogger("somelib").warning("calling %s", f"https://x/bot{TOKEN}/getMe")
        structlog.get_logger().info("sent", detail=f"to +6281234567890 via bot{TOKEN}")
    finally:
        structlog.reset_defaults()
        root.handlers, root.level = saved
    out = stream.getvalue()
    assert TOKEN not in out and "6281234567890" not in out
    assert [json.loads(line)["event"] for line in out.splitlines()] == ["calling https://x/bot<token>/getMe", "sent"]

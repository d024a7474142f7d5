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


def test_a_token_of_any_length_and_secrets_by_name_are_scrubbed():
    """The session log of the test run (tests/session_log.py) found these with the libraries at DEBUG: the
    fake Bot API's short token in httpx's and python-telegram-bot's URLs, and setWebhook's secret_token."""
    lines = ["HTTP Request: POST http://127.0.0.1:5/bot123456:TEST-TOKEN/getMe \"HTTP/1.1 200 OK\"",
             "Calling Bot API endpoint `setWebhook` with parameters `{'url': 'http://h/webhooks/telegram', "
             "'secret_token': 'test-secret_123'}`",
             "GET http://h/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wa-verify-token&hub.challenge=7"]
    clean = [scrub(line) for line in lines]
    assert clean == ["HTTP Request: POST http://127.0.0.1:5/bot<token>/getMe \"HTTP/1.1 200 OK\"",
                     "Calling Bot API endpoint `setWebhook` with parameters `{'url': 'http://h/webhooks/telegram', "
                     "'secret_token': '<secret>'}`",
                     "GET http://h/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=<secret>&hub.challenge=7"]
    assert scrub("max_tokens=5, robot12:ab, chat -1001000000001") == "max_tokens=5, robot12:ab, chat -1001000000001"


def test_whatsapp_media_urls_are_scrubbed_and_chatty_libraries_quieted():
    """pywa at DEBUG logs the Graph API's media URL and the download; PIL logs a photo's EXIF GPS position."""
    answer = ('Response code 200 from /4857706904512901: {"url":"https://lookaside.fbsbx.com/whatsapp_business/'
              'attachments/?mid=123&ext=456&hash=ATxyz","mime_type":"image/jpeg"}')
    assert scrub(answer) == 'Response code 200 from /4857706904512901: {"url":"<media-url>","mime_type":"image/jpeg"}'
    assert scrub("Streaming from http://127.0.0.1:5/media-download/Zx_9-abc") == "Streaming from <media-url>"
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure("DEBUG", io.StringIO())
        assert all(not logging.getLogger(name).isEnabledFor(logging.INFO)
                   for name in ("pywa.api", "pywa_async.api", "PIL.TiffImagePlugin", "telegram.Bot", "httpx"))
    finally:
        structlog.reset_defaults()
        root.handlers, root.level = saved

"""The checker run over the whole test session's log (conftest's pytest_sessionfinish) finds what leaks."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bots.logging import scrub
from tests.session_log import ROOT, find_leaks, known_secrets

CLEAN = [
    '{"ticket": "SMP-48-29-13", "event": "case_submitted", "timestamp": "2026-11-27T08:12:34.628123Z"}',
    '{"level": "INFO", "logger": "httpx", "event": "HTTP Request: POST http://127.0.0.1:40361/bot<token>/sendMessage '
    '"HTTP/1.1 200 OK""}',
    '{"chat_id": -1001000000001, "user_id": 3001, "outbox_id": 12, "event": "send_retry_after", "after": 1}',
    '{"event": "telegram_group_migrated", "old_chat_id": -1001000000001, "new_chat_id": -1009999999999}',
    '{"event": "photo_refused", "media": "1628123456789012", "sha256": "a6281234567890ffe08123456789", '
    '"at": 0.6281234567891}',
    '{"event": "retention_sweep", "date": "2026-08-12", "deleted": 3, "contact": "<phone>", "url": "<media-url>"}',
    '{"level": "DEBUG", "logger": "telegram.Bot", "event": "Calling Bot API endpoint `setWebhook` with parameters '
    '`{\'secret_token\': \'<secret>\'}`"}',
    'Authorization: Bearer <token>; a bearer token is required',
]


def test_clean_lines_pass():
    assert find_leaks(CLEAN, known_secrets()) == []


def test_a_planted_phone_number_token_and_media_url_are_found():
    planted = [
        '{"event": "contact", "phone": "+6281234567890"}',
        '{"event": "contact", "chat": "whatsapp:6289876543210"}',
        '{"event": "sms", "text": "to 081398765432 now"}',
        '{"event": "note", "text": "call 0812-9999-1111 or +62 813-1234-5678"}',
        '{"logger": "httpx", "event": "HTTP Request: POST http://127.0.0.1:5/bot123456:TEST-TOKEN/getMe"}',
        '{"logger": "x", "event": "token 987654321:ZZxqTcvQ7pWJxfSeofSAs0K5PALDsaw9"}',
        '{"logger": "pywa", "event": "Streaming media from http://127.0.0.1:9/media-download/Zx_9-abc"}',
        '{"logger": "telegram", "event": "GET https://api.telegram.org/file/bot<token>/photos/file_1.jpg"}',
        '{"logger": "pywa", "event": "GET https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1"}',
        '{"logger": "x", "event": "headers Authorization: Bearer EAAGm0PX4ZCpsBAKZC"}',
        '{"logger": "x", "event": "app secret test-app-secret, wa token TEST-WA-TOKEN"}',
        '{"logger": "PIL.TiffImagePlugin", "event": "save: GPSLatitude (2) - type: rational (5)"}',
    ]
    leaks = find_leaks(CLEAN + planted, known_secrets())
    assert [leak.line_number for leak in leaks] == list(range(len(CLEAN) + 1, len(CLEAN) + len(planted) + 1))
    kinds = [{kind for kind, _ in leak.findings} for leak in leaks]
    assert "phone number" in kinds[0] and "secret" in kinds[0]  # a number the tests use, and the shape
    assert kinds[1] == kinds[2] == {"phone number"}  # numbers no test uses: found by shape alone
    assert {text for _, text in leaks[3].findings} == {"0812-9999-1111", "+62 813-1234-5678"}
    assert "bot token" in kinds[4] and kinds[5] == {"bot token"}
    assert kinds[6] == kinds[7] == kinds[8] == {"media URL"}
    assert kinds[9] == {"bearer token"} and {t for _, t in leaks[10].findings} == {"test-app-secret", "TEST-WA-TOKEN"}
    assert kinds[11] == {"photo location"}
    assert "line 9:" in str(leaks[0]) and "+6281234567890" in str(leaks[0])


def test_the_scrubber_clears_what_the_checker_looks_for():
    """The product's scrubber, applied to the planted values, leaves nothing the checker would flag."""
    dirty = json.dumps({"event": "x", "a": "+6281234567890 / 081234567890 / bot123456:TEST-TOKEN",
                        "b": "https://api.telegram.org/file/bot123456:TEST-TOKEN/photos/file_1.jpg",
                        "c": "Bearer EAAGm0PX4ZCpsBAKZC", "d": "{'secret_token': 'test-secret_123'}"})
    assert find_leaks([dirty], known_secrets())
    assert find_leaks([scrub(dirty)], known_secrets()) == []


def test_planted_leak(session_log):
    """Only inside test_a_leak_in_the_session_log_fails_the_run: a line the scrubber never saw."""
    if not os.environ.get("SIAGA_PLANT_LEAK"):
        pytest.skip("plants a leak only when run by test_a_leak_in_the_session_log_fails_the_run")
    session_log.stream.write('{"event": "planted", "phone": 6281398765432}\n')


def test_a_leak_in_the_session_log_fails_the_run(tmp_path):
    """The whole mechanism: a pytest run of one selected test that passes, but its log line leaks."""
    log = tmp_path / "session.log"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_session_log.py",
         "-k", "test_planted_leak"],
        cwd=ROOT, env={**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")},
                       "SIAGA_PLANT_LEAK": "1", "SIAGA_TEST_SESSION_LOG": str(log)},
        capture_output=True, text=True, timeout=90, check=False)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout and "session log check FAILED" in run.stdout
    assert "phone number '6281398765432'" in run.stdout
    assert '"event": "planted"' in log.read_text()


def test_an_empty_capture_fails_when_end_to_end_tests_ran():
    """If end-to-end tests passed, the log must show a gateway starting, a webhook delivery and a send."""
    from tests.conftest import session_log_problems
    e2e = ["tests/test_e2e_telegram.py::test_x[embedded]"]
    assert session_log_problems([], e2e) == ([], ["web_started", "webhook delivery", "outbound call"])
    assert session_log_problems([], []) == ([], [])  # only unit tests selected: nothing is required
    seen = ['{"worker": true, "event": "web_started", "level": "info"}',
            '{"level": "INFO", "logger": "httpx", "event": "HTTP Request: POST http://127.0.0.1:5/webhooks/telegram '
            '"HTTP/1.1 200 OK""}',
            '{"level": "INFO", "logger": "httpx", "event": "HTTP Request: POST http://127.0.0.1:6/bot<token>/'
            'sendMessage "HTTP/1.1 200 OK""}']
    assert session_log_problems(seen, e2e) == ([], [])

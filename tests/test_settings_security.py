"""Secrets at start-up: SIAGA_SECRET_KEY (or, on the embedded default, a private key file made once), the
Telegram webhook secret in webhook mode, and no Telegram webhook at all in polling mode."""
from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from bots.app import build_deps, create_app, stop_deps
from bots.secret_key import key_file, load_secret_key
from core.clock import FakeClock
from core.db import utcnow
from core.models import Case, InboxItem, OutboxItem, Reporter
from core.repository import create_case
from core.settings import SettingsError, load_settings
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import SECRET, SECRET_KEY, free_port, serve_app
from tests.test_cli import run

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/siaga"


def _embedded(tmp_path, **extra):
    return load_settings(**{"database_url": f"sqlite+aiosqlite:///{tmp_path / 'var' / 'siaga.db'}",
                            "siaga_secret_key": None, "redis_url": None, **extra})


async def test_the_embedded_default_makes_its_key_once_private_and_keeps_it(tmp_path):
    settings = _embedded(tmp_path)
    path = tmp_path / "var" / "secret_key"
    assert key_file(settings.database_url) == path and not path.exists()
    first = load_secret_key(settings)
    assert path.read_text().strip().encode() == first and len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(settings) == first  # reused, not replaced
    deps = build_deps(settings)  # what `make run` starts with
    try:
        assert deps.secret_key == first
    finally:
        await stop_deps(deps)
    assert not [p.name for p in path.parent.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_processes_starting_together_agree_on_one_key(tmp_path):
    settings = _embedded(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_secret_key(settings), range(16)))
    assert len(keys) == 1 and len(keys.pop()) >= 32


def test_siaga_secret_key_wins_over_the_file(tmp_path):
    made = load_secret_key(_embedded(tmp_path))
    assert load_secret_key(_embedded(tmp_path, siaga_secret_key=SECRET_KEY)) == SECRET_KEY.encode() != made
    fresh = tmp_path / "other"
    assert load_secret_key(_embedded(fresh, siaga_secret_key=SECRET_KEY)) == SECRET_KEY.encode()
    assert not (fresh / "var" / "secret_key").exists()  # nothing written when the setting is given


def test_a_damaged_key_file_stops_start_up_with_one_line(tmp_path):
    settings = _embedded(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secret_key").write_text("\n")
    with pytest.raises(SettingsError, match="damaged"):
        load_secret_key(settings)


@pytest.mark.parametrize("overrides", [
    {"database_url": PG},
    {"redis_url": "redis://127.0.0.1:6379/0"},  # SQLite with separate workers: they must share the key
])
def test_outside_the_embedded_default_siaga_secret_key_is_required(overrides, tmp_path):
    """Web and worker refuse to start without it (other commands, like `migrate`, do not sign anything)."""
    with pytest.raises(SettingsError, match="SIAGA_SECRET_KEY: required outside the embedded default"):
        load_secret_key(_embedded(tmp_path, **overrides))
    assert not (tmp_path / "var" / "secret_key").exists()  # separate processes would each make their own
    assert load_secret_key(_embedded(tmp_path, **overrides, siaga_secret_key=SECRET_KEY)) == SECRET_KEY.encode()
    with pytest.raises(SettingsError, match="SIAGA_SECRET_KEY: must be at least 32"):
        load_settings(siaga_secret_key="short", **overrides)


def test_webhook_mode_requires_its_secret_and_polling_mode_does_not():
    token = {"telegram_bot_token": "123:abc", "siaga_secret_key": SECRET_KEY}
    for webhook in ({"public_base_url": "https://siaga.example.go.id"}, {"telegram_mode": "webhook"}):
        with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET is required in webhook mode"):
            load_settings(**token, **webhook, telegram_webhook_secret=None)
    assert load_settings(**token, public_base_url="https://siaga.example.go.id",
                         telegram_webhook_secret=SECRET).telegram_effective_mode == "webhook"
    assert load_settings(**token, public_base_url=None, telegram_mode=None,
                         telegram_webhook_secret=None).telegram_effective_mode == "polling"


def test_siaga_web_names_the_missing_secret_in_one_line():
    """One process start (slow on a loaded machine); the other settings errors take the same path (`_load`)."""
    result = run("web", DATABASE_URL=PG, REDIS_URL="", SIAGA_SECRET_KEY="")
    assert result.returncode == 2 and result.stderr.startswith("siaga: cannot start:"), result.stderr
    assert result.stderr.strip().count("\n") == 0 and "SIAGA_SECRET_KEY: required" in result.stderr


def _operator_press(config, case_id: int) -> dict:
    """What Telegram would deliver if operator 1001 pressed "hoax" on the case's card in the operators' group."""
    group = {"id": config.operators.telegram_chat_id, "type": "supergroup", "title": "Operator 112"}
    operator = {"id": 1001, "is_bot": False, "first_name": "Operator Satu"}
    return {"update_id": 500, "callback_query": {
        "id": "9001", "from": operator, "chat_instance": "1", "data": f"op:rr:{case_id}:hoax",
        "message": {"message_id": 7, "date": 1700000000, "chat": group, "text": "kartu"}}}


def _operator_command(config) -> dict:
    group = {"id": config.operators.telegram_chat_id, "type": "supergroup", "title": "Operator 112"}
    return {"update_id": 501, "message": {"message_id": 8, "date": 1700000000, "chat": group, "text": "/blokir 5001",
                                          "from": {"id": 1001, "is_bot": False, "first_name": "Operator Satu"},
                                          "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}}


async def test_in_polling_mode_the_webhook_refuses_every_post_so_a_forged_operator_press_changes_nothing(
        db_url, config):
    async with FakeTelegram() as fake:
        port = free_port()
        settings = load_settings(database_url=db_url, port=port, public_base_url=None, redis_url=None,
                                 telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url,
                                 telegram_webhook_secret=None, telegram_mode=None, siaga_secret_key=SECRET_KEY)
        assert settings.telegram_effective_mode == "polling"
        app = create_app(settings, config, clock=FakeClock())
        deps = app.state.deps
        async with deps.sessions() as s, s.begin():
            reporter = Reporter(channel="telegram", external_id="5001", name="Warga", language="id")
            s.add(reporter)
            await s.flush()
            now = utcnow()
            case = await create_case(s, reporter=reporter, chat="telegram:5001", ticket="SMP-01-02-03",
                                     incident_type="fire", urgent=True, language="id", latitude=None,
                                     longitude=None, address_text="Pasar", description="api", photo_media_id=None,
                                     started_at=now, now=now)
        async with serve_app(app, port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for update in (_operator_press(config, case.id), _operator_command(config)):
                for secret in (None, SECRET, ""):
                    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
                    answer = await client.post("/webhooks/telegram", json=update, headers=headers)
                    assert answer.status_code == 404, (answer.status_code, answer.text)
            async with deps.sessions() as s:
                assert await s.scalar(select(func.count()).select_from(InboxItem)) == 0
                assert await s.scalar(select(func.count()).select_from(OutboxItem)) == 0
                assert (await s.get(Case, case.id)).state == "submitted"
                assert (await s.get(Reporter, reporter.id)).blocked is False

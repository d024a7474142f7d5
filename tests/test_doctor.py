"""`siaga doctor` against the fake Bot and Graph APIs and real PostgreSQL/Redis: ok when healthy; each problem a
FAIL (or warn) line with its fix and exit 1; never a token, password or personal data in what it prints."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import httpx
import pytest

from bots import doctor
from bots.schema_version import head_revision
from core.db import Base, make_engine
from tests.conftest import REDIS_URL, ensure_pg_database
from tests.fakes.whatsapp_api import FakeWhatsApp

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ALEMBIC_INI = str(ROOT / "alembic.ini")
TG_TOKEN = "123456:TEST-TOKEN"
WA_TOKEN = "TEST-WA-TOKEN"
WEBHOOK_SECRET = "doctor-webhook-secret-0123456789"
SECRET_KEY = "k" * 40
DB_PASSWORD = "pg-pass-never-shown"  # trust auth ignores it; it must still never be printed
SETTINGS_VARS = ("DATABASE_URL", "REDIS_URL", "SIAGA_CONFIG", "PORT", "PUBLIC_BASE_URL", "TELEGRAM_BOT_TOKEN",
                 "TELEGRAM_API_BASE_URL", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_MODE", "WHATSAPP_ACCESS_TOKEN",
                 "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_API_BASE_URL",
                 "WHATSAPP_API_VERSION", "SIAGA_SECRET_KEY", "METRICS_TOKEN", "LOG_LEVEL")
SECRETS = (TG_TOKEN, "TEST-TOKEN", WA_TOKEN, WEBHOOK_SECRET, SECRET_KEY, DB_PASSWORD, "test-app-secret")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _stamped(url: str, revision: str | None) -> str:
    """A schema built from the models, stamped at a revision as `siaga migrate` would leave it."""
    engine = make_engine(url)
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            await conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
            await conn.exec_driver_sql("CREATE SCHEMA public")
        await conn.run_sync(Base.metadata.create_all)
        await conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        if revision:
            await conn.exec_driver_sql(f"INSERT INTO alembic_version VALUES ('{revision}')")
    await engine.dispose()
    return url


async def _pg_url() -> str:
    return (await ensure_pg_database()).replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)


@pytest.fixture
async def whatsapp():
    fake = FakeWhatsApp()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def env(monkeypatch, fake, whatsapp, tmp_path):
    """A healthy environment on the fakes (SQLite at head, webhook mode, webhook set); each test breaks one thing."""
    for name in SETTINGS_VARS:
        monkeypatch.delenv(name, raising=False)
    values = {"SIAGA_CONFIG": str(ROOT / "config" / "sumenep.yaml"), "SIAGA_SECRET_KEY": SECRET_KEY,
              "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'siaga.db'}",
              "PUBLIC_BASE_URL": "https://112.example.go.id", "TELEGRAM_BOT_TOKEN": TG_TOKEN,
              "TELEGRAM_API_BASE_URL": fake.base_url, "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
              "WHATSAPP_ACCESS_TOKEN": WA_TOKEN, "WHATSAPP_PHONE_NUMBER_ID": whatsapp.phone_number_id,
              "WHATSAPP_APP_SECRET": whatsapp.app_secret, "WHATSAPP_API_BASE_URL": whatsapp.base_url}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    await _stamped(values["DATABASE_URL"], head_revision(ALEMBIC_INI))
    await _set_webhook(fake, "https://112.example.go.id/webhooks/telegram")
    return values


async def _set_webhook(fake, url: str) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{fake.base_url}/bot{fake.token}/setWebhook",
                                   data={"url": url, "secret_token": WEBHOOK_SECRET})
    assert answer.json() == {"ok": True, "result": True}


def _options(tmp_path: Path, **overrides) -> doctor.Options:
    return doctor.Options(**{"alembic_ini": ALEMBIC_INI, "backup_dir": str(tmp_path / "backups"),
                             "state_dir": str(tmp_path / "state"), "timeout": 2.0,
                             **overrides})


async def _examine(tmp_path: Path, **overrides) -> tuple[list[doctor.Finding], str]:
    findings = await doctor.examine(_options(tmp_path, **overrides))
    text = "\n".join(f.line() for f in findings)
    for secret in SECRETS:
        assert secret not in text
    return findings, text


def _one(findings: list[doctor.Finding], what: str) -> doctor.Finding:
    [finding] = [f for f in findings if f.what == what]
    return finding


async def test_a_healthy_production_setup_exits_0_with_ok_lines(env, fake, whatsapp, redis_url, tmp_path, monkeypatch):
    """PostgreSQL at head, Redis answering, Telegram's webhook at our URL, WhatsApp's number readable: all ok."""
    url = await _stamped(await _pg_url(), head_revision(ALEMBIC_INI))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "siaga"), "doctor", "--alembic-ini", ALEMBIC_INI, "--backup-dir", str(tmp_path / "backups"),
        cwd=ROOT, env=dict(os.environ), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    lines = text.splitlines()
    assert all(line.startswith("ok    ") for line in lines[:-1]), text
    assert lines[-1] == "everything looks right"
    head = head_revision(ALEMBIC_INI)
    assert f"ok    database: postgresql at 127.0.0.1:5432/{url.rsplit('/', 1)[1]}, schema at {head}" in lines
    assert "ok    telegram token: bot @siaga112_bot (getMe)" in lines
    assert ("ok    telegram webhook: https://112.example.go.id/webhooks/telegram, 0 update(s) waiting, "
            "no recent delivery error") in lines
    assert "ok    whatsapp number: +62 811-0000-0112 'Siaga 112', quality GREEN" in lines
    redis_where = REDIS_URL.split("://", 1)[1]
    assert f"ok    redis: {redis_where}: PING answered" in lines
    assert any(line.startswith("ok    clock: this host and the database") for line in lines)
    assert any(line.startswith("ok    time zone: Asia/Jakarta (UTC+07:00)") for line in lines)
    assert any(line.startswith("ok    disk: ") for line in lines)
    for secret in SECRETS:
        assert secret not in text + err.decode()
    assert [c.method for c in fake.calls][-2:] == ["getMe", "getWebhookInfo"]
    [graph] = [c for c in whatsapp.calls if c.method == "GET"]
    assert graph.path == f"/v23.0/{whatsapp.phone_number_id}"


async def test_json_output_lists_every_check(env, fake, tmp_path, capsys):
    findings, _ = await _examine(tmp_path)
    body = doctor.as_json(findings)
    assert {"status": "ok", "what": "telegram token", "detail": "bot @siaga112_bot (getMe)", "fix": ""} in body
    assert json.loads(json.dumps(body)) == body and doctor.exit_code(findings) == 0


async def test_a_revoked_telegram_token_fails_with_the_botfather_fix(env, fake, tmp_path):
    fake.revoke_token()
    findings, text = await _examine(tmp_path)
    assert doctor.exit_code(findings) == 1
    assert ("FAIL  telegram token: getMe answered 401 Unauthorized (the token was revoked or mistyped) — fix: set "
            "TELEGRAM_BOT_TOKEN from @BotFather in /etc/siaga/siaga.env, then systemctl restart siaga.target") in text
    assert "telegram webhook" not in text  # nothing more can be asked with a refused token


async def test_a_webhook_telegram_cannot_deliver_to_fails_with_pending_updates_and_the_error(env, fake, tmp_path,
                                                                                            monkeypatch):
    """Telegram's side of an outage: updates waiting and the last delivery error, as getWebhookInfo tells them."""
    public = f"https://127.0.0.1:{_closed_port()}"  # nothing listens: Telegram's deliveries are refused
    monkeypatch.setenv("PUBLIC_BASE_URL", public)
    await _set_webhook(fake, f"{public}/webhooks/telegram")
    fake.webhook_retry_delay = 30  # the update stays pending while Telegram waits to retry
    delivery = asyncio.create_task(fake.send_text(5001, "tolong"))
    try:
        for _ in range(200):
            if fake.webhook_last_error:
                break
            await asyncio.sleep(0.01)
        findings, text = await _examine(tmp_path)
    finally:
        delivery.cancel()
    hook = _one(findings, "telegram webhook")
    assert hook.status == "fail" and doctor.exit_code(findings) == 1
    assert hook.detail == (f"{public}/webhooks/telegram: 1 update(s) waiting; last delivery error 0 min ago: "
                           "Connection refused")
    assert "reachable from the internet" in hook.fix and "— fix: " in text


async def test_webhook_at_another_url_and_a_webhook_in_polling_mode_fail(env, fake, tmp_path, monkeypatch):
    await _set_webhook(fake, "https://other.example/webhooks/telegram")
    findings, _ = await _examine(tmp_path)
    assert _one(findings, "telegram webhook").detail == (
        "set to https://other.example/webhooks/telegram, expected https://112.example.go.id/webhooks/telegram")
    monkeypatch.delenv("PUBLIC_BASE_URL")
    findings, _ = await _examine(tmp_path)
    hook = _one(findings, "telegram webhook")
    assert hook.status == "fail" and "polling mode, but a webhook is set" in hook.detail
    async with httpx.AsyncClient() as client:
        await client.post(f"{fake.base_url}/bot{fake.token}/deleteWebhook")
    findings, _ = await _examine(tmp_path)
    assert _one(findings, "telegram webhook").status == "ok" and doctor.exit_code(findings) == 0


async def test_a_wrong_whatsapp_token_fails_with_graph_error_190(env, whatsapp, fake, tmp_path, monkeypatch):
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", "EAAG-revoked-token")
    findings, text = await _examine(tmp_path)
    token = _one(findings, "whatsapp token")
    assert token.status == "fail" and doctor.exit_code(findings) == 1
    assert token.detail == "the Graph API refused the token (error 190, HTTP 401)"
    assert "WHATSAPP_ACCESS_TOKEN in /etc/siaga/siaga.env" in token.fix
    assert "EAAG-revoked-token" not in text
    monkeypatch.setenv("WHATSAPP_ACCESS_TOKEN", WA_TOKEN)
    whatsapp.quality_rating = "RED"  # Meta's warning that the number may be limited: a warning, not a failure
    findings, _ = await _examine(tmp_path)
    assert _one(findings, "whatsapp number").status == "warn" and doctor.exit_code(findings) == 0


async def test_an_unreachable_database_fails(env, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://postgres:{DB_PASSWORD}@127.0.0.1:{_closed_port()}/x")
    findings, _ = await _examine(tmp_path)
    database = _one(findings, "database")
    assert database.status == "fail" and database.detail.startswith("postgresql at 127.0.0.1:")
    assert "cannot connect" in database.detail and "systemctl status postgresql" in database.fix
    assert doctor.exit_code(findings) == 1


async def test_pending_migrations_fail_with_siaga_migrate(env, tmp_path, monkeypatch):
    """A database migrated only to 0011 while the code has 0012."""
    url = await _stamped(await _pg_url(), "0011")
    monkeypatch.setenv("DATABASE_URL", url)
    findings, _ = await _examine(tmp_path)
    database = _one(findings, "database")
    assert database.status == "fail" and "schema at 0011; 1 migration(s) pending (0012" in database.detail
    assert "siaga migrate" in database.fix and doctor.exit_code(findings) == 1


async def test_an_unreachable_redis_fails(env, tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://:{DB_PASSWORD}@127.0.0.1:{_closed_port()}/14")
    findings, _ = await _examine(tmp_path)
    redis = _one(findings, "redis")
    assert redis.status == "fail" and "PING failed" in redis.detail and "redis-server" in redis.fix
    assert doctor.exit_code(findings) == 1


async def test_a_time_zone_missing_from_the_machine_fails(env, tmp_path, monkeypatch):
    text = (ROOT / "config" / "sumenep.yaml").read_text(encoding="utf-8")
    assert "timezone: Asia/Jakarta" in text
    broken = tmp_path / "deployment.yaml"
    broken.write_text(text.replace("timezone: Asia/Jakarta", "timezone: Asia/Sumenep"), encoding="utf-8")
    monkeypatch.setenv("SIAGA_CONFIG", str(broken))
    monkeypatch.chdir(ROOT)  # the example's gazetteer path is relative to the checkout
    findings, _ = await _examine(tmp_path)
    zone = _one(findings, "time zone")
    assert zone.status == "fail" and zone.detail == "'Asia/Sumenep' is not in this machine's time zone database"
    assert "apt install tzdata" in zone.fix
    assert _one(findings, "deployment file").status == "fail" and doctor.exit_code(findings) == 1


async def test_low_disk_warns_then_fails_by_the_thresholds(env, tmp_path):
    free = min(__import__("shutil").disk_usage(p).free for p in (tmp_path, ROOT))
    findings, _ = await _examine(tmp_path, disk_warn_bytes=free * 4, disk_fail_bytes=1)
    disks = [f for f in findings if f.what == "disk"]
    assert disks and all(f.status == "warn" for f in disks) and "backups" in " ".join(f.detail for f in disks)
    assert "siaga backup --keep-days" in disks[0].fix and doctor.exit_code(findings) == 0
    findings, text = await _examine(tmp_path, disk_warn_bytes=free * 8, disk_fail_bytes=free * 4)
    assert "FAIL  disk: " in text and doctor.exit_code(findings) == 1


async def test_a_settings_error_names_the_variable_and_exits_1(env, monkeypatch):
    """The command itself: a key too short is a SettingsError; nothing else can be checked."""
    monkeypatch.setenv("SIAGA_SECRET_KEY", "short-key")
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "siaga"), "doctor", cwd=ROOT, env=dict(os.environ), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1
    assert out.decode().splitlines()[0] == (
        "FAIL  settings: SIAGA_SECRET_KEY: must be at least 32 characters (e.g. `openssl rand -hex 32`) — fix: "
        "correct it in /etc/siaga/siaga.env, then systemctl restart siaga.target")
    assert "short-key" not in out.decode()


async def test_a_missing_secret_key_and_a_plain_http_public_url_fail(env, tmp_path, monkeypatch):
    monkeypatch.delenv("SIAGA_SECRET_KEY")
    monkeypatch.setenv("REDIS_URL", REDIS_URL)
    monkeypatch.setenv("PUBLIC_BASE_URL", "http://112.example.go.id")
    findings, _ = await _examine(tmp_path)
    assert _one(findings, "secret key").status == "fail"
    assert "openssl rand -hex 32" in _one(findings, "secret key").fix
    assert _one(findings, "public URL").detail == "PUBLIC_BASE_URL is http://112.example.go.id, not https"


async def test_a_hung_api_costs_the_timeout_not_the_doctor(env, tmp_path, monkeypatch):
    """A Bot API and a Graph API that accept the connection and never answer: each check gives up on time."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections queue in the kernel's backlog; nothing ever reads or answers them
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        monkeypatch.setenv("WHATSAPP_API_BASE_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = asyncio.get_running_loop().time()
        findings = await doctor.examine(_options(tmp_path, timeout=0.5))
        elapsed = asyncio.get_running_loop().time() - started
    assert elapsed < 4, elapsed  # the checks run side by side, each bounded by the timeout
    token = _one(findings, "telegram token")
    assert token.status == "fail" and token.detail.startswith("getMe: no answer from http://127.0.0.1:")
    assert "firewall, proxy, DNS" in token.fix
    assert _one(findings, "whatsapp token").detail.startswith("no answer from http://127.0.0.1:")

"""An update acknowledged by a process that dies before processing it is handled once another one starts."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from core.db import make_engine
from core.models import InboxItem
from tests.conftest import fresh_database_url
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import SECRET, SECRET_KEY, eventually, free_port, gateway

ROOT = Path(__file__).resolve().parent.parent
CITIZEN = 5001


@pytest.fixture
async def fake():
    fake = FakeTelegram()
    await fake.start()
    fake.user(CITIZEN, "Budi")
    fake.group(-1001000000001)
    yield fake
    await fake.stop()


def has_menu(fake) -> bool:
    return any("inline_keyboard" in (m.get("reply_markup") or {}) for m in fake.sent(CITIZEN))


async def test_embedded_web_stopped_before_processing_then_restarted(fake, tmp_path):
    url = await fresh_database_url("sqlite", tmp_path)
    async with gateway(fake, url, run_worker=False):
        await fake.send_text(CITIZEN, "tolong")
        assert await pending_updates(url) == 1
    assert fake.sent(CITIZEN) == []  # acknowledged, never processed: the process is gone
    async with gateway(fake, url):
        await eventually(lambda: has_menu(fake))


async def pending_updates(url: str) -> int:
    engine = make_engine(url)
    async with engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.status == "pending"))
    await engine.dispose()
    return count


def spawn(command: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).parent / "siaga"), command], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_production_web_killed_with_sigkill_after_acknowledging(fake, tmp_path, redis_url):
    url = await fresh_database_url("postgres", tmp_path)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "PORT": str(port),
           "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
           "TELEGRAM_WEBHOOK_SECRET": SECRET, "SIAGA_SECRET_KEY": SECRET_KEY, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    web = spawn("web", env)
    try:
        async def ready():
            try:
                async with httpx.AsyncClient() as c:
                    return (await c.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200
            except httpx.HTTPError:
                return False
        await eventually(ready, timeout=30)
        await eventually(lambda: fake.webhook is not None)
        update = await fake.send_text(CITIZEN, "tolong")
        assert await fake.redeliver(update) == 200  # acknowledged (the second time as a duplicate)
        assert await pending_updates(url) == 1
    finally:
        web.send_signal(signal.SIGKILL)
        web.wait(10)
    assert fake.sent(CITIZEN) == []
    worker = spawn("worker", env)
    try:
        await eventually(lambda: has_menu(fake), timeout=30)
    finally:
        worker.terminate()
        worker.wait(10)
    assert len(fake.sent(CITIZEN)) == 1


async def test_a_database_outage_while_the_worker_is_idle_does_not_stop_it():
    """bench/faults.py restarted PostgreSQL while the outbox loop asked when its next message is due: the
    error escaped the loop and the whole worker process exited."""
    from types import SimpleNamespace

    from bots.pipeline.worker import Worker
    from core.coordination import LocalCoordinator

    calls = {"idle": 0, "work": 0}
    stop = asyncio.Event()

    async def work():
        calls["work"] += 1
        if calls["work"] == 3:
            stop.set()
        return 0

    async def idle_for(ceiling):
        calls["idle"] += 1
        if calls["idle"] == 1:
            raise ConnectionRefusedError("[Errno 111] Connect call failed ('127.0.0.1', 5432)")
        return 0.01
    worker = Worker.__new__(Worker)
    worker.deps, worker.poll = SimpleNamespace(coord=LocalCoordinator()), 0.01
    await asyncio.wait_for(worker._loop(stop, "outbox", work, idle_for), 5)
    assert calls == {"work": 3, "idle": 3}  # the failed look, and two more: the loop went on

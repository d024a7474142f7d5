"""Run the real gateway over HTTP in the test's event loop, talking to the fake Telegram server."""
from __future__ import annotations

import asyncio
import socket
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn

from bots.app import build_deps, create_app, finish, stop_deps
from bots.pipeline.deps import Deps
from bots.pipeline.worker import Worker
from core.settings import load_settings

SECRET = "test-secret_123"
SECRET_KEY = "test-siaga-secret-key-0123456789abcdef"  # SIAGA_SECRET_KEY: shared by web and workers
WA_VERIFY = "wa-verify-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gateway:
    url: str
    deps: Deps


@asynccontextmanager
async def serve_app(app, port: int):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on",
                                           access_log=False, timeout_graceful_shutdown=3))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


def settings_for(fake, db_url: str, redis_url: str | None, port: int, wa=None, **extra):
    if wa is not None:
        extra.update(whatsapp_access_token=wa.token, whatsapp_phone_number_id=wa.phone_number_id,
                     whatsapp_app_secret=wa.app_secret, whatsapp_verify_token=WA_VERIFY,
                     whatsapp_api_base_url=wa.base_url, whatsapp_api_version="v23.0",
                     # the fake times each message's arrival in the test's own event loop: on a loaded 2-core
                     # machine one request can reach it 0.1-0.3 s later than the next, so the gateway keeps a
                     # wider gap than the fake enforces (production keeps 6 s x 1.1 + 0.1 against Meta's 6 s)
                     whatsapp_user_interval_seconds=wa.pair_interval + 0.3 if wa.pair_interval else 0)
    return load_settings(database_url=db_url, redis_url=redis_url, telegram_bot_token=fake.token,
                         telegram_api_base_url=fake.base_url, telegram_webhook_secret=SECRET,
                         public_base_url=f"http://127.0.0.1:{port}", port=port,
                         **{"siaga_secret_key": SECRET_KEY, **extra})


@asynccontextmanager
async def gateway(fake, db_url: str, *, redis_url: str | None = None, config=None, clock=None,
                  run_worker: bool | None = None, workers: int = 0, wa=None):
    """`web` (embedded worker when there is no Redis) plus `workers` separate worker instances; with `wa`
    (a FakeWhatsApp) the WhatsApp channel too, its webhook pointed at the gateway."""
    port = free_port()
    settings = settings_for(fake, db_url, redis_url, port, wa)
    if wa is not None:
        wa.webhook_url = f"http://127.0.0.1:{port}/webhooks/whatsapp"
    app = create_app(settings, config, clock=clock, run_worker=run_worker)
    async with serve_app(app, port), run_workers(settings, config, clock, workers):
        yield Gateway(f"http://127.0.0.1:{port}", app.state.deps)


@asynccontextmanager
async def run_workers(settings, config, clock, count: int):
    """Worker processes' loops, each with its own engine, coordinator and Telegram client."""
    stop = asyncio.Event()
    deps_list = [build_deps(settings, config, clock) for _ in range(count)]
    for deps in deps_list:
        for channel in deps.channels.values():
            await channel.start()
    tasks = [asyncio.create_task(Worker(deps, poll=0.2).run(stop)) for deps in deps_list]
    try:
        yield deps_list
    finally:
        await finish(stop, tasks)
        for deps in deps_list:
            await stop_deps(deps)


async def eventually(predicate, timeout: float = 15.0, interval: float = 0.05):
    """Wait until `predicate()` (sync or async) is truthy; return its value or fail with what was last seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)

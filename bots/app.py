"""The composition root: build settings, config, database, coordination and channels, and serve them."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from bots.http import error_response
from bots.pipeline.child_worker import ChildWorker
from bots.pipeline.deps import Deps
from bots.pipeline.intake_gate import IntakeGate
from bots.pipeline.worker import Worker
from bots.secret_key import load_secret_key
from bots.services import wiring
from bots.telegram import webhook as telegram_webhook
from bots.web import (
    case_page,
    chat,
    dashboard,
    dashboard_stream,
    docs,
    drill_page,
    exports,
    figures_page,
    metrics_endpoint,
    new_report,
    open311,
    public,
    readiness,
    signin_pages,
)
from bots.web.auth import SignedOut, to_login
from bots.web.chat_channel import WebChatChannel
from bots.web.metrics_endpoint import DatabaseGauges
from bots.web.pages import STATIC
from bots.web.security_headers import SecurityHeaders, harden, security_headers
from bots.whatsapp import webhook as whatsapp_webhook
from core.clock import Clock, SystemClock
from core.config import Deployment, load_config
from core.coordination import Coordinator, LocalCoordinator
from core.db import make_engine, make_sessionmaker
from core.settings import Settings

log = structlog.get_logger()


def build_deps(settings: Settings, config: Deployment | None = None, clock: Clock | None = None,
               coord: Coordinator | None = None, before_write: Callable[[], Awaitable[None]] | None = None) -> Deps:
    """Wire one process: the same pieces for the embedded default and for production."""
    engine = make_engine(settings.database_url, settings.database_pool_size, before_write)
    if coord is None and settings.redis_url:
        from bots.pipeline.redis_coordination import RedisCoordinator
        coord = RedisCoordinator(settings.redis_url)
    elif coord is None:  # (given: the embedded default's web or worker child, bots/pipeline/child_worker.py)
        coord = LocalCoordinator()
    deps = Deps(settings=settings, config=config or load_config(settings.siaga_config), engine=engine,
                sessions=make_sessionmaker(engine), coord=coord, clock=clock or SystemClock(),
                secret_key=load_secret_key(settings), handlers=wiring.handlers())
    deps.channels["web"] = WebChatChannel()  # always on: the way to try Siaga112 without a bot token
    if settings.telegram_bot_token is not None:
        from bots.telegram.client import TelegramChannel
        deps.channels["telegram"] = TelegramChannel(settings.telegram_bot_token.get_secret_value(),
                                                    settings.telegram_api_base_url)
    if settings.whatsapp_access_token is not None:
        from bots.whatsapp.client import WhatsAppChannel
        deps.channels["whatsapp"] = WhatsAppChannel(
            settings.whatsapp_access_token.get_secret_value(), settings.whatsapp_phone_number_id,
            settings.whatsapp_api_base_url, settings.whatsapp_api_version, deps.config,
            settings.whatsapp_user_interval_seconds)
    return deps


async def start_channels(deps: Deps) -> None:
    """Start every channel through the port; then Telegram's own step, which is no part of it: the webhook
    (in webhook mode) and the command menu."""
    for channel in deps.channels.values():
        await channel.start()
    telegram = deps.channels.get("telegram")
    if telegram is not None:
        from bots.telegram.client import TelegramChannel
        if isinstance(telegram, TelegramChannel):
            secret = deps.settings.telegram_webhook_secret
            webhook = deps.settings.public_base_url if deps.settings.telegram_effective_mode == "webhook" else None
            await telegram.register(webhook, secret.get_secret_value() if secret else None)


async def finish(stop: asyncio.Event, tasks: list[asyncio.Task], grace: float = 5.0) -> None:
    """Let loops finish their current step (a cancelled query can wedge the pool), then cancel stragglers."""
    stop.set()
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def stop_deps(deps: Deps) -> None:
    for channel in deps.channels.values():
        await channel.stop()
    await deps.coord.close()
    await deps.engine.dispose()


def create_app(settings: Settings, config: Deployment | None = None, clock: Clock | None = None,
               run_worker: bool | None = None, worker_child: bool = False) -> FastAPI:
    """The `web` process; with no Redis it also runs the worker's loops (the embedded default): in one child
    process when `worker_child` (what `siaga web` does), else in this process (tests, with their fake clock)."""
    child = ChildWorker() if worker_child else None
    deps = build_deps(settings, config, clock, coord=child.coord if child else None)
    if child is not None:  # its transactions yield to this process's webhook writes (one SQLite writer at a time)
        deps.intake_gate = IntakeGate.beside(settings.database_url)
    in_process_worker = child is None and (settings.embedded if run_worker is None else run_worker)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        stop = asyncio.Event()
        tasks = []
        await start_channels(deps)
        if in_process_worker:
            tasks.append(asyncio.create_task(Worker(deps).run(stop)))
        supervisor = asyncio.create_task(child.run(stop)) if child else None  # stopped after the loops, below
        if "telegram" in deps.channels and settings.telegram_effective_mode == "polling":
            from bots.telegram.polling import poll
            tasks.append(asyncio.create_task(poll(deps, stop)))
        log.info("web_started", worker="child" if child else in_process_worker, channels=sorted(deps.channels))
        yield
        await finish(stop, tasks)
        if supervisor is not None:
            await supervisor  # SIGTERM, the child's current step, exit (or kill after its grace)
        await stop_deps(deps)

    app = FastAPI(title="Siaga112", version="0.12.0", lifespan=lifespan,
                  description="Chat-based emergency reporting gateway for Call Center 112.",
                  docs_url=None, redoc_url=None)  # /docs comes from bots/web/docs.py, on vendored assets
    app.state.deps = deps
    app.state.database_gauges = DatabaseGauges(deps.sessions, deps.clock, channels=tuple(deps.channels),
                                               health=deps.config.channel_health)
    hardening = security_headers(deps.config.map, settings.public_base_url)
    app.add_middleware(SecurityHeaders, headers=hardening)
    app.include_router(telegram_webhook.router)
    app.include_router(whatsapp_webhook.router)
    app.include_router(open311.router)
    app.include_router(public.router)
    app.include_router(signin_pages.router)
    app.include_router(dashboard.router)
    app.include_router(dashboard_stream.router)
    app.include_router(case_page.router)
    app.include_router(new_report.router)
    app.include_router(figures_page.router)
    app.include_router(drill_page.router)
    app.include_router(exports.router)
    app.include_router(chat.router)
    app.include_router(docs.router)
    app.include_router(metrics_endpoint.router)
    app.include_router(readiness.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError):
        return error_response(400, "bad request")

    @app.exception_handler(SignedOut)
    async def _signed_out(request: Request, exc: SignedOut):
        return to_login() if exc.page else error_response(401, "sign in first")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.error("unhandled_error", error=type(exc).__name__)
        response = error_response(503, "temporarily unavailable")
        harden(response.headers, hardening, request.url.path)  # this answer bypasses the middleware
        return response

    @app.get("/healthz", tags=["operations"])
    async def healthz():
        """The process is alive."""
        return {"ok": True}

    @app.get("/", include_in_schema=False)
    async def index():
        return {"service": "Siaga112", "region": deps.config.region.name,
                "channels": sorted(deps.channels), "docs": "/docs"}

    return app

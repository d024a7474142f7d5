"""`GET /readyz`: 200 when the database (and Redis, when configured) answer, else 503 (the CONTRACT); the body
also says how each chat channel is delivering, so a monitor sees a revoked token without reading the logs."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from core import channel_health

router = APIRouter()


@router.get("/readyz", tags=["operations"])
async def readyz(request: Request):
    """The database and Redis decide the status; channels are explained, never counted against readiness
    (a revoked bot token must not take the dashboard and the web chat out of the load balancer)."""
    deps = request.app.state.deps
    checks: dict[str, object] = {"database": False, "redis": None}
    channels: dict[str, object] = {}
    configured = [name for name in deps.channels if name in channel_health.CHAT_CHANNELS]
    try:
        async with deps.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = True
        async with deps.sessions() as session:
            health = await channel_health.observe(session, deps.clock.now(), configured, deps.config.channel_health)
        channels = {name: h.public() for name, h in health.items()}
    except Exception:  # noqa: BLE001 - a database that does not answer makes the process unready, said below
        channels = {name: {"state": "unknown", "reason": None} for name in configured}
    if deps.settings.redis_url:
        checks["redis"] = await deps.coord.ping()
    ok = checks["database"] is True and checks["redis"] is not False
    return JSONResponse({"ok": ok, **checks, "channels": channels}, status_code=200 if ok else 503)

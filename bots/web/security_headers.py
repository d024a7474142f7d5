"""Security headers on every response: a strict CSP, no framing, no sniffing, no referrer, no cached dashboard."""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.config import Map

DASHBOARD = "/dashboard"
HSTS_SECONDS = 365 * 86400


def content_security_policy(map_config: Map) -> str:
    """Only this origin, plus map tiles from the configured server; no inline script or style, no framing."""
    tiles = f" {map_config.tile_origin}" if map_config.tile_origin else ""
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' data: blob:{tiles}",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def security_headers(map_config: Map, public_base_url: str | None) -> list[tuple[str, str]]:
    """The headers every response carries; HSTS only when the public URL is https (a browser would pin it)."""
    headers = [("content-security-policy", content_security_policy(map_config)),
               ("x-content-type-options", "nosniff"),
               ("x-frame-options", "DENY"),
               ("referrer-policy", "no-referrer"),
               ("cross-origin-opener-policy", "same-origin")]
    if (public_base_url or "").lower().startswith("https://"):
        headers.append(("strict-transport-security", f"max-age={HSTS_SECONDS}"))
    return headers


class SecurityHeaders:
    """Pure ASGI (no body buffering), so streamed downloads and photos pass through untouched."""

    def __init__(self, app: ASGIApp, headers: list[tuple[str, str]]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                harden(MutableHeaders(scope=message), self.headers, scope.get("path", ""))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def harden(headers: MutableHeaders, security: list[tuple[str, str]], path: str) -> None:
    """Add what a route did not set itself; every dashboard response is no-store (pages, rows, exports, photos)."""
    for name, value in security:
        headers.setdefault(name, value)
    if (path == DASHBOARD or path.startswith(DASHBOARD + "/")) and "no-store" not in headers.get("cache-control", ""):
        headers["cache-control"] = "no-store"

"""Limits of the public web chat per address and overall, shared by every `web` process (core/coordination).

The address is `request.client.host`: uvicorn takes it from `X-Forwarded-For` only when the proxy is listed in
`FORWARDED_ALLOW_IPS`. It is never stored: a keyed hash of it (`origin`) is counted and carried with each post,
so the worker can hold a flood of reports from one address (bots/pipeline/web_hold.py). IPv6 addresses count
per /64, the block one subscriber gets.
"""
from __future__ import annotations

import ipaddress
import math

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from bots.web.pages import render
from core import signing
from core.coordination import Limit
from core.models import Conversation, InboxItem

OVERALL = "*"
BUSY_CHATS = "too many new web chats from this address or overall: try again later"
BUSY_POSTS = "too many messages from this address or overall: slow down"
BUSY_PHOTOS = "too many photos from this chat or this address: try again later"


def origin(request: Request) -> str:
    """A stable pseudonym of the client's address (its /64 for IPv6), keyed with the server secret."""
    host = request.client.host if request.client else ""
    try:
        ip = ipaddress.ip_address(host)
        if ip.version == 6:
            host = str(ip.ipv4_mapped) if ip.ipv4_mapped else str(ipaddress.ip_network(f"{ip}/64", strict=False))
    except ValueError:
        pass  # not an address (a test client, a unix socket): counted as it is
    return signing.keyed_hash(request.app.state.deps.secret_key, "webaddr", host)


def _chats(request: Request, who: str, what: str) -> list[Limit]:
    """New chats: `issued` by GET /chat and `started` by a chat's first post are counted apart, so one citizen
    uses one of each, and ids gathered slowly cannot all be started in a burst."""
    web = request.app.state.deps.config.web
    window = web.window_minutes * 60
    return [Limit(f"web:{what}:{who}", web.chats_per_address, window),
            Limit(f"web:{what}:{OVERALL}", web.chats_overall, window)]


def _posts(request: Request, who: str) -> list[Limit]:
    web = request.app.state.deps.config.web
    return [Limit(f"web:posts:{who}", web.posts_per_minute_per_address, 60),
            Limit(f"web:posts:{OVERALL}", web.posts_per_minute_overall, 60)]


async def _take(request: Request, limits: list[Limit]) -> float:
    """0 when allowed; else seconds to wait. With Redis away the chat stays open (the database is the truth)."""
    return await request.app.state.deps.coord.take(limits, when_down=0.0)


async def new_chat(request: Request) -> float:
    """GET /chat is about to issue a new chat id."""
    return await _take(request, _chats(request, origin(request), "issued"))


async def post(request: Request, chat: str) -> float:
    """A post (text, button, location or photo); the first post of a chat also counts as starting one."""
    who = origin(request)
    limits = _posts(request, who)
    if not await _started(request, chat):
        limits += _chats(request, who, "started")
    return await _take(request, limits)


async def photo(request: Request, chat: str) -> float:
    """A photo upload, on top of `post`: per chat and per address, per hour."""
    web, who = request.app.state.deps.config.web, origin(request)
    return await _take(request, [Limit(f"web:photos:chat:{chat}", web.photos_per_hour_per_chat, 3600),
                                 Limit(f"web:photos:{who}", web.photos_per_hour_per_address, 3600)])


async def _started(request: Request, chat: str) -> bool:
    """Whether this chat has posted before: its conversation exists, or a post of it waits in the inbox (the
    inbox's unique key is (channel, external_id) and a web post's external id begins with `chat:`)."""
    async with request.app.state.deps.sessions() as session:
        if await session.get(Conversation, f"web:{chat}") is not None:
            return True
        return (await session.execute(select(InboxItem.id).where(
            InboxItem.channel == "web", InboxItem.external_id >= f"{chat}:", InboxItem.external_id < f"{chat};")
            .limit(1))).first() is not None


def refused(wait: float, reason: str) -> JSONResponse:
    """429 with the reason and when to come back."""
    seconds = max(1, math.ceil(wait))
    return JSONResponse({"ok": False, "error": reason, "retry_after": seconds}, status_code=429,
                        headers={"Retry-After": str(seconds)})


def busy_page(request: Request, wait: float):
    """The chat page when no new chat may start now: a polite line in the page's language, no cookie."""
    response = render(request, "chat_busy.html", status=429,
                      number=request.app.state.deps.config.region.emergency_number)
    response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response

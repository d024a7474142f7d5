"""Read request bodies with a hard size limit, before any parsing."""
from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import JSONResponse


class BodyTooLarge(Exception):
    pass


async def read_limited(request: Request, limit: int) -> bytes:
    """Refuse by Content-Length first, then stop reading the stream as soon as it passes the limit."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:  # not "²"
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class MalformedJson(Exception):
    pass


def load_json(body: bytes):
    """Parse a request body; anything that is not JSON — including nesting deep enough to exhaust the
    parser's recursion, and strings that are not text (a lone surrogate such as "\\ud800", which the
    database cannot store) — is one clear refusal, never a crash."""
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        raise MalformedJson from None
    return data


def error_response(status: int, reason: str) -> JSONResponse:
    """The one shape of every refusal: a clear status and a short reason, never a stack trace."""
    return JSONResponse({"ok": False, "error": reason}, status_code=status)

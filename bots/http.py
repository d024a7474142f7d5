"""Read request bodies with a hard size limit, before any parsing."""
from __future__ import annotations

import json

from fastapi import Request
from fastapi.responses import JSONResponse

from core.storable import Cleaner


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


def load_delivery(body: bytes) -> tuple[object, str | None]:
    """Parse a platform's delivery: (the JSON made storable, why it had to be changed or None).

    Only what is not JSON at all (or nests past the parser's recursion) is MalformedJson; NaN, Infinity,
    huge numbers, NUL characters and lone surrogates are valid enough to be re-sent by the platform for a
    day, so they are replaced by storable values and the delivery is parked instead of refused."""
    cleaner = Cleaner()
    try:
        data = json.loads(body, parse_int=cleaner.parse_int, parse_float=cleaner.parse_float,
                          parse_constant=cleaner.parse_constant)
        data = cleaner.clean(data)
    except (ValueError, UnicodeError, RecursionError):
        raise MalformedJson from None
    return data, cleaner.reason


def error_response(status: int, reason: str) -> JSONResponse:
    """The one shape of every refusal: a clear status and a short reason, never a stack trace."""
    return JSONResponse({"ok": False, "error": reason}, status_code=status)

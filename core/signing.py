"""Server-issued tokens: a value and its HMAC, so a client can carry an identity it cannot forge."""
from __future__ import annotations

import base64
import hashlib
import hmac

MAC_BYTES = 16  # 128 bits: forging needs 2^128 guesses


def _mac(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, purpose: str, value: str) -> str:
    """`value.mac`; the purpose keeps a token issued for one use from being accepted for another."""
    if not key:
        raise ValueError("no secret key")
    return f"{value}.{_mac(key, purpose, value)}"


def unsign(key: bytes, purpose: str, token: str | None, max_length: int = 200) -> str | None:
    """The value of a token this server signed for `purpose`, or None for anything else (compared in constant time)."""
    if not key or not token or len(token) > max_length or not token.isascii():
        return None
    value, dot, mac = token.rpartition(".")
    if not dot or not value:
        return None
    return value if hmac.compare_digest(mac, _mac(key, purpose, value)) else None


def keyed_hash(key: bytes, purpose: str, value: str, length: int = 16) -> str:
    """A stable pseudonym for a value we must count but not keep (a client's address)."""
    return _mac(key, purpose, value)[:length]

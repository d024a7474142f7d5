"""SIAGA_SECRET_KEY, or on the embedded default a key generated once beside the SQLite file (mode 0600)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy.engine import make_url

from core.settings import Settings, SettingsError

FILE_NAME = "secret_key"
MIN_LENGTH = 32


def key_file(database_url: str) -> Path | None:
    """`var/secret_key` beside `var/siaga.db`; None for an in-memory database."""
    path = make_url(database_url).database
    if not path or path.startswith((":memory:", "file:")):
        return None
    return Path(path).parent / FILE_NAME


def load_secret_key(settings: Settings) -> bytes:
    """SIAGA_SECRET_KEY when set, else the key file (made on first start); an in-memory database gets a fresh one."""
    if settings.siaga_secret_key is not None:
        return settings.siaga_secret_key.get_secret_value().encode()
    if not settings.embedded_default:  # several processes must sign and check the same tokens
        raise SettingsError("SIAGA_SECRET_KEY: required outside the embedded default (SQLite, no REDIS_URL); give "
                            "every web and worker process the same value, e.g. `openssl rand -hex 32`")
    path = key_file(settings.database_url)
    if path is None:
        return secrets.token_hex(32).encode()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        _create(path)
    key = path.read_text().strip()
    if len(key) < MIN_LENGTH:
        raise SettingsError(f"{path} is damaged (too short): delete it to make a new one, or set SIAGA_SECRET_KEY")
    return key.encode()


def _create(path: Path) -> None:
    """Written whole to a private temporary file, then linked into place: a second process starting at the same
    moment either wins or reads the first one's complete key, never a half-written one."""
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    try:
        os.link(temporary, path)  # never replaces an existing key
    except FileExistsError:
        pass
    finally:
        temporary.unlink()

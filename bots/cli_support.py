"""What several `siaga` commands share: loading settings and config, logging, who runs the command."""
from __future__ import annotations

import sys
from pathlib import Path

from core.config import ConfigError, Deployment, load_config
from core.settings import Settings, SettingsError, load_settings


def load() -> tuple[Settings, Deployment]:
    """Settings and deployment file, or exit with one line naming what is wrong."""
    from bots.secret_key import load_secret_key
    try:
        settings = load_settings()
        load_secret_key(settings)  # web and worker refuse to start without it (the embedded default makes one)
        return settings, load_config(settings.siaga_config)
    except (SettingsError, ConfigError) as exc:
        print(f"siaga: cannot start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def log_to_stderr(settings: Settings) -> None:
    """Commands that write audit entries log them as JSON on stderr; stdout stays the command's answer."""
    from bots.logging import configure
    configure(settings.log_level)


def cli_actor() -> str:
    """Who ran a command, for the audit trail: `cli:<OS user>`."""
    import getpass
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:?"


def ensure_sqlite_dir(url: str) -> None:
    if url.startswith("sqlite") and ":///" in url:
        path = url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # mode: only when it is new

"""Process settings from the environment (CONTRACT.md); a bad value stops start-up with one line."""
from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """One line naming the variable that is wrong."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    database_url: str = "sqlite+aiosqlite:///./var/siaga.db"
    redis_url: str | None = None
    siaga_config: str = "config/sumenep.yaml"
    port: int = 8000
    public_base_url: str | None = None
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_webhook_secret: SecretStr | None = None
    telegram_mode: str | None = None
    whatsapp_access_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_base_url: str = "https://graph.facebook.com"
    whatsapp_api_version: str = "v23.0"
    whatsapp_user_interval_seconds: float = 6.0
    max_body_bytes: int = 1_000_000
    database_pool_size: int = 10
    log_level: str = "INFO"
    siaga_secret_key: SecretStr | None = None
    metrics_token: SecretStr | None = None

    @field_validator("database_url")
    @classmethod
    def _db(cls, v: str) -> str:
        if not v.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return v

    @field_validator("redis_url", "public_base_url", "telegram_mode", mode="before")
    @classmethod
    def _blank_is_unset(cls, v: object) -> object:
        return v or None

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return v

    @field_validator("public_base_url")
    @classmethod
    def _public(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return v.rstrip("/") if v else v

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", v.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z a-z 0-9 _ -")
        return v

    @field_validator("siaga_secret_key", "metrics_token", mode="before")
    @classmethod
    def _blank_secret_is_unset(cls, v: object) -> object:
        return v or None

    @field_validator("siaga_secret_key")
    @classmethod
    def _key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return v

    @field_validator("telegram_mode")
    @classmethod
    def _mode(cls, v: str | None) -> str | None:
        if v is not None and v not in ("webhook", "polling"):
            raise ValueError("must be webhook or polling")
        return v

    @model_validator(mode="after")
    def _whatsapp_complete(self) -> Settings:
        """A WhatsApp token without its number id or app secret would accept nothing and send nowhere."""
        if self.whatsapp_access_token is not None:
            for name in ("whatsapp_phone_number_id", "whatsapp_app_secret"):
                if getattr(self, name) is None:
                    raise ValueError(f"{name.upper()} is required when WHATSAPP_ACCESS_TOKEN is set")
        return self

    @model_validator(mode="after")
    def _webhook_secret_required(self) -> Settings:
        """Without the secret anyone could post updates "from" an operator's user id (issue 12)."""
        if (self.telegram_bot_token is not None and self.telegram_effective_mode == "webhook"
                and self.telegram_webhook_secret is None):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET is required in webhook mode (e.g. `openssl rand -hex 32`)")
        return self

    @property
    def embedded_default(self) -> bool:
        """SQLite and no Redis: one process, whose own files under var/ may hold its generated secret."""
        return self.redis_url is None and self.database_url.startswith("sqlite+aiosqlite://")

    @property
    def telegram_effective_mode(self) -> str:
        return self.telegram_mode or ("webhook" if self.public_base_url else "polling")

    @property
    def embedded(self) -> bool:
        """No Redis: this one process is also the worker."""
        return self.redis_url is None


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = err["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{str(err['loc'][0]).upper()}: {message}" if err["loc"] else message) from None

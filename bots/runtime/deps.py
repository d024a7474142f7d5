"""Everything a running process shares: database, coordination, channels, config and clock."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from core.clock import Clock
from core.config import Deployment
from core.coordination import Coordinator, Limit
from core.messages import Inbound
from core.settings import Settings


class Channel(Protocol):
    """What the runtime needs from a messaging platform adapter."""

    name: str

    def parse(self, payload: dict) -> Inbound | None: ...
    async def fetch_media(self, file_id: str) -> bytes: ...
    async def send(self, payload: dict, photo: bytes | None, target: tuple[str, dict] | None = None) -> str | None:
        """Send, or with `target` (message id, original payload) edit that message in place."""
    def limits(self, payload: dict) -> list[Limit]: ...


@dataclass
class Deps:
    settings: Settings
    config: Deployment
    engine: AsyncEngine
    sessions: async_sessionmaker
    coord: Coordinator
    clock: Clock
    channels: dict[str, Channel] = field(default_factory=dict)

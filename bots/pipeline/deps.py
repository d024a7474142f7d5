"""Everything a running process shares: database, coordination, channels, config and clock."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.channel import Channel
from core.clock import Clock
from core.config import Deployment
from core.coordination import Coordinator
from core.messages import Address, Inbound
from core.settings import Settings


@dataclass(frozen=True)
class Handlers:
    """What the pipeline runs, handed in by the composition root (bots/services/wiring.py): the machinery
    never imports the services it drives."""

    apply: Callable[[Deps, int, Inbound | None], Awaitable[bool]]  # one inbox event; False if already done
    parsers: Mapping[str, Callable[[dict], Inbound]]  # pseudo-channels no adapter writes: timers, dashboard actions
    plan_calendar: Callable[[AsyncSession, Deployment, datetime], Awaitable[None]]  # the daily and periodic timers


@dataclass
class Deps:
    settings: Settings
    config: Deployment
    engine: AsyncEngine
    sessions: async_sessionmaker
    coord: Coordinator
    clock: Clock
    channels: dict[str, Channel] = field(default_factory=dict)
    secret_key: bytes = b""  # signs web-chat identities and other server-issued tokens (core/signing.py)
    handlers: Handlers | None = None  # set by the composition root; a process that only serves pages has none
    intake_writes: Any = None  # bots/pipeline/group_commit.GroupCommit, made on first delivery (intake.writes_of)
    intake_gate: Any = None  # bots/pipeline/intake_gate.IntakeGate: the embedded web's worker child yields to intake

    def is_group(self, to: Address) -> bool:
        """The channel adapter's answer; a channel that is off (or never had groups) has none."""
        channel = self.channels.get(to.channel)
        return bool(channel is not None and channel.is_group(to.id))

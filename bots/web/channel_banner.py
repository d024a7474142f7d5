"""The dashboard's channel banner: which chat channel is not delivering, for which cases, and what to do;
and which agencies no chat reaches at all, with the phone number to call instead."""
from __future__ import annotations

from dataclasses import dataclass

from bots.pipeline.deps import Deps
from core import channel_health
from core.config import Agency
from workflows.crew_reach import unreached


@dataclass(frozen=True)
class Problem:
    """One banner entry: a channel in trouble (`health`), or the agencies to phone (`agencies`)."""

    health: channel_health.ChannelHealth | None = None
    agencies: tuple[Agency, ...] = ()
    window: int = 0  # minutes dead letters are counted over

    @property
    def minutes(self) -> int:
        seconds = self.health.oldest_stuck_seconds if self.health else None
        return (seconds or 0) // 60


async def problems(deps: Deps) -> list[Problem]:
    """What the banner shows (nothing when every channel delivers and every agency has a chat)."""
    configured = [name for name in deps.channels if name in channel_health.CHAT_CHANNELS]
    async with deps.sessions() as session:
        health = await channel_health.observe(session, deps.clock.now(), configured, deps.config.channel_health)
    window = int(deps.config.channel_health.dead_letter_minutes)
    found = [Problem(health=h, window=window) for h in health.values() if h.state != "ok"]
    live = frozenset(name for name in configured if health[name].up)
    codes = unreached(deps.config, [a.code for a in deps.config.agencies], live)
    if codes:
        found.append(Problem(agencies=tuple(a for a in deps.config.agencies if a.code in codes)))
    return found

"""The chat channels that can carry a crew's task right now: configured in this process and not down."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bots.pipeline.deps import Deps
from core import channel_health


async def live_channels(deps: Deps, session: AsyncSession) -> frozenset[str]:
    """Telegram or WhatsApp without a token, or with one the platform refuses, reach no crew."""
    configured = [name for name in deps.channels if name in channel_health.CHAT_CHANNELS]
    health = await channel_health.observe(session, deps.clock.now(), configured, deps.config.channel_health)
    return frozenset(name for name in configured if health[name].up)

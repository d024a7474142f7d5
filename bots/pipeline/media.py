"""Fetch a photo the reporter sent, check it with Pillow and keep both copies; runs outside the transaction."""
from __future__ import annotations

import dataclasses

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bots.pipeline.cpu import run_cpu
from bots.pipeline.deps import Deps
from core.messages import Inbound, MediaRef
from core.models import Media
from core.photos import Photo, inspect_photo
from core.sending import MediaGone

log = structlog.get_logger()


async def attach_media(deps: Deps, channel, event: Inbound) -> Inbound:
    """Return the event with `media.media_id` set, or `media.problem` saying why the file is refused."""
    ref = event.media
    max_bytes = int(deps.config.limits.max_photo_mb * 1024 * 1024)
    if ref.size is not None and ref.size > max_bytes:
        return _with(event, problem="too_large")
    try:
        data = await channel.fetch_media(ref.file_id)
    except MediaGone:
        log.info("photo_unavailable")
        return _with(event, problem="unreadable")
    result = await run_cpu(inspect_photo, data, max_bytes=max_bytes)  # decoding is CPU work: off the loop
    if not isinstance(result, Photo):
        log.info("photo_refused", reason=result.reason, detail=result.detail)
        return _with(event, problem=result.reason)
    return _with(event, media_id=await store_photo(deps, result))


async def store_photo(deps: Deps, photo: Photo) -> int:
    """Save the photo once per content hash, so a re-delivered update reuses the same row."""
    for _ in range(2):
        try:
            async with deps.sessions() as session, session.begin():
                existing = (await session.execute(select(Media.id).where(Media.sha256 == photo.sha256))).scalar()
                if existing is not None:
                    return existing
                media = Media(sha256=photo.sha256, mime=photo.mime, size=len(photo.original), width=photo.width,
                              height=photo.height, original=photo.original, clean=photo.clean,
                              created_at=deps.clock.now())
                session.add(media)
                await session.flush()
                return media.id
        except IntegrityError:
            continue  # another process stored the same photo a moment ago: read its row
    raise RuntimeError("photo could not be stored")


def _with(event: Inbound, **changes) -> Inbound:
    return dataclasses.replace(event, media=dataclasses.replace(event.media or MediaRef(""), **changes))

"""Send outbox messages under the shared rate limits, honouring retry_after and parking hopeless ones."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog

from bots.pipeline.deps import Deps
from bots.pipeline.metrics import MESSAGES_DEAD, MESSAGES_SENT, SEND_FAILURES, SEND_RETRIES
from core import outbox
from core import outbox_lists as lists
from core.failure import scrubbed
from core.messages import Address, Outbound
from core.models import Case, CaseEvent, Conversation, Media, OutboxItem
from core.sending import AuthRevoked, RetryLater, ServerError, Undeliverable
from workflows import batch_card

log = structlog.get_logger()
WINDOW = timedelta(hours=23, minutes=55)
# Longer waits for the shared limits are written back to the outbox; shorter ones are waited out in memory
# (bench/peer.py: putting back every refused message cost 86 % of the sender's database work).
HOLD = 1.0
# A revoked token fails every message alike: the channel is paused this long, and its messages wait (not counted
# as attempts) for the renewed token instead of going to the dead letters; core/channel_health.py shows it.
AUTH_PAUSE = 60.0


class Sender:
    def __init__(self, deps: Deps, batch: int = 20) -> None:
        self.deps = deps
        self.batch = batch
        self.paused: dict[str, float] = {}  # channel → monotonic time until which a refused token is not retried

    async def run_once(self) -> int:
        """Claim the next message of each lane (one per group) and send them concurrently; how many were claimed."""
        async with self.deps.sessions() as session, session.begin():
            items = await outbox.claim(session, self.deps.clock.now(), self.batch)
        await asyncio.gather(*(self.send(item) for item in items))
        return len(items)

    async def idle_for(self, ceiling: float) -> float:
        """Seconds until the next postponed message is due, so a rate-limited send is not late by a poll."""
        async with self.deps.sessions() as session:
            due = await outbox.next_due(session)
        if due is None:
            return ceiling
        return min(ceiling, max(0.0, (due - self.deps.clock.now()).total_seconds()))

    async def send(self, item: OutboxItem) -> None:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(channel=item.channel, outbox_id=item.id)
        channel = self.deps.channels.get(item.channel)
        if channel is None:
            await self._dead(item, f"channel {item.channel} is not configured")
            return
        try:
            message = outbox.message_of(item)
        except (KeyError, TypeError, ValueError) as exc:  # a row no version of Outbound could have written
            await self._dead(item, f"unreadable message: {type(exc).__name__}")
            return
        if (paused := self.paused.get(item.channel, 0.0) - asyncio.get_running_loop().time()) > 0:
            await self._postpone(item, paused, "auth_revoked: channel paused", count=False)
            return
        version = 0  # an edit of a list of waiting cards: the version of its lines this send shows
        if item.edit_of and item.group_chat is not None:
            if (relisted := await self._relisted(item, message)) is None:
                return
            message, version = relisted
        wait = await self.deps.coord.take(channel.limits(message))
        while 0 < wait <= HOLD:  # a slot within a second: wait for it here rather than write a postponement
            await asyncio.sleep(wait)
            wait = await self.deps.coord.take(channel.limits(message))
        if wait > 0:
            SEND_RETRIES.labels(item.channel, "own_limit").inc()
            await self._postpone(item, wait, None, count=False)
            return
        if (folded := await self._folded(item, message)) is not None:
            item, message = folded
        target = None
        if item.edit_of:
            async with self.deps.sessions() as session:
                found, original = await outbox.edit_target(session, message.edit_of)  # a list's, for a folded card
            if found == "waiting":
                await self._postpone(item, 1.0, None, count=False)
                return
            if found == "gone":
                await self._dead(item, "the message to edit was never delivered")
                return
            target = (original.platform_message_id, outbox.message_of(original))
        window_open = await self._window_open(message.to) if channel.needs_window else True
        keeper = asyncio.create_task(self._hold(item))
        try:
            photo = None if target else await self._photo(message.photo_media_id)
            message_id = await channel.send(message, photo, target, window_open=window_open)
        except RetryLater as exc:
            SEND_RETRIES.labels(item.channel, "retry_after").inc()
            log.info("send_retry_after", after=exc.after)
            await self._postpone(item, exc.after, str(exc), count=False)
            return
        except AuthRevoked as exc:
            SEND_FAILURES.labels(item.channel, "auth_revoked").inc()
            self.paused[item.channel] = asyncio.get_running_loop().time() + AUTH_PAUSE
            log.error("channel_auth_revoked", detail=str(exc), action="renew the channel's token")
            await self._postpone(item, AUTH_PAUSE, f"auth_revoked: {exc}", count=False)
            return
        except ServerError as exc:
            SEND_FAILURES.labels(item.channel, "server_error").inc()
            log.warning("send_server_error", detail=str(exc))
            await self._postpone(item, min(2 ** (item.attempts + 1), 300), f"server_error: {exc}", count=True)
            return
        except Undeliverable as exc:
            SEND_FAILURES.labels(item.channel, "undeliverable").inc()
            await self._dead(item, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - network trouble: back off and try again
            SEND_RETRIES.labels(item.channel, "error").inc()
            SEND_FAILURES.labels(item.channel, "network").inc()
            log.warning("send_failed", error=type(exc).__name__, detail=scrubbed(exc))
            await self._postpone(item, min(2 ** (item.attempts + 1), 300), f"{type(exc).__name__}: {exc}", count=True)
            return
        finally:
            keeper.cancel()
        async with self.deps.sessions() as session, session.begin():
            await outbox.mark_sent(session, item.id, message_id, self.deps.clock.now())
            if version and await lists.shown(session, message.edit_of, version):  # a racing edit landed first
                await outbox.enqueue(session, Outbound(to=message.to, edit_of=message.edit_of,
                                                       priority=message.priority), self.deps.clock.now(), group=True)
        MESSAGES_SENT.labels(item.channel).inc()

    async def _folded(self, item: OutboxItem, message: Outbound) -> tuple[OutboxItem, Outbound] | None:
        """A group's queue of new cards reached `surge.batch_after`: this slot carries one list of the most urgent
        waiting cards (up to `surge.batch_size`, this one first) instead of this card alone."""
        if item.group_chat is None or item.edit_of or not lists.is_card(item.ref):
            return None
        surge, now = self.deps.config.surge, self.deps.clock.now()
        async with self.deps.sessions() as session, session.begin():
            if await outbox.waiting_cards(session, item.channel, item.group_chat) < surge.batch_after:
                return None
            if (folded := await lists.fold(session, item.id, surge.batch_size, now)) is None:
                return None
            listed, lines = folded
            message = batch_card.list_message(message.to, lines, now, self.deps.config, priority=listed.priority,
                                              ref=listed.ref or "")
            lists.keep(listed, message, lines)
        log.info("cards_listed", lines=len(lines), list_id=listed.id)
        return listed, message

    async def _relisted(self, item: OutboxItem, message: Outbound) -> tuple[Outbound, int] | None:
        """An edit of a card folded into a list edits the list: the card's line replaced under the list row's lock,
        the whole list rendered again (minutes waiting as of now). Other edits pass unchanged (version 0).
        None: nothing to send now (the list is on its way, or the line shows no change)."""
        now, ref = self.deps.clock.now(), "" if lists.is_list(item.edit_of) else str(item.edit_of)
        async with self.deps.sessions() as session, session.begin():
            list_ref = str(item.edit_of)
            if ref:
                found, card = await outbox.edit_target(session, ref)
                if found != "batched" or card is None:
                    return message, 0
                list_ref = str(card.batch_ref)
            relisted = await lists.relist(session, list_ref, ref, text=message.line)
            if relisted is not None and relisted.row.status == "sent" and ref and not relisted.due:
                await outbox.mark_sent(session, item.id, None, now)  # the line already reads so: no edit needed
                return None
        if relisted is None:
            await self._dead(item, "the list to edit was never delivered")
            return None
        if relisted.row.status != "sent":
            await self._postpone(item, 1.0, None, count=False)
            return None
        return batch_card.list_message(lists.group_of(relisted.row), relisted.lines, now, self.deps.config,
                                       priority=message.priority, edit_of=list_ref), relisted.version

    async def _hold(self, item: OutboxItem) -> None:
        """Renew the lease every third of it while a slow send (a photo on a bad network) is in flight."""
        while True:
            await asyncio.sleep(outbox.LEASE.total_seconds() / 3)
            try:
                async with self.deps.sessions() as session, session.begin():
                    await outbox.renew(session, item.id, self.deps.clock.now())
            except Exception as exc:  # noqa: BLE001 - the database is away: the send itself decides what happens
                log.warning("lease_renewal_failed", error=type(exc).__name__)

    async def _window_open(self, to: Address) -> bool:
        """Whether the person wrote to us in the last 24 hours (a few minutes' margin for the send itself)."""
        async with self.deps.sessions() as session:
            conv = await session.get(Conversation, str(to))
        last = conv.last_inbound_at if conv is not None else None
        return last is not None and self.deps.clock.now() - last < WINDOW

    async def _photo(self, media_id: int | None) -> bytes | None:
        if media_id is None:
            return None
        async with self.deps.sessions() as session:
            media = await session.get(Media, media_id)
            return media.clean if media is not None else None

    async def _postpone(self, item: OutboxItem, seconds: float, error: str | None, count: bool) -> None:
        async with self.deps.sessions() as session, session.begin():
            until = self.deps.clock.now() + timedelta(seconds=seconds)
            status = await outbox.postpone(session, item.id, until, error, count_attempt=count)
        if status == "dead":
            MESSAGES_DEAD.labels(item.channel).inc()
            log.error("message_dead_letter", attempts=item.attempts + 1)

    async def _dead(self, item: OutboxItem, error: str) -> None:
        """Give up on the message; when it belongs to a case, the case's timeline says who was not reached."""
        async with self.deps.sessions() as session, session.begin():
            await outbox.mark_dead(session, item.id, error)
            if item.case_id is not None:
                case = await session.get(Case, item.case_id)
                session.add(CaseEvent(case_id=case.id, at=self.deps.clock.now(), actor="system",
                                      from_state=case.state, to_state=case.state,
                                      note=f"undeliverable:{item.channel}:{error[:200]}"))
        MESSAGES_DEAD.labels(item.channel).inc()
        log.warning("message_undeliverable", error=error[:200])

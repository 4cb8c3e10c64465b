"""The dispatcher: claims due outbox rows and delivers them through the platforms.

Invariants: a row marked sent is never sent again; a crash repeats at most the rows that
were in flight (state 'sending', put back to pending at start-up); failures become states
with reasons (a paused channel, a dead row), nothing is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot.clock import wait_until
from bot.delivery import rules
from bot.delivery.pacing import Pacer
from bot.errors import (
    ChatMigrated,
    ChatUnavailable,
    DeliveryError,
    NewsbriefError,
    RateLimited,
)
from bot.ports import Clock, Platform
from bot.store.sqlite import SqliteStore
from bot.types import Channel, ChatRef, Message, OutboxItem, Sent

log = logging.getLogger(__name__)

Composer = Callable[[OutboxItem, Channel], Awaitable[Message]]
SentHook = Callable[[OutboxItem, Channel, Message, Sent], Awaitable[None]]


class Dispatcher:
    """Delivers the outbox. ``run`` loops until cancelled; ``drain`` sends what is due now."""

    def __init__(
        self,
        store: SqliteStore,
        platforms: Mapping[str, Platform],
        clock: Clock,
        compose: Composer,
        *,
        on_sent: SentHook | None = None,
        max_in_flight: int = 16,
    ) -> None:
        self._store = store
        self._platforms = dict(platforms)
        self._clock = clock
        self._compose = compose
        self._on_sent = on_sent
        self._max = max_in_flight
        self._pacers = {name: Pacer(p.limits) for name, p in self._platforms.items()}
        self._slots = {
            name: asyncio.Semaphore(max(1, p.limits.concurrency))
            for name, p in self._platforms.items()
        }
        self._wake = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}

    def wake(self) -> None:
        """New rows were queued: look again now."""
        self._wake.set()

    async def recover(self) -> None:
        """Put rows a crash left in flight back to pending (they may repeat once)."""
        count = await self._store.recover_in_flight()
        if count:
            log.warning("%d post(s) were in flight at the last stop; sending them again", count)

    async def drain(self) -> int:
        """Send everything due now (and what becomes due while sending); return the number
        of rows handled. Rows held by a rate limit until later are left for ``run``."""
        handled = 0
        while True:
            started = await self._start_due()
            if not started and not self._in_flight:
                return handled
            handled += started
            await self._wait_one()

    async def run(self) -> None:
        """Deliver forever (until cancelled; the post in flight is finished first)."""
        try:
            while True:
                started = await self._start_due()
                if started or self._in_flight:
                    await self._wait_one(wake=True)
                else:
                    await self._idle()
        finally:
            await self._finish_in_flight()

    async def _start_due(self) -> int:
        free = self._max - len(self._in_flight)
        if free <= 0:
            return 0
        items = await self._store.claim_due(
            self._clock.now(), free, busy=self._in_flight, platforms=self._platforms
        )
        for item in items:
            self._in_flight[item.channel_id] = asyncio.create_task(self._deliver_shielded(item))
        return len(items)

    async def _wait_one(self, wake: bool = False) -> None:
        waiters: set[asyncio.Future[Any]] = set(self._in_flight.values())
        wake_task = asyncio.ensure_future(self._wake.wait()) if wake else None
        if wake_task is not None:
            waiters.add(wake_task)
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if wake_task is not None:
                wake_task.cancel()
        self._wake.clear()
        for channel_id, task in list(self._in_flight.items()):
            if task.done():
                del self._in_flight[channel_id]

    async def _idle(self) -> None:
        next_due = await self._store.next_outbox_due(self._platforms)
        await wait_until(self._clock, next_due, self._wake)

    async def _finish_in_flight(self) -> None:
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._in_flight.clear()

    async def _deliver_shielded(self, item: OutboxItem) -> None:
        # shielded so a shutdown lets the post in flight finish and be recorded
        task = asyncio.ensure_future(self._deliver(item))
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await task
            raise

    async def _deliver(self, item: OutboxItem) -> None:
        channel = await self._store.channel(item.channel_id)
        if channel is None:  # the FK makes this impossible; guard against hand edits
            await self._store.mark_dead(item.id, "channel no longer exists")
            return
        try:
            message = await self._compose(item, channel)
        except NewsbriefError as e:
            await self._store.mark_dead(item.id, f"cannot build the post: {e}")
            return
        await self._send(item, channel, message)

    async def _send(self, item: OutboxItem, channel: Channel, message: Message) -> None:
        platform = self._platforms[channel.ref.platform]
        slot = self._pacers[platform.name].reserve(channel.ref.chat_id, self._clock.now())
        await self._clock.sleep(slot - self._clock.now())
        try:
            async with self._slots[platform.name]:
                sent = await platform.send(channel.ref, message, item.nonce)
        except DeliveryError as e:
            await self._failed(item, channel, e)
            return
        except Exception as e:  # an adapter bug must not kill the dispatcher
            log.exception("adapter %s raised an unexpected error", platform.name)
            await self._failed(item, channel, DeliveryError(f"unexpected error: {e!r}"))
            return
        await self._store.mark_sent(item.id, sent.message_id, sent.poll_id, self._clock.now())
        if self._on_sent is not None:
            await self._on_sent(item, channel, message, sent)

    async def _failed(self, item: OutboxItem, channel: Channel, error: DeliveryError) -> None:
        now = self._clock.now()
        if isinstance(error, RateLimited):
            await self._store.set_channel_not_before(channel.id, now + error.retry_after)
            await self._store.mark_retry(item.id, error.reason, now + error.retry_after, False)
        elif isinstance(error, ChatMigrated):
            await self._store.move_channel(
                channel.ref, ChatRef(channel.ref.platform, error.new_chat_id)
            )
            await self._store.mark_retry(item.id, error.reason, now, False)
        elif isinstance(error, ChatUnavailable):
            log.warning("pausing %s: %s", channel.ref, error.reason)
            await self._store.set_channel_paused(channel.id, error.reason)
            await self._store.mark_retry(item.id, error.reason, now, False)
        else:
            await self._retry_or_bury(item, error.reason, now)
        self.wake()

    async def _retry_or_bury(self, item: OutboxItem, reason: str, now: float) -> None:
        attempts = item.attempts + 1
        if rules.delivery_is_dead(attempts):
            log.error("post %d dead after %d attempts: %s", item.id, attempts, reason)
            await self._store.mark_dead(item.id, reason)
        else:
            await self._store.mark_retry(
                item.id, reason, now + rules.delivery_backoff(attempts), True
            )

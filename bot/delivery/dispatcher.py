"""The dispatcher: claims due outbox rows and delivers them through the platforms.

Invariants: a row marked sent is never sent again; a crash repeats at most the rows that
were in flight (state 'sending', put back to pending at start-up); every failure becomes a
state with a reason (a retry with its reason, a paused channel, a dead row), nothing is
dropped; a row the channel's rules say not to send ends skipped, with the reason. Building
the message, sending it and recording what it left behind are all inside one guard: no
error leaves a row in flight without a reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot import i18n
from bot.clock import IDLE, wait_until
from bot.delivery import rules
from bot.delivery.pacing import Pacer
from bot.errors import (
    ChatMigrated,
    ChatUnavailable,
    DeliveryError,
    RateLimited,
    StoreError,
    TransientDeliveryError,
)
from bot.metrics import Metrics, NoMetrics
from bot.ports import Clock, Platform
from bot.store.ports import Store
from bot.types import Channel, ChatRef, Delivered, Message, OutboxItem, Sent, Skip

log = logging.getLogger(__name__)

Composer = Callable[[OutboxItem, Channel], Awaitable[Message | Skip]]
Recorder = Callable[[Channel, Message, Sent, float], Delivered]
RECORD_ATTEMPTS = 5  # tries to record a sent row before leaving it to the restart
STORE_RETRY = 30.0  # seconds before claiming again after the store failed
RECORD_BACKOFF = 2.0  # seconds before the second try, doubled after each


def _plain(channel: Channel, message: Message, sent: Sent, now: float) -> Delivered:
    return Delivered(sent.message_id, sent.poll_id)


class Dispatcher:
    """Delivers the outbox. ``run`` loops until cancelled; ``drain`` sends what is due now."""

    def __init__(
        self,
        store: Store,
        platforms: Mapping[str, Platform],
        clock: Clock,
        compose: Composer,
        *,
        record: Recorder = _plain,
        on_delivered: Callable[[Delivered], None] = lambda delivered: None,
        wake: asyncio.Event | None = None,
        available: Callable[[str], bool] = lambda platform: True,
        metrics: Metrics | None = None,
        worker: str = "",
        look_every: float = IDLE,
        max_in_flight: int = 16,
    ) -> None:
        self._store = store
        self._worker = worker  # whose claims the rows in flight are
        self._look_every = look_every  # idle, look again at least this often
        self._metrics = metrics or NoMetrics()
        self._platforms = dict(platforms)
        self._clock = clock
        self._compose = compose
        self._record = record
        self._on_delivered = on_delivered
        self._max = max_in_flight
        self._pacers = {name: Pacer(p.limits) for name, p in self._platforms.items()}
        self._slots = {
            name: asyncio.Semaphore(max(1, p.limits.concurrency))
            for name, p in self._platforms.items()
        }
        self._wake = wake or asyncio.Event()
        self._available = available  # a platform whose connection is down gets nothing
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._deliveries: set[asyncio.Task[None]] = set()  # the shielded inner tasks

    def wake(self) -> None:
        """New rows were queued (or a platform came back): look again now."""
        self._wake.set()

    def abandon(self) -> None:
        """Stop waiting for the posts in flight (a shutdown out of time): their rows stay in
        flight and are sent again after the restart, the one repeat the outbox allows."""
        for task in self._deliveries:
            task.cancel()

    def _platforms_up(self) -> list[str]:
        return [name for name in self._platforms if self._available(name)]

    async def drain(self) -> int:
        """Send everything due now (and what becomes due while sending); return the number
        of rows handled. Rows held by a rate limit until later are left for ``run``."""
        handled = 0
        try:
            while True:
                started = await self._start_due()
                if not started and not self._in_flight:
                    return handled
                handled += started
                await self._wait_one()
        finally:
            await self._finish_in_flight()

    async def run(self) -> None:
        """Deliver forever (until cancelled; the posts in flight are finished first)."""
        try:
            while True:
                try:
                    await self._step()
                except StoreError as e:  # a locked or failing database: try again shortly
                    log.warning("claiming posts failed (%s); trying again shortly", e)
                    await wait_until(self._clock, self._clock.now() + STORE_RETRY, self._wake)
        finally:
            await self._finish_in_flight()

    async def _step(self) -> None:
        started = await self._start_due()
        if started or self._in_flight:
            await self._wait_one(wake=True)
        else:
            await self._idle()

    async def _start_due(self) -> int:
        free = self._max - len(self._in_flight)
        if free <= 0:
            return 0
        items = await self._store.outbox.claim_due(
            self._clock.now(),
            free,
            busy=self._in_flight,
            platforms=self._platforms_up(),
            owner=self._worker,
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
        next_due = await self._store.outbox.next_due(self._platforms_up())
        latest = self._clock.now() + self._look_every
        await wait_until(
            self._clock, latest if next_due is None else min(next_due, latest), self._wake
        )

    async def _finish_in_flight(self) -> None:
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._in_flight.clear()

    async def _deliver_shielded(self, item: OutboxItem) -> None:
        # shielded so a shutdown lets the post in flight finish and be recorded
        task = asyncio.ensure_future(self._deliver_logged(item))
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
            raise

    async def _deliver_logged(self, item: OutboxItem) -> None:
        try:
            await self._deliver(item)
        except StoreError as e:  # the store kept failing while recording the outcome
            log.error(
                "post %d: could not record its outcome (%s); it stays in flight and is "
                "retried after a restart",
                item.id,
                e,
            )
        except Exception:
            log.exception("post %d: unexpected error while recording its outcome", item.id)

    async def _deliver(self, item: OutboxItem) -> None:
        try:
            channel, message = await self._build(item)
        except Exception as e:
            await self._build_failed(item, e)
            return
        if isinstance(message, Skip):
            await self._retrying(lambda: self._store.outbox.mark_skipped(item.id, message.reason))
            return
        sent = await self._send(item, channel, message)
        if sent is not None:
            await self._record_sent(item, channel, message, sent)

    async def _build(self, item: OutboxItem) -> tuple[Channel, Message | Skip]:
        channel = await self._store.channels.get(item.channel_id)
        if channel is None:  # the FK makes this impossible; guard against hand edits
            raise StoreError(f"channel {item.channel_id} no longer exists")
        return channel, await self._compose(item, channel)

    async def _build_failed(self, item: OutboxItem, error: Exception) -> None:
        reason = f"cannot build the post: {_describe(error)}"
        if rules.build_failure_is_permanent(error):
            log.warning("post %d dead: %s", item.id, reason)
            await self._retrying(lambda: self._store.outbox.mark_dead(item.id, reason))
            return
        if not isinstance(error, StoreError):
            log.error("post %d: %s", item.id, reason, exc_info=error)
        await self._retrying(lambda: self._retry_or_bury(item, reason, self._clock.now()))
        self.wake()

    async def _send(self, item: OutboxItem, channel: Channel, message: Message) -> Sent | None:
        platform = self._platforms[channel.ref.platform]
        slot = self._pacers[platform.name].reserve(channel.ref.chat_id, self._clock.now())
        await self._clock.sleep(slot - self._clock.now())
        try:
            # in the channel's language: a renderer's own words (a story's "3 sources so
            # far") come from the core's catalogues
            async with self._slots[platform.name]:
                with i18n.using(i18n.channel_locale(channel)):
                    sent = await platform.send(channel.ref, message, item.nonce)
        except DeliveryError as e:
            self._count_send(platform.name, e)
            await self._failed(item, channel, e)
        except Exception as e:  # an adapter bug must not kill the dispatcher
            log.exception("adapter %s raised an unexpected error", platform.name)
            await self._failed(item, channel, TransientDeliveryError(f"unexpected error: {e!r}"))
        else:
            self._count_send(platform.name, None)
            latency = max(0.0, self._clock.now() - item.created_at)
            self._metrics.observe("newsbrief_delivery_seconds", latency, platform=platform.name)
            return sent
        return None

    def _count_send(self, platform: str, error: DeliveryError | None) -> None:
        result = "ok" if error is None else type(error).__name__
        self._metrics.inc("newsbrief_sends_total", platform=platform, result=result)
        if isinstance(error, RateLimited):
            self._metrics.inc("newsbrief_rate_limited_total", platform=platform)

    async def _record_sent(
        self, item: OutboxItem, channel: Channel, message: Message, sent: Sent
    ) -> None:
        now = self._clock.now()
        try:
            delivered = self._record(channel, message, sent, now)
        except Exception as e:  # a bug in what follows a post: the post itself went out
            log.exception("post %d sent, but what follows it could not be worked out", item.id)
            note = f"sent, but what follows it failed: {_describe(e)}"
            delivered = Delivered(sent.message_id, sent.poll_id, note=note)
        await self._mark_sent(item, delivered, now)
        self._on_delivered(delivered)

    async def _mark_sent(self, item: OutboxItem, delivered: Delivered, now: float) -> None:
        """Record a sent row (never to be sent again while the process lives). A store that
        refuses what follows the post for good records the post alone, with the reason; a
        store that keeps failing is retried with backoff, then the row is left in flight."""
        try:
            await self._retrying(lambda: self._store.outbox.mark_sent(item.id, delivered, now))
            return
        except StoreError as e:
            if e.transient or (delivered.opens_poll is None and delivered.poll_id is None):
                raise
            log.error("post %d sent; what follows it could not be recorded: %s", item.id, e)
            note = f"sent, but what follows it could not be recorded: {e}"
        alone = Delivered(delivered.message_id, delivered.platform_poll_id, note=note)
        await self._retrying(lambda: self._store.outbox.mark_sent(item.id, alone, now))

    async def _retrying(self, write: Callable[[], Awaitable[None]]) -> None:
        """A store write, tried again with backoff while the store fails transiently.

        Raises:
            StoreError: a lasting failure, or the last of ``RECORD_ATTEMPTS`` transient ones.
        """
        wait = RECORD_BACKOFF
        for attempt in range(1, RECORD_ATTEMPTS + 1):
            try:
                await write()
                return
            except StoreError as e:
                if not e.transient or attempt == RECORD_ATTEMPTS:
                    raise
                log.warning("recording a post's outcome failed (%s); retrying", e)
            await self._clock.sleep(wait)
            wait *= 2

    async def _failed(self, item: OutboxItem, channel: Channel, error: DeliveryError) -> None:
        await self._retrying(lambda: self._record_failure(item, channel, error))
        self.wake()

    async def _record_failure(
        self, item: OutboxItem, channel: Channel, error: DeliveryError
    ) -> None:
        now = self._clock.now()
        outbox = self._store.outbox
        if isinstance(error, RateLimited):
            await self._store.channels.hold_until(channel.id, now + error.retry_after)
            await outbox.mark_retry(item.id, error.reason, now + error.retry_after, False)
        elif isinstance(error, ChatMigrated):
            await self._migrated(item, channel, error, now)
        elif isinstance(error, ChatUnavailable):
            log.warning("pausing %s: %s", channel.ref, error.reason)
            await self._store.channels.set_paused(channel.id, error.reason)
            await outbox.mark_retry(item.id, error.reason, now, False)
        else:
            await self._retry_or_bury(item, error.reason, now)

    async def _migrated(
        self, item: OutboxItem, channel: Channel, error: ChatMigrated, now: float
    ) -> None:
        new = ChatRef(channel.ref.platform, error.new_chat_id, channel.ref.thread)
        moved = await self._store.channels.move(channel.ref, new)
        there = None if moved else await self._store.channels.by_ref(new)
        if there is not None and there.id != channel.id:
            reason = f"{error.reason}, which is configured as another channel"
            log.warning("pausing %s: %s", channel.ref, reason)
            await self._store.channels.set_paused(channel.id, reason)
        await self._store.outbox.mark_retry(item.id, error.reason, now, False)

    async def _retry_or_bury(self, item: OutboxItem, reason: str, now: float) -> None:
        attempts = item.attempts + 1
        if rules.delivery_is_dead(attempts):
            log.error("post %d dead after %d attempts: %s", item.id, attempts, reason)
            await self._store.outbox.mark_dead(item.id, reason)
        else:
            await self._store.outbox.mark_retry(
                item.id, reason, now + rules.delivery_backoff(attempts), True
            )


async def stop_delivering(dispatcher: Dispatcher, task: asyncio.Future[None], grace: float) -> None:
    """Cancel ``task`` (the dispatcher's loop, or a pass that delivers), giving the posts in
    flight ``grace`` seconds (wall time) to finish; past that they are abandoned, to be
    sent again after the restart."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        log.warning("shutdown took longer than %.0fs; leaving the rest to the restart", grace)
        dispatcher.abandon()
        await asyncio.wait({task})


def _describe(error: BaseException) -> str:
    text = str(error)
    return text if text and not isinstance(error, KeyError) else f"{type(error).__name__}: {text}"

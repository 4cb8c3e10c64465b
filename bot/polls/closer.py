"""Closing reader polls at their close time on every platform they run on, then queueing
the results once per chat. The schedule lives in the store, so a restart catches up."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.clock import wait_until
from bot.errors import DeliveryError, StoreError
from bot.polls.lifecycle import Polls
from bot.ports import Clock, Platform
from bot.store.ports import Store
from bot.types import Channel, OutboxKind, PlatformPoll

log = logging.getLogger(__name__)

STORE_RETRY = 30.0  # seconds before trying again after the store failed


class PollCloser:
    """Closes due polls on the platforms and queues their results."""

    def __init__(
        self,
        store: Store,
        polls: Polls,
        platforms: Mapping[str, Platform],
        clock: Clock,
    ) -> None:
        self._store = store
        self._polls = polls
        self._platforms = dict(platforms)
        self._clock = clock

    async def run(self) -> None:
        """Close polls as they fall due, until cancelled; a failing store is retried."""
        while True:
            try:
                await self.close_due()
                next_close = await self._store.polls.next_close()
            except StoreError as e:
                log.warning("closing polls failed (%s); trying again shortly", e)
                next_close = self._clock.now() + STORE_RETRY
            await wait_until(self._clock, next_close, self._polls.changed)

    async def close_due(self) -> int:
        """Close every poll past its close time on every platform, then queue the results
        once per chat. Returns the number of polls closed."""
        closed = 0
        for poll_id in await self._store.polls.due(self._clock.now()):
            await self._close_everywhere(poll_id)
            if await self._store.polls.mark_closed(poll_id, self._clock.now()):
                closed += 1
                await self._queue_results(poll_id)
        return closed

    async def _close_everywhere(self, poll_id: int) -> None:
        for platform_poll in await self._store.polls.platform_polls(poll_id):
            if platform_poll.closed:
                continue
            channel = await self._store.channels.get(platform_poll.channel_id)
            platform = self._platforms.get(platform_poll.platform)
            if channel is None or platform is None:
                log.warning(
                    "%s poll %s not closed there: no adapter running",
                    platform_poll.platform,
                    platform_poll.platform_poll_id,
                )
                await self._store.polls.mark_platform_poll_closed(platform_poll.id)
                continue
            await self._close_one(platform, channel, platform_poll)

    async def _close_one(
        self, platform: Platform, channel: Channel, platform_poll: PlatformPoll
    ) -> None:
        try:
            final = await platform.close_poll(channel.ref, platform_poll.message_id)
        except DeliveryError as e:
            log.warning(
                "closing poll in %s failed (%s); closing with what was recorded",
                channel.ref,
                e.reason,
            )
            final = None
        except Exception:  # an adapter bug must not stop the closing of other polls
            log.exception("closing poll in %s failed; closing with what was recorded", channel.ref)
            final = None
        if final is not None:
            await self._store.polls.set_counts(platform_poll.id, tuple(final), final=True)
        await self._store.polls.mark_platform_poll_closed(platform_poll.id)

    async def _queue_results(self, poll_id: int) -> None:
        for platform_poll in await self._store.polls.platform_polls(poll_id):
            await self._polls.queue(platform_poll.channel_id, OutboxKind.RESULTS, poll_id)

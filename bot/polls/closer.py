"""Closing reader polls at their close time on every platform they run on, then queueing
the results once per chat. The schedule lives in the store, so a restart catches up."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from bot.clock import wait_until
from bot.errors import DeliveryError, StoreError
from bot.polls.lifecycle import Polls
from bot.ports import Clock, Platform
from bot.store.ports import Store
from bot.types import Channel, OutboxKind, PlatformPoll

log = logging.getLogger(__name__)

RETRY = 30.0  # seconds before looking again at polls that could not all be closed


class PollCloser:
    """Closes due polls on the platforms and queues their results."""

    def __init__(
        self,
        store: Store,
        polls: Polls,
        platforms: Mapping[str, Platform],
        clock: Clock,
        *,
        delivers: Callable[[str], bool] = lambda platform: True,
        serves: Callable[[str], bool] = lambda platform: True,
    ) -> None:
        self._store = store
        self._polls = polls
        self._platforms = dict(platforms)
        self._clock = clock
        self._delivers = delivers  # this worker closes the platform's polls now
        self._serves = serves  # some worker may (else: closed with what was recorded)

    async def run(self) -> None:
        """Close polls as they fall due, until cancelled; a failing store is retried, and a
        poll waiting for another worker's platform is looked at again shortly."""
        while True:
            try:
                waiting = await self._close_all_due()
                next_close = await self._store.polls.next_close()
            except StoreError as e:
                log.warning("closing polls failed (%s); trying again shortly", e)
                waiting, next_close = True, None
            if waiting:
                next_close = self._clock.now() + RETRY
            await wait_until(self._clock, next_close, self._polls.changed)

    async def close_due(self) -> int:
        """Close every poll past its close time on every platform this worker delivers
        for, then queue the results once per chat (once every platform poll is closed).
        Returns the number of polls closed."""
        closed = 0
        for poll_id in await self._store.polls.due(self._clock.now()):
            if await self._close_everywhere(poll_id) and await self._finish(poll_id):
                closed += 1
        return closed

    async def _close_all_due(self) -> bool:
        """Close what is due; True if a due poll still waits for another worker."""
        await self.close_due()
        return bool(await self._store.polls.due(self._clock.now()))

    async def _finish(self, poll_id: int) -> bool:
        if not await self._store.polls.mark_closed(poll_id, self._clock.now()):
            return False
        await self._queue_results(poll_id)
        return True

    async def _close_everywhere(self, poll_id: int) -> bool:
        """Close the poll's platform polls this worker can; True when none is left open."""
        done = True
        for platform_poll in await self._store.polls.platform_polls(poll_id):
            if not platform_poll.closed:
                done &= await self._close_here(platform_poll)
        return done

    async def _close_here(self, platform_poll: PlatformPoll) -> bool:
        name = platform_poll.platform
        channel = await self._store.channels.get(platform_poll.channel_id)
        platform = self._platforms.get(name)
        if channel is None or platform is None or not self._serves(name):
            log.warning(
                "%s poll %s closed with what was recorded: no adapter can close it",
                name,
                platform_poll.platform_poll_id,
            )
            await self._store.polls.mark_platform_poll_closed(platform_poll.id)
            return True
        if not self._delivers(name):
            return False  # the worker delivering for that platform closes it
        await self._close_one(platform, channel, platform_poll)
        return True

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

"""Queueing each digest channel's digest at its slots. When a slot is due is
:func:`bot.digests.rules.due_slot`'s decision; the last slot decided is kept on the channel,
so a restart owes one digest for the slots it slept through, not one for each."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.clock import wait_until
from bot.digests import rules
from bot.errors import ConfigError, StoreError
from bot.ports import Clock
from bot.store.ports import Store
from bot.types import Channel

log = logging.getLogger(__name__)

RETRY = 30.0  # seconds before looking again after the store failed


def schedule_of(channel: Channel) -> tuple[rules.Rule, ...]:
    """A channel's digest rules; none (and a warning) for a schedule that no longer parses
    (the config validated it, so only a hand edit of the store gets here)."""
    try:
        return rules.parse_schedule(channel.options.digest)
    except ConfigError as e:
        log.warning("channel %s: digest ignored: %s", channel.ref, e)
        return ()


class DigestScheduler:
    """Queues due digests; ``run`` sleeps until the next slot of any channel."""

    def __init__(
        self, store: Store, clock: Clock, *, on_queued: Callable[[], None] = lambda: None
    ) -> None:
        self._store = store
        self._clock = clock
        self._on_queued = on_queued  # wakes the dispatcher
        self.changed = asyncio.Event()  # set to look again now

    async def queue_due(self) -> int:
        """Queue the digest each channel is owed now (at most one per channel); returns
        how many were queued. A channel with nothing held has its slot passed, quietly."""
        now = self._clock.now()
        queued = 0
        for channel in await self._store.channels.all():
            slot = rules.due_slot(schedule_of(channel), channel.digest_last, now)
            if slot is not None and await self._store.outbox.queue_digest(channel.id, slot, now):
                log.info("digest of %s queued for its %s slot", channel.ref, slot)
                queued += 1
        if queued:
            self._on_queued()
        return queued

    async def next_slot(self) -> float | None:
        """When the next slot of any digest channel comes; None when no channel has one."""
        now = self._clock.now()
        slots = [rules.next_slot(schedule_of(c), now) for c in await self._store.channels.all()]
        return min((s for s in slots if s is not None), default=None)

    async def run(self) -> None:
        """Queue digests as their slots come, until cancelled; a failing store is retried."""
        while True:
            try:
                await self.queue_due()
                when = await self.next_slot()
            except StoreError as e:
                log.warning("queueing digests failed (%s); trying again shortly", e)
                when = self._clock.now() + RETRY
            await wait_until(self._clock, when, self.changed)

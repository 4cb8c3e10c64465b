"""The ingest scheduler: each feed is fetched when it is due."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.clock import wait_until
from bot.errors import StoreError
from bot.ingest.pipeline import Ingestor
from bot.ports import Clock
from bot.store.ports import FeedStore

log = logging.getLogger(__name__)

MIN_PAUSE = 1.0  # seconds between passes, so a feed due "now" cannot spin the loop
STORE_RETRY = 30.0  # seconds before trying again after the store failed


class IngestScheduler:
    """Runs an ingest pass whenever a feed is due, or at once when the feeds change."""

    def __init__(
        self,
        ingestor: Ingestor,
        feeds: FeedStore,
        clock: Clock,
        *,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._ingestor = ingestor
        self._feeds = feeds
        self._clock = clock
        self._on_queued = on_queued  # wakes the dispatcher
        self.feeds_changed = asyncio.Event()

    async def run(self) -> None:
        """Ingest due feeds until cancelled."""
        while True:
            try:
                when = await self._pass()
            except StoreError as e:  # a locked or failing database: the next pass may do
                log.warning("ingest pass failed (%s); trying again shortly", e)
                when = self._clock.now() + STORE_RETRY
            await wait_until(self._clock, when, self.feeds_changed)

    async def _pass(self) -> float | None:
        counts = await self._ingestor.run(only_due=True)
        if counts.queued_posts:
            self._on_queued()
        next_due = await self._feeds.next_due()
        return None if next_due is None else max(next_due, self._clock.now() + MIN_PAUSE)

"""The ingest scheduler: each feed is fetched when it is due."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.clock import wait_until
from bot.ingest.pipeline import Ingestor
from bot.ports import Clock
from bot.store.ports import FeedStore

MIN_PAUSE = 1.0  # seconds between passes, so a feed due "now" cannot spin the loop


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
            counts = await self._ingestor.run(only_due=True)
            if counts.queued_posts:
                self._on_queued()
            next_due = await self._feeds.next_due()
            when = None if next_due is None else max(next_due, self._clock.now() + MIN_PAUSE)
            await wait_until(self._clock, when, self.feeds_changed)

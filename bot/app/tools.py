"""The composition root of a one-shot command (``ingest``, ``summary``, ``stories``,
``feeds ...``, ``summarize``): the resources every command runs on, and only the parts the
command asks for, each built (and its modules imported) when first asked.

``newsbrief ingest`` so never loads the chat service, polls, digests, the dispatcher, the
console adapter or a summarizer, and starts about as fast as the fetcher's own imports
allow. The parts are built as ``Runtime.build`` builds them, from the same settings; no
chat adapter is connected and no outbox row in flight is taken over (a running bot may own
it). ``preview`` and ``discord sync`` need the whole of newsbrief and build the full root.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.app.resources import open_resources, open_summarizer
from bot.app.settings import Settings
from bot.clock import SystemClock
from bot.metrics import NoMetrics
from bot.ports import Clock, Fetcher
from bot.store.ports import Store

if TYPE_CHECKING:
    from bot.chat.service import Service
    from bot.ingest.pipeline import Ingestor, ProgressCallback
    from bot.types import IngestCounts
    from summarizer.base import Summarizer


@dataclass
class Tools:
    """The store, the fetcher and the clock, and the parts a command builds on demand."""

    settings: Settings
    clock: Clock
    store: Store
    fetcher: Fetcher
    _stack: AsyncExitStack
    _summarizer: Summarizer | None = field(default=None, init=False)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, settings: Settings, *, clock: Clock | None = None, fetcher: Fetcher | None = None
    ) -> AsyncIterator[Tools]:
        """Open the resources (config applied to the store), and close them on exit.

        Raises:
            ConfigError: the config file is invalid.
            StoreError: the database cannot be opened.
        """
        clock = clock or SystemClock()
        async with AsyncExitStack() as stack:
            res = await open_resources(stack, settings, clock, fetcher)
            yield cls(settings, clock, res.store, res.fetcher, stack)

    def ingestor(self) -> Ingestor:
        """Ingest over the store and the fetcher, as this worker."""
        from bot.ingest.pipeline import Ingestor
        from bot.workers import worker_name

        ingestor = Ingestor(self.store, self.fetcher, self.clock, worker=worker_name())
        self._stack.callback(ingestor.close)
        return ingestor

    async def ingest(self, progress: ProgressCallback | None = None) -> IngestCounts:
        """One ingest pass over every active feed (as ``Runtime.ingest``)."""
        return await self.ingestor().run(only_due=False, progress=progress)

    def summarizer(self) -> Summarizer:
        """The summarizer the settings ask for, made once and closed with the tools."""
        if self._summarizer is None:
            self._summarizer = open_summarizer(self._stack, self.settings, self.clock, NoMetrics())
        return self._summarizer

    def service(self) -> Service:
        """The chat service (what ``/summary`` answers), with its summaries and polls."""
        from bot.chat.service import Service
        from bot.polls.lifecycle import Polls
        from bot.summaries import Summaries

        summaries = Summaries(self.store.summaries, self.summarizer(), self.clock)
        polls = Polls(self.store, self.clock)
        return Service(self.store, summaries, polls, self.fetcher, self.clock)

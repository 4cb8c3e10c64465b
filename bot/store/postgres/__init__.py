"""The PostgreSQL store: the store port on one database, for operators who outgrow one
machine; one module per topic sharing one :class:`~bot.store.postgres.db.PgDatabase`."""

from __future__ import annotations

from bot.store.postgres.articles import PgArticles
from bot.store.postgres.channels import PgChannels
from bot.store.postgres.db import PgDatabase
from bot.store.postgres.feeds import PgFeeds
from bot.store.postgres.outbox import PgOutbox
from bot.store.postgres.polls import PgPolls
from bot.store.postgres.stories import PgStories
from bot.store.postgres.summaries import PgSummaryCache
from bot.store.postgres.tables import PgTables
from bot.store.postgres.workers import AdvisoryLocks, PgChanges, PgWorkers

__all__ = ["PostgresStore"]


class PostgresStore:
    """Implements :class:`bot.store.ports.Store` on one PostgreSQL database."""

    def __init__(self, db: PgDatabase) -> None:
        self.db = db
        self.feeds = PgFeeds(db)
        self.articles = PgArticles(db)
        self.channels = PgChannels(db)
        self.outbox = PgOutbox(db)
        self.polls = PgPolls(db)
        self.tables = PgTables(db)
        self.stories = PgStories(db)
        self.summaries = PgSummaryCache(db)
        self.workers = PgWorkers(db)
        self.locks = AdvisoryLocks(db.url)
        self.changes = PgChanges(db.url)
        self.shared = True  # any number of workers may share one PostgreSQL database

    @classmethod
    async def open(cls, url: str) -> PostgresStore:
        """Connect to the database at ``url`` (``postgresql://...``) and migrate it.

        Raises:
            StoreError: the server cannot be reached or the schema cannot be migrated.
        """
        return cls(await PgDatabase.open(url))

    async def close(self) -> None:
        """Close the connections once the work in progress is done (locks released)."""
        await self.changes.close()
        await self.locks.close()
        await self.db.close()

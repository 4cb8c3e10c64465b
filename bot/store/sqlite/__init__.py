"""The SQLite store: the store port on one file, one module per topic sharing one
:class:`~bot.store.sqlite.db.Database`."""

from __future__ import annotations

from pathlib import Path

from bot.store.sqlite.articles import SqliteArticles
from bot.store.sqlite.channels import SqliteChannels
from bot.store.sqlite.db import Database
from bot.store.sqlite.feeds import SqliteFeeds
from bot.store.sqlite.outbox import SqliteOutbox
from bot.store.sqlite.polls import SqlitePolls
from bot.store.sqlite.stories import SqliteStories
from bot.store.sqlite.summaries import SqliteSummaryCache
from bot.store.sqlite.tables import SqliteTables
from bot.store.sqlite.workers import LocalLocks, NoChanges, SqliteWorkers

__all__ = ["SqliteStore"]


class SqliteStore:
    """Implements :class:`bot.store.ports.Store` on one SQLite file."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.feeds = SqliteFeeds(db)
        self.articles = SqliteArticles(db)
        self.channels = SqliteChannels(db)
        self.outbox = SqliteOutbox(db)
        self.polls = SqlitePolls(db)
        self.tables = SqliteTables(db)
        self.stories = SqliteStories(db)
        self.summaries = SqliteSummaryCache(db)
        self.workers = SqliteWorkers(db)
        self.locks = LocalLocks()
        self.changes = NoChanges()
        self.shared = False  # one process at a time uses a SQLite file

    @classmethod
    async def open(cls, path: Path | str) -> SqliteStore:
        """Open (creating if needed) and migrate the database at ``path``.

        Raises:
            StoreError: the file cannot be opened or migrated.
        """
        return cls(await Database.open(path))

    async def close(self) -> None:
        """Close the connections once the write in progress is done."""
        await self.locks.close()
        await self.db.close()

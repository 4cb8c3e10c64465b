"""The summary cache on SQLite."""

from __future__ import annotations

from bot.store.sqlite.db import Database


class SqliteSummaryCache:
    """Implements :class:`bot.store.ports.SummaryCache`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def article_summary(self, content_hash: str, summarizer: str) -> str | None:
        value = await self._db.fetch_value(
            "SELECT body FROM summaries WHERE content_hash = ? AND summarizer = ?",
            (content_hash, summarizer),
        )
        return str(value) if value is not None else None

    async def save_article_summary(
        self, content_hash: str, summarizer: str, body: str, now: float
    ) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO summaries (content_hash, summarizer, body, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (content_hash, summarizer, body, now),
            )

    async def topic_summary(self, key: str) -> str | None:
        value = await self._db.fetch_value(
            "SELECT body FROM topic_cache WHERE cache_key = ?", (key,)
        )
        return str(value) if value is not None else None

    async def save_topic_summary(self, key: str, body: str, now: float) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO topic_cache (cache_key, body, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (cache_key) DO UPDATE SET body = excluded.body",
                (key, body, now),
            )

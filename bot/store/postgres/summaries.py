"""The summary cache on PostgreSQL."""

from __future__ import annotations

from bot.store.postgres.db import PgDatabase


class PgSummaryCache:
    """Implements :class:`bot.store.ports.SummaryCache`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def article_summary(self, content_hash: str, summarizer: str) -> str | None:
        value = await self._db.fetch_value(
            "SELECT body FROM summaries WHERE content_hash = $1 AND summarizer = $2",
            (content_hash, summarizer),
        )
        return str(value) if value is not None else None

    async def save_article_summary(
        self, content_hash: str, summarizer: str, body: str, now: float
    ) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO summaries (content_hash, summarizer, body, created_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                content_hash,
                summarizer,
                body,
                now,
            )

    async def topic_summary(self, key: str) -> str | None:
        value = await self._db.fetch_value(
            "SELECT body FROM topic_cache WHERE cache_key = $1", (key,)
        )
        return str(value) if value is not None else None

    async def save_topic_summary(self, key: str, body: str, now: float) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO topic_cache (cache_key, body, created_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (cache_key) DO UPDATE SET body = excluded.body",
                key,
                body,
                now,
            )

"""Feeds on PostgreSQL."""

from __future__ import annotations

from bot.store.postgres.db import PgDatabase, Row, notify
from bot.types import Feed, FeedCounts, FeedOrigin

REMOVED = "removed"
COLUMNS = (
    "id, url, name, every, backfill, origin, title, etag, last_modified, next_due, failures, "
    "last_error, paused, last_ok_at, fetched_once"
)


def feed_of(row: Row) -> Feed:
    """A feed from a row of ``COLUMNS``."""
    return Feed(
        id=row["id"],
        url=row["url"],
        name=row["name"],
        every=row["every"],
        backfill=row["backfill"],
        origin=FeedOrigin(row["origin"]),
        title=row["title"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        next_due=row["next_due"],
        failures=row["failures"],
        last_error=row["last_error"],
        paused=row["paused"],
        last_ok_at=row["last_ok_at"],
        fetched_once=row["fetched_once"],
    )


class PgFeeds:
    """Implements :class:`bot.store.ports.FeedStore`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def upsert(
        self, url: str, *, name: str, origin: FeedOrigin, every: float, backfill: int, now: float
    ) -> Feed:
        async with self._db.transaction() as db:
            row = await db.fetchrow(
                "INSERT INTO feeds (url, name, origin, every, backfill, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (url) DO UPDATE SET "
                "name = excluded.name, every = excluded.every, backfill = excluded.backfill, "
                "paused = CASE WHEN feeds.last_error = $7 THEN FALSE ELSE feeds.paused END, "
                "origin = CASE WHEN feeds.origin = 'chat' "
                f"THEN excluded.origin ELSE feeds.origin END RETURNING {COLUMNS}",
                url,
                name,
                origin.value,
                every,
                backfill,
                now,
                REMOVED,
            )
            await notify(db, "feeds")
        return feed_of(row)

    async def get(self, feed_id: int) -> Feed | None:
        row = await self._db.fetch_one(f"SELECT {COLUMNS} FROM feeds WHERE id = $1", (feed_id,))
        return feed_of(row) if row else None

    async def by_url(self, url: str) -> Feed | None:
        row = await self._db.fetch_one(f"SELECT {COLUMNS} FROM feeds WHERE url = $1", (url,))
        return feed_of(row) if row else None

    async def all(self) -> list[Feed]:
        rows = await self._db.fetch_all(f"SELECT {COLUMNS} FROM feeds ORDER BY id")
        return [feed_of(r) for r in rows]

    async def active(self) -> list[Feed]:
        rows = await self._db.fetch_all(f"SELECT {COLUMNS} FROM feeds WHERE NOT paused ORDER BY id")
        return [feed_of(r) for r in rows]

    async def due(self, now: float) -> list[Feed]:
        rows = await self._db.fetch_all(
            f"SELECT {COLUMNS} FROM feeds WHERE NOT paused AND next_due <= $1 "
            "ORDER BY next_due, id",
            (now,),
        )
        return [feed_of(r) for r in rows]

    async def claim_due(self, now: float, owner: str, limit: int | None = None) -> list[Feed]:
        async with self._db.transaction() as db:
            rows = await db.fetch(
                "UPDATE feeds SET lease_owner = $1 WHERE id IN (SELECT id FROM feeds "
                "WHERE NOT paused AND lease_owner IS NULL AND next_due <= $2 "
                "ORDER BY next_due, id LIMIT $3 FOR UPDATE SKIP LOCKED) "
                f"RETURNING {COLUMNS}",
                owner,
                now,
                limit,
            )
        return sorted((feed_of(r) for r in rows), key=lambda f: (f.next_due, f.id))

    async def next_due(self) -> float | None:
        value = await self._db.fetch_value(
            "SELECT MIN(next_due) FROM feeds WHERE NOT paused AND lease_owner IS NULL"
        )
        return float(value) if value is not None else None

    async def counts(self) -> FeedCounts:
        row = await self._db.fetch_one("SELECT COUNT(*), COUNT(*) FILTER (WHERE paused) FROM feeds")
        return FeedCounts(total=row[0], paused=row[1]) if row else FeedCounts()

    async def remove(self, feed_id: int) -> None:
        async with self._db.transaction() as db:
            await db.execute("DELETE FROM subscriptions WHERE feed_id = $1", feed_id)
            await db.execute(
                "UPDATE feeds SET paused = TRUE, last_error = $1 WHERE id = $2", REMOVED, feed_id
            )

    async def set_paused(self, feed_id: int, paused: bool, reason: str | None) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE feeds SET paused = $1, last_error = $2, "
                "failures = CASE WHEN $1 THEN failures ELSE 0 END, "
                "next_due = CASE WHEN $1 THEN next_due ELSE 0 END WHERE id = $3",
                paused,
                reason,
                feed_id,
            )

    async def record_failure(
        self, feed_id: int, reason: str, *, next_due: float, pause: bool
    ) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE feeds SET failures = failures + 1, last_error = $1, next_due = $2, "
                "paused = $3, lease_owner = NULL WHERE id = $4",
                reason,
                next_due,
                pause,
                feed_id,
            )

    async def record_not_modified(self, feed_id: int, now: float, next_due: float) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE feeds SET failures = 0, last_error = NULL, last_ok_at = $1, "
                "next_due = $2, lease_owner = NULL WHERE id = $3",
                now,
                next_due,
                feed_id,
            )

"""Feeds on SQLite."""

from __future__ import annotations

from bot.store.sqlite.db import Database, Row
from bot.types import Feed, FeedCounts, FeedOrigin

REMOVED = "removed"
_COLUMNS = (
    "id, url, name, every, backfill, origin, title, etag, last_modified, next_due, failures, "
    "last_error, paused, last_ok_at, fetched_once"
)


def _feed(row: Row) -> Feed:
    return Feed(
        id=row[0],
        url=row[1],
        name=row[2],
        every=row[3],
        backfill=row[4],
        origin=FeedOrigin(row[5]),
        title=row[6],
        etag=row[7],
        last_modified=row[8],
        next_due=row[9],
        failures=row[10],
        last_error=row[11],
        paused=bool(row[12]),
        last_ok_at=row[13],
        fetched_once=bool(row[14]),
    )


class SqliteFeeds:
    """Implements :class:`bot.store.ports.FeedStore`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(
        self, url: str, *, name: str, origin: FeedOrigin, every: float, backfill: int, now: float
    ) -> Feed:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO feeds (url, name, origin, every, backfill, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "name = excluded.name, every = excluded.every, backfill = excluded.backfill, "
                "paused = CASE WHEN feeds.last_error = ? THEN 0 ELSE feeds.paused END, "
                "origin = CASE WHEN feeds.origin = 'chat' "
                "THEN excluded.origin ELSE feeds.origin END",
                (url, name, origin.value, every, backfill, now, REMOVED),
            )
        feed = await self.by_url(url)
        assert feed is not None  # just written
        return feed

    async def get(self, feed_id: int) -> Feed | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
        return _feed(row) if row else None

    async def by_url(self, url: str) -> Feed | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM feeds WHERE url = ?", (url,))
        return _feed(row) if row else None

    async def all(self) -> list[Feed]:
        rows = await self._db.fetch_all(f"SELECT {_COLUMNS} FROM feeds ORDER BY id")
        return [_feed(r) for r in rows]

    async def active(self) -> list[Feed]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM feeds WHERE paused = 0 ORDER BY id"
        )
        return [_feed(r) for r in rows]

    async def due(self, now: float) -> list[Feed]:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM feeds WHERE paused = 0 AND next_due <= ? "
            "ORDER BY next_due, id",
            (now,),
        )
        return [_feed(r) for r in rows]

    async def claim_due(self, now: float, owner: str, limit: int | None = None) -> list[Feed]:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE feeds SET lease_owner = ? WHERE id IN (SELECT id FROM feeds "
                "WHERE paused = 0 AND lease_owner IS NULL AND next_due <= ? "
                f"ORDER BY next_due, id LIMIT ?) RETURNING {_COLUMNS}",
                (owner, now, -1 if limit is None else limit),
            )
            rows = await cursor.fetchall()
        return sorted((_feed(r) for r in rows), key=lambda f: (f.next_due, f.id))

    async def next_due(self) -> float | None:
        value = await self._db.fetch_value(
            "SELECT MIN(next_due) FROM feeds WHERE paused = 0 AND lease_owner IS NULL"
        )
        return float(value) if value is not None else None

    async def counts(self) -> FeedCounts:
        row = await self._db.fetch_one("SELECT COUNT(*), COALESCE(SUM(paused), 0) FROM feeds")
        return FeedCounts(total=row[0], paused=row[1]) if row else FeedCounts()

    async def remove(self, feed_id: int) -> None:
        async with self._db.transaction() as db:
            await db.execute("DELETE FROM subscriptions WHERE feed_id = ?", (feed_id,))
            await db.execute(
                "UPDATE feeds SET paused = 1, last_error = ? WHERE id = ?", (REMOVED, feed_id)
            )

    async def set_paused(self, feed_id: int, paused: bool, reason: str | None) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE feeds SET paused = ?, last_error = ?, "
                "failures = CASE WHEN ? THEN failures ELSE 0 END, next_due = "
                "CASE WHEN ? THEN next_due ELSE 0 END WHERE id = ?",
                (int(paused), reason, int(paused), int(paused), feed_id),
            )

    async def record_failure(
        self, feed_id: int, reason: str, *, next_due: float, pause: bool
    ) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE feeds SET failures = failures + 1, last_error = ?, next_due = ?, "
                "paused = ?, lease_owner = NULL WHERE id = ?",
                (reason, next_due, int(pause), feed_id),
            )

    async def record_not_modified(self, feed_id: int, now: float, next_due: float) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE feeds SET failures = 0, last_error = NULL, last_ok_at = ?, next_due = ?, "
                "lease_owner = NULL WHERE id = ?",
                (now, next_due, feed_id),
            )

"""The SQLite store on aiosqlite: WAL, busy_timeout, foreign keys, one serialized writer.

Reads go through a second connection so a long write transaction never shows half its work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StoreError
from bot.store.sqlite.migrations import MIGRATIONS
from bot.types import (
    Article,
    Channel,
    ChatRef,
    Feed,
    FeedOrigin,
    NewArticle,
    OutboxItem,
    PollPolicy,
    Subscription,
)

_FEED_COLUMNS = (
    "id, url, name, every, backfill, origin, title, etag, last_modified, next_due, failures, "
    "last_error, paused, last_ok_at, fetched_once"
)
_ARTICLE_COLUMNS = (
    "a.id, a.feed_id, a.guid, a.url, a.canonical_url, a.title, a.text, a.published, "
    "a.story_id, a.content_hash, COALESCE(NULLIF(f.name, ''), NULLIF(f.title, ''), f.url)"
)
_CHANNEL_COLUMNS = (
    "id, platform, chat_id, all_feeds, include_words, exclude_words, polls, poll_duration, "
    "paused_reason, not_before"
)


@dataclass(frozen=True)
class FeedUpdate:
    """What a successful fetch changes on a feed row."""

    feed_id: int
    now: float
    next_due: float
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Routed:
    """A new article and the channels that get it."""

    article: NewArticle
    channel_ids: tuple[int, ...]


@dataclass(frozen=True)
class StoreStats:
    """Counts for ``/status``."""

    feeds: int
    paused_feeds: int
    articles: int
    pending: int
    sent: int
    dead: int


def _feed(row: Sequence[Any]) -> Feed:
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


def _article(row: Sequence[Any]) -> Article:
    return Article(
        id=row[0],
        feed_id=row[1],
        guid=row[2],
        url=row[3],
        canonical_url=row[4],
        title=row[5],
        text=row[6],
        published=row[7],
        story_id=row[8],
        content_hash=row[9],
        feed_name=row[10],
    )


def _channel(row: Sequence[Any], feed_ids: frozenset[int]) -> Channel:
    subscription = Subscription(
        all_feeds=bool(row[3]),
        feed_ids=feed_ids,
        include=tuple(json.loads(row[4])),
        exclude=tuple(json.loads(row[5])),
    )
    return Channel(
        id=row[0],
        ref=ChatRef(row[1], row[2]),
        subscription=subscription,
        polls=PollPolicy(row[6]),
        poll_duration=row[7],
        paused_reason=row[8],
        not_before=row[9],
    )


class SqliteStore:
    """Implements the store port on one SQLite file.

    Every method raises :class:`StoreError` when the database fails.
    """

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._w = writer
        self._r = reader
        self._lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path | str) -> SqliteStore:
        """Open (creating if needed) and migrate the database at ``path``.

        Raises:
            StoreError: the file cannot be opened or migrated.
        """
        try:
            writer = await _connect(path)
            await _migrate(writer)
            reader = await _connect(path)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open database {path}: {e}") from e
        return cls(writer, reader)

    async def close(self) -> None:
        """Close both connections (waits for the write in progress)."""
        async with self._lock:
            await self._r.close()
            await self._w.close()

    @asynccontextmanager
    async def _tx(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            try:
                await self._w.execute("BEGIN IMMEDIATE")
                yield self._w
                await self._w.execute("COMMIT")
            except BaseException as e:
                # a cancelled await may still have committed in aiosqlite's thread; then
                # there is nothing left to roll back
                with contextlib.suppress(sqlite3.Error):
                    await self._w.execute("ROLLBACK")
                if isinstance(e, sqlite3.Error):
                    raise StoreError(f"database error: {e}") from e
                raise

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            async with self._r.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as e:
            raise StoreError(f"database error: {e}") from e

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = await self._all(sql, params)
        return rows[0] if rows else None

    # -- feeds -------------------------------------------------------------------------------

    async def upsert_feed(
        self, url: str, *, name: str, origin: FeedOrigin, every: float, backfill: int, now: float
    ) -> Feed:
        """Add a feed, or update the settings of the feed with that URL (its state stays)."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO feeds (url, name, origin, every, backfill, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET "
                "name = excluded.name, every = excluded.every, backfill = excluded.backfill, "
                "paused = CASE WHEN feeds.last_error = 'removed' THEN 0 ELSE feeds.paused END, "
                "origin = CASE WHEN feeds.origin = 'chat' "
                "THEN excluded.origin ELSE feeds.origin END",
                (url, name, origin.value, every, backfill, now),
            )
        feed = await self.feed_by_url(url)
        assert feed is not None
        return feed

    async def feed_by_url(self, url: str) -> Feed | None:
        """The feed with exactly this URL."""
        row = await self._one(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE url = ?", (url,))
        return _feed(row) if row else None

    async def feed(self, feed_id: int) -> Feed | None:
        """The feed with this id."""
        row = await self._one(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id = ?", (feed_id,))
        return _feed(row) if row else None

    async def feeds(self) -> list[Feed]:
        """Every feed, in the order they were added."""
        rows = await self._all(f"SELECT {_FEED_COLUMNS} FROM feeds ORDER BY id")
        return [_feed(r) for r in rows]

    async def due_feeds(self, now: float) -> list[Feed]:
        """Feeds whose next fetch is due and that are not paused."""
        rows = await self._all(
            f"SELECT {_FEED_COLUMNS} FROM feeds WHERE paused = 0 AND next_due <= ? "
            "ORDER BY next_due, id",
            (now,),
        )
        return [_feed(r) for r in rows]

    async def next_feed_due(self) -> float | None:
        """When the next active feed is due, if any."""
        row = await self._one("SELECT MIN(next_due) FROM feeds WHERE paused = 0")
        return row[0] if row and row[0] is not None else None

    async def remove_feed(self, feed_id: int) -> None:
        """Stop following a feed: unsubscribed everywhere and paused (articles stay)."""
        async with self._tx() as db:
            await db.execute("DELETE FROM subscriptions WHERE feed_id = ?", (feed_id,))
            await db.execute(
                "UPDATE feeds SET paused = 1, last_error = 'removed' WHERE id = ?", (feed_id,)
            )

    async def set_feed_paused(self, feed_id: int, paused: bool, reason: str | None) -> None:
        """Pause or resume a feed; resuming clears its failure count."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE feeds SET paused = ?, last_error = ?, "
                "failures = CASE WHEN ? THEN failures ELSE 0 END, next_due = "
                "CASE WHEN ? THEN next_due ELSE 0 END WHERE id = ?",
                (int(paused), reason, int(paused), int(paused), feed_id),
            )

    async def record_feed_failure(
        self, feed_id: int, reason: str, *, next_due: float, pause: bool
    ) -> None:
        """Count a failed fetch; ``pause`` stops the feed until an operator resumes it."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE feeds SET failures = failures + 1, last_error = ?, next_due = ?, "
                "paused = ? WHERE id = ?",
                (reason, next_due, int(pause), feed_id),
            )

    async def record_not_modified(self, feed_id: int, now: float, next_due: float) -> None:
        """A 304: only the schedule and health change."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE feeds SET failures = 0, last_error = NULL, last_ok_at = ?, next_due = ? "
                "WHERE id = ?",
                (now, next_due, feed_id),
            )

    # -- articles ----------------------------------------------------------------------------

    async def known(
        self, feed_id: int, guids: Iterable[str], canonical_urls: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these GUIDs (in this feed) and canonical URLs (anywhere) are stored."""
        guid_list, url_list = list(guids), list(canonical_urls)
        seen_guids = {
            r[0]
            for chunk in _chunks(guid_list)
            for r in await self._all(
                f"SELECT guid FROM articles WHERE feed_id = ? AND guid IN ({_marks(chunk)})",
                (feed_id, *chunk),
            )
        }
        seen_urls = {
            r[0]
            for chunk in _chunks(url_list)
            for r in await self._all(
                f"SELECT canonical_url FROM articles WHERE canonical_url IN ({_marks(chunk)})",
                chunk,
            )
        }
        return seen_guids, seen_urls

    async def simhashes_since(self, since: float) -> list[tuple[int, int]]:
        """(simhash, story id) of articles fetched since ``since``, for near-dup checks."""
        rows = await self._all(
            "SELECT simhash, story_id FROM articles WHERE fetched_at >= ? ORDER BY id", (since,)
        )
        return [(_unsigned(r[0]), r[1]) for r in rows]

    async def save_ingest(self, update: FeedUpdate, routed: Sequence[Routed]) -> list[int]:
        """Store a fetch's new articles and their outbox rows in ONE transaction.

        Returns the new article ids, in order. An article whose GUID is already stored for
        the feed is skipped (a concurrent pass stored it first).
        """
        ids: list[int] = []
        async with self._tx() as db:
            for item in routed:
                article_id = await _insert_article(db, item.article, update.now)
                if article_id is None:
                    continue
                ids.append(article_id)
                for channel_id in item.channel_ids:
                    await _insert_outbox(
                        db,
                        channel_id,
                        article_id,
                        "article",
                        f"article:{article_id}",
                        "",
                        update.now,
                    )
            await _apply_feed_update(db, update)
        return ids

    async def article(self, article_id: int) -> Article | None:
        """One article with its feed's name."""
        row = await self._one(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN feeds f ON f.id = a.feed_id "
            "WHERE a.id = ?",
            (article_id,),
        )
        return _article(row) if row else None

    async def latest(self, limit: int, feed_ids: Iterable[int] | None = None) -> list[Article]:
        """The newest articles (one per story), optionally from some feeds only."""
        where, params = "", []
        if feed_ids is not None:  # an empty list means "no feeds", not "all"
            ids = list(feed_ids)
            where = f"WHERE a.feed_id IN ({_marks(ids)})" if ids else "WHERE 0"
            params = ids
        rows = await self._all(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN feeds f ON f.id = a.feed_id "
            f"{where or 'WHERE 1'} AND a.id = a.story_id "
            "ORDER BY a.published DESC, a.id DESC LIMIT ?",
            (*params, limit),
        )
        return [_article(r) for r in rows]

    async def search(self, match: str, limit: int, since: float) -> list[tuple[Article, float]]:
        """Full-text search: (article, bm25) best first; ``match`` is a safe FTS5 expression."""
        rows = await self._all(
            f"SELECT {_ARTICLE_COLUMNS}, bm25(articles_fts, 5.0, 1.0) AS score "
            "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            "JOIN feeds f ON f.id = a.feed_id "
            "WHERE articles_fts MATCH ? AND a.published >= ? ORDER BY score LIMIT ?",
            (match, since, limit),
        )
        return [(_article(r), r[11]) for r in rows]

    async def story_sources(self, story_ids: Iterable[int]) -> dict[int, list[Article]]:
        """Every article of each story, first telling first."""
        ids = list(story_ids)
        if not ids:
            return {}
        rows = await self._all(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles a JOIN feeds f ON f.id = a.feed_id "
            f"WHERE a.story_id IN ({_marks(ids)}) ORDER BY a.id",
            ids,
        )
        stories: dict[int, list[Article]] = {}
        for row in rows:
            article = _article(row)
            stories.setdefault(article.story_id, []).append(article)
        return stories

    async def top_terms(self, since: float, limit: int) -> list[str]:
        """Titles of the newest stories, to suggest what is in the news."""
        rows = await self._all(
            "SELECT title FROM articles WHERE published >= ? AND id = story_id "
            "ORDER BY published DESC, id DESC LIMIT ?",
            (since, limit),
        )
        return [r[0] for r in rows]

    # -- summaries ---------------------------------------------------------------------------

    async def cached_summary(self, content_hash: str, summarizer: str) -> str | None:
        """A stored summary body (JSON), if this summarizer already made one."""
        row = await self._one(
            "SELECT body FROM summaries WHERE content_hash = ? AND summarizer = ?",
            (content_hash, summarizer),
        )
        return row[0] if row else None

    async def cache_summary(
        self, content_hash: str, summarizer: str, body: str, now: float
    ) -> None:
        """Remember a summary; the first one stored wins."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO summaries (content_hash, summarizer, body, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (content_hash, summarizer, body, now),
            )

    async def cached_topic(self, key: str) -> str | None:
        """A cached topic summary body."""
        row = await self._one("SELECT body FROM topic_cache WHERE cache_key = ?", (key,))
        return row[0] if row else None

    async def cache_topic(self, key: str, body: str, now: float) -> None:
        """Remember a topic summary for this (topic, set of articles)."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO topic_cache (cache_key, body, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (cache_key) DO UPDATE SET body = excluded.body",
                (key, body, now),
            )

    # -- channels ----------------------------------------------------------------------------

    async def upsert_channel(
        self,
        ref: ChatRef,
        *,
        origin: FeedOrigin,
        subscription: Subscription | None = None,
        polls: PollPolicy = PollPolicy.AUTO,
        poll_duration: float = 24 * 3600,
        now: float,
    ) -> Channel:
        """Create a channel or, when ``subscription`` is given, replace its subscription."""
        async with self._tx() as db:
            await db.execute(
                "INSERT INTO channels (platform, chat_id, origin, all_feeds, polls, "
                "poll_duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, chat_id) DO NOTHING",
                (
                    ref.platform,
                    ref.chat_id,
                    origin.value,
                    int(subscription is not None and subscription.all_feeds),
                    polls.value,
                    poll_duration,
                    now,
                ),
            )
            if subscription is not None:
                await _replace_subscription(db, ref, subscription, polls, poll_duration)
        channel = await self.channel_by_ref(ref)
        assert channel is not None
        return channel

    async def channel_by_ref(self, ref: ChatRef) -> Channel | None:
        """The channel for this chat."""
        row = await self._one(
            f"SELECT {_CHANNEL_COLUMNS} FROM channels WHERE platform = ? AND chat_id = ?",
            (ref.platform, ref.chat_id),
        )
        return (await self._with_feeds([row]))[0] if row else None

    async def channel(self, channel_id: int) -> Channel | None:
        """The channel with this id."""
        row = await self._one(
            f"SELECT {_CHANNEL_COLUMNS} FROM channels WHERE id = ?", (channel_id,)
        )
        return (await self._with_feeds([row]))[0] if row else None

    async def channels(self) -> list[Channel]:
        """Every channel."""
        rows = await self._all(f"SELECT {_CHANNEL_COLUMNS} FROM channels ORDER BY id")
        return await self._with_feeds(rows)

    async def _with_feeds(self, rows: Sequence[Any]) -> list[Channel]:
        subs = await self._all("SELECT channel_id, feed_id FROM subscriptions")
        by_channel: dict[int, set[int]] = {}
        for channel_id, feed_id in subs:
            by_channel.setdefault(channel_id, set()).add(feed_id)
        return [_channel(r, frozenset(by_channel.get(r[0], ()))) for r in rows]

    async def subscribe(self, channel_id: int, feed_id: int) -> bool:
        """Add a feed to a channel's subscription; False if it was already there."""
        async with self._tx() as db:
            cursor = await db.execute(
                "INSERT INTO subscriptions (channel_id, feed_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                (channel_id, feed_id),
            )
            return cursor.rowcount > 0

    async def unsubscribe(self, channel_id: int, feed_id: int) -> bool:
        """Remove a feed from a channel's subscription; False if it was not there."""
        async with self._tx() as db:
            cursor = await db.execute(
                "DELETE FROM subscriptions WHERE channel_id = ? AND feed_id = ?",
                (channel_id, feed_id),
            )
            return cursor.rowcount > 0

    async def set_channel_paused(self, channel_id: int, reason: str | None) -> None:
        """Pause a channel with a reason (None resumes it)."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE channels SET paused_reason = ? WHERE id = ?", (reason, channel_id)
            )

    async def set_channel_not_before(self, channel_id: int, when: float) -> None:
        """Hold a channel's deliveries until ``when`` (a platform rate limit)."""
        async with self._tx() as db:
            await db.execute("UPDATE channels SET not_before = ? WHERE id = ?", (when, channel_id))

    async def move_channel(self, old: ChatRef, new: ChatRef) -> None:
        """A chat changed id: the channel, its subscription and its outbox follow it."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE channels SET chat_id = ? WHERE platform = ? AND chat_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM channels WHERE platform = ? AND chat_id = ?)",
                (new.chat_id, old.platform, old.chat_id, new.platform, new.chat_id),
            )

    # -- outbox ------------------------------------------------------------------------------

    async def enqueue(
        self,
        channel_id: int,
        kind: str,
        dedup_key: str,
        payload: str,
        now: float,
        article_id: int | None = None,
    ) -> bool:
        """Queue one message for a channel; False if that (channel, key) is already queued."""
        async with self._tx() as db:
            return await _insert_outbox(db, channel_id, article_id, kind, dedup_key, payload, now)

    async def recover_in_flight(self) -> int:
        """After a crash: rows left 'sending' go back to pending (at most these repeat)."""
        async with self._tx() as db:
            cursor = await db.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'")
            return cursor.rowcount

    async def claim_due(
        self, now: float, limit: int, *, busy: Iterable[int] = (), platforms: Iterable[str]
    ) -> list[OutboxItem]:
        """Claim due rows of channels on ``platforms``: at most one per channel, the oldest
        first, skipping paused or held channels and ``busy`` ones; claimed rows become
        'sending'."""
        busy_ids = list(busy)
        names = list(platforms) or [""]
        exclude = f"AND o.channel_id NOT IN ({_marks(busy_ids)})" if busy_ids else ""
        async with self._tx() as db:
            cursor = await db.execute(
                "SELECT o.id, o.channel_id, o.article_id, o.kind, o.payload, o.attempts, o.nonce "
                "FROM outbox o JOIN channels c ON c.id = o.channel_id "
                "WHERE o.state = 'pending' AND c.paused_reason IS NULL AND c.not_before <= ? "
                f"AND c.platform IN ({_marks(names)}) "
                f"{exclude} AND o.id = (SELECT o2.id FROM outbox o2 WHERE "
                "o2.channel_id = o.channel_id AND o2.state IN ('pending', 'sending') "
                "ORDER BY CASE WHEN o2.kind = 'poll' THEN 0 ELSE 1 END, o2.id LIMIT 1) "
                "AND o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?",
                (now, *names, *busy_ids, now, limit),
            )
            items = [OutboxItem(*row) for row in await cursor.fetchall()]
            for item in items:
                await db.execute("UPDATE outbox SET state = 'sending' WHERE id = ?", (item.id,))
        return items

    async def next_outbox_due(self, platforms: Iterable[str]) -> float | None:
        """The earliest time a pending row of an active channel on ``platforms`` may be sent."""
        names = list(platforms) or [""]
        row = await self._one(
            "SELECT MIN(MAX(o.next_at, c.not_before)) FROM outbox o "
            "JOIN channels c ON c.id = o.channel_id "
            "WHERE o.state = 'pending' AND c.paused_reason IS NULL "
            f"AND c.platform IN ({_marks(names)})",
            names,
        )
        return row[0] if row and row[0] is not None else None

    async def mark_sent(self, item_id: int, message_id: str, poll_id: str, now: float) -> None:
        """Final: the platform has the message. Never sent again."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET state = 'sent', message_id = ?, platform_poll_id = ?, "
                "sent_at = ?, last_error = NULL WHERE id = ?",
                (message_id, poll_id or None, now, item_id),
            )

    async def mark_retry(self, item_id: int, reason: str, next_at: float, counted: bool) -> None:
        """Put a row back to pending for a later try; ``counted`` adds an attempt."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET state = 'pending', last_error = ?, next_at = ?, "
                "attempts = attempts + ? WHERE id = ?",
                (reason, next_at, int(counted), item_id),
            )

    async def mark_dead(self, item_id: int, reason: str) -> None:
        """Final failure, kept with its reason for the operator."""
        async with self._tx() as db:
            await db.execute(
                "UPDATE outbox SET state = 'dead', last_error = ?, attempts = attempts + 1 "
                "WHERE id = ?",
                (reason, item_id),
            )

    async def latest_sent_article(self, channel_id: int) -> int | None:
        """The article of the newest article post sent to a channel."""
        row = await self._one(
            "SELECT article_id FROM outbox WHERE channel_id = ? AND kind = 'article' "
            "AND state = 'sent' ORDER BY id DESC LIMIT 1",
            (channel_id,),
        )
        return row[0] if row else None

    async def outbox_rows(self, channel_id: int | None = None) -> list[dict[str, Any]]:
        """Outbox rows as dicts (for status, tests and operators)."""
        where = "WHERE channel_id = ?" if channel_id is not None else ""
        params = (channel_id,) if channel_id is not None else ()
        rows = await self._all(
            "SELECT id, channel_id, article_id, kind, state, attempts, last_error, message_id, "
            f"platform_poll_id FROM outbox {where} ORDER BY id",
            params,
        )
        keys = (
            "id",
            "channel_id",
            "article_id",
            "kind",
            "state",
            "attempts",
            "last_error",
            "message_id",
            "platform_poll_id",
        )
        return [dict(zip(keys, r, strict=True)) for r in rows]

    async def stats(self, channel_id: int | None = None) -> StoreStats:
        """Counts for ``/status``: whole bot, outbox counts for one channel when given."""
        feeds = await self._one("SELECT COUNT(*), COALESCE(SUM(paused), 0) FROM feeds")
        articles = await self._one("SELECT COUNT(*) FROM articles")
        where = "WHERE channel_id = ?" if channel_id is not None else ""
        params = (channel_id,) if channel_id is not None else ()
        states = dict(
            await self._all(f"SELECT state, COUNT(*) FROM outbox {where} GROUP BY state", params)
        )
        return StoreStats(
            feeds=feeds[0],
            paused_feeds=feeds[1],
            articles=articles[0],
            pending=states.get("pending", 0) + states.get("sending", 0),
            sent=states.get("sent", 0),
            dead=states.get("dead", 0),
        )


# -- helpers -----------------------------------------------------------------------------------


async def _connect(path: Path | str) -> aiosqlite.Connection:
    db = await aiosqlite.connect(str(path), isolation_level=None)
    await db.execute("PRAGMA journal_mode = WAL")
    await db.execute("PRAGMA busy_timeout = 5000")
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA synchronous = NORMAL")
    return db


async def _migrate(db: aiosqlite.Connection) -> None:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = row[0] if row else 0
    if version > len(MIGRATIONS):
        raise StoreError(f"database schema {version} is newer than this newsbrief understands")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        await db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")


async def _insert_article(db: aiosqlite.Connection, a: NewArticle, now: float) -> int | None:
    cursor = await db.execute(
        "INSERT INTO articles (feed_id, guid, url, canonical_url, title, text, published, "
        "fetched_at, story_id, content_hash, simhash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) "
        "ON CONFLICT (feed_id, guid) DO NOTHING",
        (
            a.feed_id,
            a.guid,
            a.url,
            a.canonical_url,
            a.title,
            a.text,
            a.published,
            now,
            a.content_hash,
            _signed(a.simhash),
        ),
    )
    if cursor.rowcount == 0 or cursor.lastrowid is None:
        return None
    article_id = cursor.lastrowid
    story = a.duplicate_of if a.duplicate_of is not None else article_id
    await db.execute("UPDATE articles SET story_id = ? WHERE id = ?", (story, article_id))
    return article_id


async def _insert_outbox(
    db: aiosqlite.Connection,
    channel_id: int,
    article_id: int | None,
    kind: str,
    dedup_key: str,
    payload: str,
    now: float,
) -> bool:
    cursor = await db.execute(
        "INSERT INTO outbox (channel_id, article_id, kind, dedup_key, payload, next_at, nonce, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, dedup_key) "
        "DO NOTHING",
        (channel_id, article_id, kind, dedup_key, payload, now, secrets.token_hex(12), now),
    )
    return cursor.rowcount > 0


async def _apply_feed_update(db: aiosqlite.Connection, u: FeedUpdate) -> None:
    await db.execute(
        "UPDATE feeds SET etag = ?, last_modified = ?, title = COALESCE(?, title), "
        "next_due = ?, failures = 0, last_error = NULL, last_ok_at = ?, fetched_once = 1 "
        "WHERE id = ?",
        (u.etag, u.last_modified, u.title, u.next_due, u.now, u.feed_id),
    )


async def _replace_subscription(
    db: aiosqlite.Connection, ref: ChatRef, sub: Subscription, polls: PollPolicy, duration: float
) -> None:
    await db.execute(
        "UPDATE channels SET all_feeds = ?, include_words = ?, exclude_words = ?, polls = ?, "
        "poll_duration = ? WHERE platform = ? AND chat_id = ?",
        (
            int(sub.all_feeds),
            json.dumps(list(sub.include)),
            json.dumps(list(sub.exclude)),
            polls.value,
            duration,
            ref.platform,
            ref.chat_id,
        ),
    )
    async with db.execute(
        "SELECT id FROM channels WHERE platform = ? AND chat_id = ?", (ref.platform, ref.chat_id)
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    await db.execute("DELETE FROM subscriptions WHERE channel_id = ?", (row[0],))
    await db.executemany(
        "INSERT INTO subscriptions (channel_id, feed_id) VALUES (?, ?)",
        [(row[0], feed_id) for feed_id in sorted(sub.feed_ids)],
    )


def _marks(items: Sequence[object]) -> str:
    return ", ".join("?" for _ in items)


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _signed(value: int) -> int:
    """SQLite integers are signed 64-bit; store an unsigned simhash in that range."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value

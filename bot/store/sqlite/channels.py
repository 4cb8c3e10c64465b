"""Channels and their subscriptions on SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.store.sqlite.db import Connection, Database, Row, chunks, fetch_one_in, marks
from bot.types import (
    Channel,
    ChannelOptions,
    ChatRef,
    FeedOrigin,
    Filters,
    PollPolicy,
    StoryMode,
    Subscription,
)

_COLUMNS = (
    "id, platform, chat_id, all_feeds, include_words, exclude_words, polls, poll_duration, "
    "paused_reason, not_before, "
    # filters, digests and languages
    "include_patterns, exclude_patterns, chat_include, chat_exclude, digest, digest_last, "
    "language, locale, "
    # stories in chats
    "stories, "
    # posts people want
    "images, template, timezone"
)


def _strings(value: str) -> tuple[str, ...]:
    return tuple(json.loads(value))


def _channel(row: Row, feed_ids: frozenset[int]) -> Channel:
    subscription = Subscription(
        all_feeds=bool(row[3]),
        feed_ids=feed_ids,
        include=_strings(row[4]),
        exclude=_strings(row[5]),
        patterns=Filters(_strings(row[10]), _strings(row[11])),
    )
    return Channel(
        id=row[0],
        ref=ChatRef.from_key(row[1], row[2]),
        subscription=subscription,
        polls=PollPolicy(row[6]),
        poll_duration=row[7],
        paused_reason=row[8],
        not_before=row[9],
        options=ChannelOptions(
            _strings(row[14]), row[16], row[17], bool(row[19]), row[20], row[21]
        ),
        chat_filters=Filters(_strings(row[12]), _strings(row[13])),
        digest_last=row[15],
        stories=StoryMode(row[18]),
    )


class SqliteChannels:
    """Implements :class:`bot.store.ports.ChannelStore`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(
        self,
        ref: ChatRef,
        *,
        origin: FeedOrigin,
        subscription: Subscription | None = None,
        polls: PollPolicy = PollPolicy.AUTO,
        poll_duration: float = 24 * 3600,
        stories: StoryMode = StoryMode.THREAD,
        now: float,
    ) -> Channel:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO channels (platform, chat_id, origin, all_feeds, polls, "
                "poll_duration, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (platform, chat_id) DO NOTHING",
                (
                    ref.platform,
                    ref.key,
                    origin.value,
                    int(subscription is not None and subscription.all_feeds),
                    polls.value,
                    poll_duration,
                    now,
                ),
            )
            if subscription is not None:
                await _replace_subscription(db, ref, subscription, polls, poll_duration)
                await db.execute(
                    "UPDATE channels SET stories = ? WHERE platform = ? AND chat_id = ?",
                    (stories.value, ref.platform, ref.key),
                )
        channel = await self.by_ref(ref)
        assert channel is not None  # just written
        return channel

    async def get(self, channel_id: int) -> Channel | None:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM channels WHERE id = ?", (channel_id,)
        )
        found = await self._with_feeds(rows)
        return found[0] if found else None

    async def by_ref(self, ref: ChatRef) -> Channel | None:
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM channels WHERE platform = ? AND chat_id = ?",
            (ref.platform, ref.key),
        )
        found = await self._with_feeds(rows)
        return found[0] if found else None

    async def all(self) -> list[Channel]:
        rows = await self._db.fetch_all(f"SELECT {_COLUMNS} FROM channels ORDER BY id")
        return await self._with_feeds(rows)

    async def _with_feeds(self, rows: Sequence[Row]) -> list[Channel]:
        if not rows:
            return []
        by_channel: dict[int, set[int]] = {}
        for chunk in chunks([r[0] for r in rows]):
            subs = await self._db.fetch_all(
                "SELECT channel_id, feed_id FROM subscriptions "
                f"WHERE channel_id IN ({marks(chunk)})",
                chunk,
            )
            for channel_id, feed_id in subs:
                by_channel.setdefault(channel_id, set()).add(feed_id)
        return [_channel(r, frozenset(by_channel.get(r[0], ()))) for r in rows]

    async def subscribe(self, channel_id: int, feed_id: int) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "INSERT INTO subscriptions (channel_id, feed_id) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                (channel_id, feed_id),
            )
            return cursor.rowcount > 0

    async def unsubscribe(self, channel_id: int, feed_id: int) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "DELETE FROM subscriptions WHERE channel_id = ? AND feed_id = ?",
                (channel_id, feed_id),
            )
            return cursor.rowcount > 0

    async def set_paused(self, channel_id: int, reason: str | None) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE channels SET paused_reason = ? WHERE id = ?", (reason, channel_id)
            )

    async def hold_until(self, channel_id: int, when: float) -> None:
        async with self._db.transaction() as db:
            await db.execute("UPDATE channels SET not_before = ? WHERE id = ?", (when, channel_id))

    async def move(self, old: ChatRef, new: ChatRef) -> bool:
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE channels SET chat_id = ? WHERE platform = ? AND chat_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM channels WHERE platform = ? AND chat_id = ?)",
                (new.key, old.platform, old.key, new.platform, new.key),
            )
            return cursor.rowcount > 0

    async def configure(self, channel_id: int, options: ChannelOptions, now: float) -> None:
        digest = json.dumps(list(options.digest))
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE channels SET digest_last = CASE WHEN digest = ? THEN digest_last "
                "ELSE ? END, digest = ?, language = ?, locale = ?, images = ?, template = ?, "
                "timezone = ? WHERE id = ?",
                (
                    digest,
                    now,
                    digest,
                    options.language,
                    options.locale,
                    int(options.images),
                    options.template,
                    options.timezone,
                    channel_id,
                ),
            )

    async def set_chat_filters(self, channel_id: int, filters: Filters) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE channels SET chat_include = ?, chat_exclude = ? WHERE id = ?",
                (json.dumps(list(filters.include)), json.dumps(list(filters.exclude)), channel_id),
            )


async def _replace_subscription(
    db: Connection, ref: ChatRef, sub: Subscription, polls: PollPolicy, duration: float
) -> None:
    await db.execute(
        "UPDATE channels SET all_feeds = ?, include_words = ?, exclude_words = ?, polls = ?, "
        "poll_duration = ?, include_patterns = ?, exclude_patterns = ? "
        "WHERE platform = ? AND chat_id = ?",
        (
            int(sub.all_feeds),
            json.dumps(list(sub.include)),
            json.dumps(list(sub.exclude)),
            polls.value,
            duration,
            json.dumps(list(sub.patterns.include)),
            json.dumps(list(sub.patterns.exclude)),
            ref.platform,
            ref.key,
        ),
    )
    row = await fetch_one_in(
        db,
        "SELECT id FROM channels WHERE platform = ? AND chat_id = ?",
        (ref.platform, ref.key),
    )
    assert row is not None  # inserted above in the same transaction
    await db.execute("DELETE FROM subscriptions WHERE channel_id = ?", (row[0],))
    await db.executemany(
        "INSERT INTO subscriptions (channel_id, feed_id) VALUES (?, ?)",
        [(row[0], feed_id) for feed_id in sorted(sub.feed_ids)],
    )

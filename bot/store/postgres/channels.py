"""Channels and their subscriptions on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.store.postgres.db import Connection, PgDatabase, Row, affected, notify
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

COLUMNS = (
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
        all_feeds=row["all_feeds"],
        feed_ids=feed_ids,
        include=_strings(row["include_words"]),
        exclude=_strings(row["exclude_words"]),
        patterns=Filters(_strings(row["include_patterns"]), _strings(row["exclude_patterns"])),
    )
    return Channel(
        id=row["id"],
        ref=ChatRef.from_key(row["platform"], row["chat_id"]),
        subscription=subscription,
        polls=PollPolicy(row["polls"]),
        poll_duration=row["poll_duration"],
        paused_reason=row["paused_reason"],
        not_before=row["not_before"],
        options=ChannelOptions(
            _strings(row["digest"]),
            row["language"],
            row["locale"],
            row["images"],
            row["template"],
            row["timezone"],
        ),
        chat_filters=Filters(_strings(row["chat_include"]), _strings(row["chat_exclude"])),
        digest_last=row["digest_last"],
        stories=StoryMode(row["stories"]),
    )


class PgChannels:
    """Implements :class:`bot.store.ports.ChannelStore`."""

    def __init__(self, db: PgDatabase) -> None:
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
                "poll_duration, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (platform, chat_id) DO NOTHING",
                ref.platform,
                ref.key,
                origin.value,
                subscription is not None and subscription.all_feeds,
                polls.value,
                poll_duration,
                now,
            )
            if subscription is not None:
                await _replace_subscription(db, ref, subscription, polls, poll_duration)
                await db.execute(
                    "UPDATE channels SET stories = $1 WHERE platform = $2 AND chat_id = $3",
                    stories.value,
                    ref.platform,
                    ref.key,
                )
        channel = await self.by_ref(ref)
        assert channel is not None  # just written
        return channel

    async def get(self, channel_id: int) -> Channel | None:
        rows = await self._db.fetch_all(
            f"SELECT {COLUMNS} FROM channels WHERE id = $1", (channel_id,)
        )
        found = await self._with_feeds(rows)
        return found[0] if found else None

    async def by_ref(self, ref: ChatRef) -> Channel | None:
        rows = await self._db.fetch_all(
            f"SELECT {COLUMNS} FROM channels WHERE platform = $1 AND chat_id = $2",
            (ref.platform, ref.key),
        )
        found = await self._with_feeds(rows)
        return found[0] if found else None

    async def all(self) -> list[Channel]:
        rows = await self._db.fetch_all(f"SELECT {COLUMNS} FROM channels ORDER BY id")
        return await self._with_feeds(rows)

    async def _with_feeds(self, rows: Sequence[Row]) -> list[Channel]:
        if not rows:
            return []
        subs = await self._db.fetch_all(
            "SELECT channel_id, feed_id FROM subscriptions WHERE channel_id = ANY($1::bigint[])",
            ([r["id"] for r in rows],),
        )
        by_channel: dict[int, set[int]] = {}
        for channel_id, feed_id in subs:
            by_channel.setdefault(channel_id, set()).add(feed_id)
        return [_channel(r, frozenset(by_channel.get(r["id"], ()))) for r in rows]

    async def subscribe(self, channel_id: int, feed_id: int) -> bool:
        async with self._db.transaction() as db:
            status = await db.execute(
                "INSERT INTO subscriptions (channel_id, feed_id) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING",
                channel_id,
                feed_id,
            )
            await notify(db, "feeds")
        return affected(status) > 0

    async def unsubscribe(self, channel_id: int, feed_id: int) -> bool:
        async with self._db.transaction() as db:
            status = await db.execute(
                "DELETE FROM subscriptions WHERE channel_id = $1 AND feed_id = $2",
                channel_id,
                feed_id,
            )
        return affected(status) > 0

    async def set_paused(self, channel_id: int, reason: str | None) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE channels SET paused_reason = $1 WHERE id = $2", reason, channel_id
            )
            if reason is None:  # resumed: its posts may go
                await notify(db, "outbox")

    async def hold_until(self, channel_id: int, when: float) -> None:
        async with self._db.transaction() as db:
            await db.execute("UPDATE channels SET not_before = $1 WHERE id = $2", when, channel_id)

    async def move(self, old: ChatRef, new: ChatRef) -> bool:
        async with self._db.transaction() as db:
            status = await db.execute(
                "UPDATE channels SET chat_id = $1 WHERE platform = $2 AND chat_id = $3 "
                "AND NOT EXISTS (SELECT 1 FROM channels WHERE platform = $4 AND chat_id = $1)",
                new.key,
                old.platform,
                old.key,
                new.platform,
            )
        return affected(status) > 0

    async def configure(self, channel_id: int, options: ChannelOptions, now: float) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE channels SET digest_last = CASE WHEN digest = $1 THEN digest_last "
                "ELSE $2 END, digest = $1, language = $3, locale = $4, images = $5, "
                "template = $6, timezone = $7 WHERE id = $8",
                json.dumps(list(options.digest)),
                now,
                options.language,
                options.locale,
                options.images,
                options.template,
                options.timezone,
                channel_id,
            )

    async def set_chat_filters(self, channel_id: int, filters: Filters) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE channels SET chat_include = $1, chat_exclude = $2 WHERE id = $3",
                json.dumps(list(filters.include)),
                json.dumps(list(filters.exclude)),
                channel_id,
            )


async def _replace_subscription(
    db: Connection, ref: ChatRef, sub: Subscription, polls: PollPolicy, duration: float
) -> None:
    channel_id = await db.fetchval(
        "UPDATE channels SET all_feeds = $1, include_words = $2, exclude_words = $3, "
        "polls = $4, poll_duration = $5, include_patterns = $8, exclude_patterns = $9 "
        "WHERE platform = $6 AND chat_id = $7 RETURNING id",
        sub.all_feeds,
        json.dumps(list(sub.include)),
        json.dumps(list(sub.exclude)),
        polls.value,
        duration,
        ref.platform,
        ref.key,
        json.dumps(list(sub.patterns.include)),
        json.dumps(list(sub.patterns.exclude)),
    )
    await db.execute("DELETE FROM subscriptions WHERE channel_id = $1", channel_id)
    await db.executemany(
        "INSERT INTO subscriptions (channel_id, feed_id) VALUES ($1, $2)",
        [(channel_id, feed_id) for feed_id in sorted(sub.feed_ids)],
    )

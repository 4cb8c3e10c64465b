"""What chats have been told of stories, on PostgreSQL."""

from __future__ import annotations

import json

from bot.store.postgres.db import Connection, PgDatabase
from bot.types import ChatRef, StoryAsk, StoryPost, StoryTold


async def record_told_in(
    db: Connection, channel_id: int, message_id: str, told: StoryTold, now: float
) -> None:
    """Inside the transaction that marks a message sent: the first message of a story in a
    channel becomes its post; a later one replaces the sentences told (and the thread,
    when it opened one)."""
    await db.execute(
        "INSERT INTO story_posts (channel_id, story_id, message_id, thread, told, created_at, "
        "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (channel_id, story_id) "
        "DO UPDATE SET told = excluded.told, updated_at = excluded.updated_at, thread = CASE "
        "WHEN excluded.thread <> '' THEN excluded.thread ELSE story_posts.thread END",
        channel_id,
        told.story_id,
        message_id,
        told.thread,
        _json(told.told),
        now,
    )


class PgStories:
    """Implements :class:`bot.store.ports.StoryStore`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def post(self, channel_id: int, story_id: int) -> StoryPost | None:
        row = await self._db.fetch_one(
            "SELECT message_id, thread, told FROM story_posts "
            "WHERE channel_id = $1 AND story_id = $2",
            (channel_id, story_id),
        )
        if row is None:
            return None
        told = tuple(json.loads(row["told"]))
        return StoryPost(channel_id, story_id, row["message_id"], row["thread"], told)

    async def asked(self, chat: ChatRef, story_id: int) -> StoryAsk | None:
        row = await self._db.fetch_one(
            "SELECT last_article, shown FROM story_asks "
            "WHERE platform = $1 AND chat_id = $2 AND story_id = $3",
            (chat.platform, chat.key, story_id),
        )
        return StoryAsk(row["last_article"], tuple(json.loads(row["shown"]))) if row else None

    async def record_ask(self, chat: ChatRef, story_id: int, ask: StoryAsk, now: float) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO story_asks (platform, chat_id, story_id, last_article, shown, "
                "asked_at) VALUES ($1, $2, $3, $4, $5, $6) "
                "ON CONFLICT (platform, chat_id, story_id) DO UPDATE SET "
                "last_article = excluded.last_article, shown = excluded.shown, "
                "asked_at = excluded.asked_at",
                chat.platform,
                chat.key,
                story_id,
                ask.last_article,
                _json(ask.shown),
                now,
            )


def _json(sentences: tuple[str, ...]) -> str:
    return json.dumps(list(sentences), ensure_ascii=False)

"""Reader-poll tables: polls, their options, the platform polls, and votes."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.store.sqlite import SqliteStore
from summarizer.base import PollProposal


@dataclass(frozen=True)
class PollRow:
    """A reader poll."""

    id: int
    article_id: int | None
    question: str
    options: tuple[str, ...]
    close_at: float
    closed_at: float | None

    @property
    def closed(self) -> bool:
        """Closed for good."""
        return self.closed_at is not None


@dataclass(frozen=True)
class PollPostRow:
    """One platform poll (one chat) of a reader poll."""

    id: int
    poll_id: int
    channel_id: int
    platform: str
    platform_poll_id: str
    message_id: str
    counts: tuple[int, ...] | None
    final_counts: tuple[int, ...] | None
    closed: bool


def _counts(raw: str | None) -> tuple[int, ...] | None:
    return tuple(int(c) for c in json.loads(raw)) if raw else None


_POST_COLUMNS = (
    "id, poll_id, channel_id, platform, platform_poll_id, message_id, counts, final_counts, closed"
)


def _post(row: tuple[object, ...]) -> PollPostRow:
    return PollPostRow(
        id=int(row[0]),  # type: ignore[call-overload]
        poll_id=int(row[1]),  # type: ignore[call-overload]
        channel_id=int(row[2]),  # type: ignore[call-overload]
        platform=str(row[3]),
        platform_poll_id=str(row[4]),
        message_id=str(row[5]),
        counts=_counts(row[6]),  # type: ignore[arg-type]
        final_counts=_counts(row[7]),  # type: ignore[arg-type]
        closed=bool(row[8]),
    )


class PollRepo:
    """Poll persistence over the store's connections (writes serialized by its lock)."""

    def __init__(self, store: SqliteStore) -> None:
        self._s = store

    async def create(
        self,
        article_id: int | None,
        proposal: PollProposal,
        origin: str,
        close_at: float,
        now: float,
    ) -> int:
        """The article's poll (created once: one reader poll per article) or a new custom one."""
        async with self._s._tx() as db:
            if article_id is not None:
                async with db.execute(
                    "SELECT id FROM polls WHERE article_id = ?", (article_id,)
                ) as cursor:
                    row = await cursor.fetchone()
                if row is not None:
                    return int(row[0])
            cursor = await db.execute(
                "INSERT INTO polls (article_id, question, origin, close_at, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (article_id, proposal.question, origin, close_at, now),
            )
            poll_id = int(cursor.lastrowid or 0)
            await db.executemany(
                "INSERT INTO poll_options (poll_id, idx, label) VALUES (?, ?, ?)",
                [(poll_id, i, label) for i, label in enumerate(proposal.options)],
            )
        return poll_id

    async def get(self, poll_id: int) -> PollRow | None:
        """One poll with its options."""
        row = await self._s._one(
            "SELECT id, article_id, question, close_at, closed_at FROM polls WHERE id = ?",
            (poll_id,),
        )
        if row is None:
            return None
        options = await self._s._all(
            "SELECT label FROM poll_options WHERE poll_id = ? ORDER BY idx", (poll_id,)
        )
        return PollRow(row[0], row[1], row[2], tuple(o[0] for o in options), row[3], row[4])

    async def add_post(
        self,
        poll_id: int,
        channel_id: int,
        platform: str,
        platform_poll_id: str,
        message_id: str,
    ) -> None:
        """Remember the platform poll a chat got."""
        async with self._s._tx() as db:
            await db.execute(
                "INSERT INTO poll_posts (poll_id, channel_id, platform, platform_poll_id, "
                "message_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, channel_id) DO NOTHING",
                (poll_id, channel_id, platform, platform_poll_id, message_id),
            )

    async def post_by_platform_id(self, platform: str, platform_poll_id: str) -> PollPostRow | None:
        """The platform poll with this platform id."""
        row = await self._s._one(
            f"SELECT {_POST_COLUMNS} FROM poll_posts WHERE platform = ? AND platform_poll_id = ?",
            (platform, platform_poll_id),
        )
        return _post(row) if row else None

    async def posts(self, poll_id: int) -> list[PollPostRow]:
        """Every platform poll of a reader poll."""
        rows = await self._s._all(
            f"SELECT {_POST_COLUMNS} FROM poll_posts WHERE poll_id = ? ORDER BY id", (poll_id,)
        )
        return [_post(r) for r in rows]

    async def set_vote(self, post: PollPostRow, user: str, options: tuple[int, ...]) -> None:
        """A reader's vote: upserted (a change replaces); empty ``options`` retracts it."""
        async with self._s._tx() as db:
            if not options:
                await db.execute(
                    "DELETE FROM votes WHERE poll_id = ? AND platform = ? AND user_id = ?",
                    (post.poll_id, post.platform, user),
                )
                return
            await db.execute(
                "INSERT INTO votes (poll_id, platform, user_id, poll_post_id, options) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (poll_id, platform, user_id) DO UPDATE SET "
                "options = excluded.options, poll_post_id = excluded.poll_post_id",
                (post.poll_id, post.platform, user, post.id, json.dumps(list(options))),
            )

    async def set_counts(self, post_id: int, counts: tuple[int, ...], final: bool) -> None:
        """Counts a platform reported (latest wins); ``final`` for the counts read at close."""
        column = "final_counts" if final else "counts"
        async with self._s._tx() as db:
            await db.execute(
                f"UPDATE poll_posts SET {column} = ?, closed = closed OR ? WHERE id = ?",
                (json.dumps(list(counts)), int(final), post_id),
            )

    async def mark_post_closed(self, post_id: int) -> None:
        """The platform poll is closed (or gone)."""
        async with self._s._tx() as db:
            await db.execute("UPDATE poll_posts SET closed = 1 WHERE id = ?", (post_id,))

    async def votes(self, poll_id: int) -> dict[int, list[tuple[int, ...]]]:
        """Per platform poll, the option lists of its voters."""
        rows = await self._s._all(
            "SELECT poll_post_id, options FROM votes WHERE poll_id = ?", (poll_id,)
        )
        by_post: dict[int, list[tuple[int, ...]]] = {}
        for post_id, options in rows:
            by_post.setdefault(post_id, []).append(tuple(json.loads(options)))
        return by_post

    async def due(self, now: float) -> list[int]:
        """Open polls whose close time has come."""
        rows = await self._s._all(
            "SELECT id FROM polls WHERE closed_at IS NULL AND close_at <= ? ORDER BY close_at",
            (now,),
        )
        return [r[0] for r in rows]

    async def next_close(self) -> float | None:
        """When the next open poll closes."""
        row = await self._s._one("SELECT MIN(close_at) FROM polls WHERE closed_at IS NULL")
        return row[0] if row and row[0] is not None else None

    async def mark_closed(self, poll_id: int, now: float) -> bool:
        """Close a poll for good; False if it already was (results are posted once)."""
        async with self._s._tx() as db:
            cursor = await db.execute(
                "UPDATE polls SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
                (now, poll_id),
            )
            return cursor.rowcount > 0

    async def latest_for_channel(self, channel_id: int) -> int | None:
        """The newest poll posted in a channel."""
        row = await self._s._one(
            "SELECT MAX(poll_id) FROM poll_posts WHERE channel_id = ?", (channel_id,)
        )
        return row[0] if row and row[0] is not None else None

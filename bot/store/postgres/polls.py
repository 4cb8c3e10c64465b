"""Reader polls, platform polls and votes on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.store.postgres.db import Connection, PgDatabase, Row, affected, notify
from bot.types import PlatformPoll, Poll, PollOrigin
from summarizer.base import PollProposal

_PLATFORM_COLUMNS = (
    "id, poll_id, channel_id, platform, platform_poll_id, message_id, counts, final_counts, closed"
)


def _counts(raw: str | None) -> tuple[int, ...] | None:
    return tuple(int(c) for c in json.loads(raw)) if raw else None


def _platform_poll(row: Row) -> PlatformPoll:
    return PlatformPoll(
        id=row["id"],
        poll_id=row["poll_id"],
        channel_id=row["channel_id"],
        platform=row["platform"],
        platform_poll_id=row["platform_poll_id"],
        message_id=row["message_id"],
        counts=_counts(row["counts"]),
        final_counts=_counts(row["final_counts"]),
        closed=row["closed"],
    )


async def create_poll_in(
    db: Connection,
    article_id: int | None,
    proposal: PollProposal,
    origin: PollOrigin,
    close_at: float,
    now: float,
) -> int:
    """Create a poll inside a transaction (an article's poll only once); return its id."""
    if article_id is not None:
        existing = await db.fetchval(
            "INSERT INTO polls (article_id, question, origin, close_at, created_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (article_id) DO NOTHING RETURNING id",
            article_id,
            proposal.question,
            origin.value,
            close_at,
            now,
        )
        if existing is None:
            found: int = await db.fetchval("SELECT id FROM polls WHERE article_id = $1", article_id)
            return found
        poll_id: int = existing
    else:
        poll_id = await db.fetchval(
            "INSERT INTO polls (article_id, question, origin, close_at, created_at) "
            "VALUES (NULL, $1, $2, $3, $4) RETURNING id",
            proposal.question,
            origin.value,
            close_at,
            now,
        )
    await db.executemany(
        "INSERT INTO poll_options (poll_id, idx, label) VALUES ($1, $2, $3)",
        [(poll_id, i, label) for i, label in enumerate(proposal.options)],
    )
    return poll_id


async def add_platform_poll_in(
    db: Connection,
    poll_id: int,
    channel_id: int,
    platform: str,
    platform_poll_id: str,
    message_id: str,
) -> None:
    """Remember a platform poll inside a transaction (a repeat changes nothing)."""
    await db.execute(
        "INSERT INTO poll_posts (poll_id, channel_id, platform, platform_poll_id, message_id) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        poll_id,
        channel_id,
        platform,
        platform_poll_id,
        message_id,
    )
    await _attach_held_votes(db, platform, platform_poll_id)


async def _attach_held_votes(db: Connection, platform: str, platform_poll_id: str) -> None:
    """Turn the votes held for a platform poll into votes (none on a closed poll)."""
    held = await db.fetch(
        "DELETE FROM held_votes WHERE platform = $1 AND platform_poll_id = $2 "
        "RETURNING user_id, options",
        platform,
        platform_poll_id,
    )
    if not held:
        return
    target = await db.fetchrow(
        "SELECT pp.id, pp.poll_id, p.closed_at, "
        "(SELECT COUNT(*) FROM poll_options o WHERE o.poll_id = pp.poll_id) AS options "
        "FROM poll_posts pp JOIN polls p ON p.id = pp.poll_id "
        "WHERE pp.platform = $1 AND pp.platform_poll_id = $2",
        platform,
        platform_poll_id,
    )
    if target is None or target["closed_at"] is not None:
        return
    for user, raw in held:
        options = sorted({i for i in json.loads(raw) if 0 <= i < target["options"]})
        await _set_vote_in(db, target["poll_id"], platform, user, target["id"], options)


async def _set_vote_in(
    db: Connection,
    poll_id: int,
    platform: str,
    user: str,
    platform_poll_row: int,
    options: Sequence[int],
) -> None:
    """Record, replace or (with no options) retract a vote inside a transaction."""
    if not options:
        await db.execute(
            "DELETE FROM votes WHERE poll_id = $1 AND platform = $2 AND user_id = $3",
            poll_id,
            platform,
            user,
        )
        return
    await db.execute(
        "INSERT INTO votes (poll_id, platform, user_id, poll_post_id, options) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (poll_id, platform, user_id) DO UPDATE "
        "SET options = excluded.options, poll_post_id = excluded.poll_post_id",
        poll_id,
        platform,
        user,
        platform_poll_row,
        json.dumps(list(options)),
    )


class PgPolls:
    """Implements :class:`bot.store.ports.PollStore`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def create(
        self,
        article_id: int | None,
        proposal: PollProposal,
        origin: PollOrigin,
        close_at: float,
        now: float,
    ) -> int:
        async with self._db.transaction() as db:
            poll_id = await create_poll_in(db, article_id, proposal, origin, close_at, now)
            await notify(db, "polls")
            return poll_id

    async def get(self, poll_id: int) -> Poll | None:
        row = await self._db.fetch_one(
            "SELECT id, article_id, question, close_at, closed_at FROM polls WHERE id = $1",
            (poll_id,),
        )
        if row is None:
            return None
        options = await self._db.fetch_all(
            "SELECT label FROM poll_options WHERE poll_id = $1 ORDER BY idx", (poll_id,)
        )
        return Poll(row[0], row[1], row[2], tuple(o[0] for o in options), row[3], row[4])

    async def add_platform_poll(
        self, poll_id: int, channel_id: int, platform: str, platform_poll_id: str, message_id: str
    ) -> None:
        async with self._db.transaction() as db:
            await add_platform_poll_in(
                db, poll_id, channel_id, platform, platform_poll_id, message_id
            )

    async def platform_poll(self, platform: str, platform_poll_id: str) -> PlatformPoll | None:
        row = await self._db.fetch_one(
            f"SELECT {_PLATFORM_COLUMNS} FROM poll_posts "
            "WHERE platform = $1 AND platform_poll_id = $2",
            (platform, platform_poll_id),
        )
        return _platform_poll(row) if row else None

    async def platform_polls(self, poll_id: int) -> list[PlatformPoll]:
        rows = await self._db.fetch_all(
            f"SELECT {_PLATFORM_COLUMNS} FROM poll_posts WHERE poll_id = $1 ORDER BY id",
            (poll_id,),
        )
        return [_platform_poll(r) for r in rows]

    async def hold_vote(
        self,
        platform: str,
        platform_poll_id: str,
        user: str,
        options: Sequence[int],
        now: float,
        *,
        forget_before: float,
    ) -> PlatformPoll | None:
        async with self._db.transaction() as db:
            row = await db.fetchrow(
                f"SELECT {_PLATFORM_COLUMNS} FROM poll_posts "
                "WHERE platform = $1 AND platform_poll_id = $2",
                platform,
                platform_poll_id,
            )
            if row is not None:
                return _platform_poll(row)
            await db.execute("DELETE FROM held_votes WHERE received_at < $1", forget_before)
            await db.execute(
                "INSERT INTO held_votes (platform, platform_poll_id, user_id, options, "
                "received_at) VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (platform, platform_poll_id, user_id) DO UPDATE SET "
                "options = excluded.options, received_at = excluded.received_at",
                platform,
                platform_poll_id,
                user,
                json.dumps(list(options)),
                now,
            )
        return None

    async def set_vote(
        self, platform_poll: PlatformPoll, user: str, options: Sequence[int]
    ) -> None:
        async with self._db.transaction() as db:
            await _set_vote_in(
                db, platform_poll.poll_id, platform_poll.platform, user, platform_poll.id, options
            )

    async def set_counts(self, platform_poll_id: int, counts: Sequence[int], final: bool) -> None:
        column = "final_counts" if final else "counts"
        async with self._db.transaction() as db:
            await db.execute(
                f"UPDATE poll_posts SET {column} = $1, closed = closed OR $2 WHERE id = $3",
                json.dumps(list(counts)),
                final,
                platform_poll_id,
            )

    async def mark_platform_poll_closed(self, platform_poll_id: int) -> None:
        async with self._db.transaction() as db:
            await db.execute("UPDATE poll_posts SET closed = TRUE WHERE id = $1", platform_poll_id)

    async def votes(self, poll_id: int) -> dict[int, list[tuple[int, ...]]]:
        rows = await self._db.fetch_all(
            "SELECT poll_post_id, options FROM votes WHERE poll_id = $1 ORDER BY poll_post_id",
            (poll_id,),
        )
        by_platform_poll: dict[int, list[tuple[int, ...]]] = {}
        for platform_poll_id, options in rows:
            by_platform_poll.setdefault(platform_poll_id, []).append(tuple(json.loads(options)))
        return by_platform_poll

    async def due(self, now: float) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT id FROM polls WHERE closed_at IS NULL AND close_at <= $1 ORDER BY close_at, id",
            (now,),
        )
        return [r[0] for r in rows]

    async def next_close(self) -> float | None:
        value = await self._db.fetch_value(
            "SELECT MIN(close_at) FROM polls WHERE closed_at IS NULL"
        )
        return float(value) if value is not None else None

    async def mark_closed(self, poll_id: int, now: float) -> bool:
        async with self._db.transaction() as db:
            status = await db.execute(
                "UPDATE polls SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
                now,
                poll_id,
            )
        return affected(status) > 0

    async def latest_for_channel(self, channel_id: int) -> int | None:
        value = await self._db.fetch_value(
            "SELECT MAX(poll_id) FROM poll_posts WHERE channel_id = $1", (channel_id,)
        )
        return int(value) if value is not None else None

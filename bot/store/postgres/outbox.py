"""The durable outbox on PostgreSQL.

A channel's head row is its oldest row neither sent nor dead, a poll row first; only head
rows of channels with nothing in flight are claimed, under ``FOR UPDATE SKIP LOCKED``, so
several workers can claim from one outbox and a chat still gets its posts in order with at
most one in flight.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from bot.store.ports import digest_row, poll_row
from bot.store.postgres.db import Connection, PgDatabase, Row, affected, notify
from bot.store.postgres.polls import add_platform_poll_in, create_poll_in
from bot.store.postgres.stories import record_told_in
from bot.types import (
    Delivered,
    OutboxCounts,
    OutboxItem,
    OutboxKind,
    OutboxRow,
    OutboxState,
    PollOrigin,
)

_PENDING, _SENDING = OutboxState.PENDING.value, OutboxState.SENDING.value
_HELD = OutboxState.HELD.value
_HEAD = (
    "o.id = (SELECT o2.id FROM outbox o2 WHERE o2.channel_id = o.channel_id "
    f"AND o2.state IN ('{_PENDING}', '{_SENDING}') "
    f"ORDER BY CASE WHEN o2.kind = '{OutboxKind.POLL.value}' THEN 0 ELSE 1 END, o2.id LIMIT 1) "
    "AND NOT EXISTS (SELECT 1 FROM outbox o3 WHERE o3.channel_id = o.channel_id "
    f"AND o3.state = '{_SENDING}')"
)
_ROW_COLUMNS = (
    "id, channel_id, article_id, kind, state, attempts, last_error, message_id, platform_poll_id"
)


def _row(row: Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        channel_id=row["channel_id"],
        article_id=row["article_id"],
        kind=OutboxKind(row["kind"]),
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        message_id=row["message_id"],
        platform_poll_id=row["platform_poll_id"],
    )


def _item(row: Row) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        channel_id=row["channel_id"],
        article_id=row["article_id"],
        kind=OutboxKind(row["kind"]),
        payload=row["payload"],
        attempts=row["attempts"],
        nonce=row["nonce"],
        created_at=row["created_at"],
    )


async def insert_article_rows(
    db: Connection,
    rows: Sequence[tuple[int, int]],
    now: float,
    state: OutboxState = OutboxState.PENDING,
) -> None:
    """Queue one article row per (channel id, article id) inside a transaction, in one
    statement (held for a digest with ``state`` held); a pair queued already is left as it
    is. The workers are told when the transaction commits."""
    if not rows:
        return
    await db.executemany(
        "INSERT INTO outbox (channel_id, article_id, kind, dedup_key, payload, state, next_at, "
        "nonce, created_at) VALUES ($1, $2, $3, $4, '', $5, $6, $7, $6) "
        "ON CONFLICT (channel_id, dedup_key) DO NOTHING",
        [
            (
                channel,
                article,
                OutboxKind.ARTICLE.value,
                f"article:{article}",
                state.value,
                now,
                secrets.token_hex(12),
            )
            for channel, article in rows
        ],
    )
    if state is OutboxState.PENDING:
        await notify(db, "outbox")


async def insert_row(
    db: Connection,
    channel_id: int,
    kind: OutboxKind,
    dedup_key: str,
    payload: str,
    now: float,
    article_id: int | None = None,
    state: OutboxState = OutboxState.PENDING,
) -> bool:
    """Queue a row inside a transaction (the workers are told when it commits; a row held
    for a digest is nothing to send yet); False if (channel, key) exists already."""
    status = await db.execute(
        "INSERT INTO outbox (channel_id, article_id, kind, dedup_key, payload, next_at, nonce, "
        "created_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $8) "
        "ON CONFLICT (channel_id, dedup_key) DO NOTHING",
        channel_id,
        article_id,
        kind.value,
        dedup_key,
        payload,
        now,
        secrets.token_hex(12),
        state.value,
    )
    if affected(status) and state is OutboxState.PENDING:
        await notify(db, "outbox")
    return affected(status) > 0


async def record_followups(
    db: Connection, channel_id: int, delivered: Delivered, now: float
) -> None:
    """Inside the transaction that marks a row sent: open the post's poll and queue it under
    the post, remember the platform poll a poll row made, send a digest's held rows,
    and record what the message told the channel of its story."""
    if delivered.digested:
        await db.execute(
            "UPDATE outbox SET state = $1, message_id = $2, sent_at = $3 "
            "WHERE id = ANY($4::bigint[]) AND channel_id = $5 AND state = $6",
            OutboxState.SENT.value,
            delivered.message_id,
            now,
            list(delivered.digested),
            channel_id,
            _HELD,
        )
    if delivered.story is not None:
        await record_told_in(db, channel_id, delivered.message_id, delivered.story, now)
    opening = delivered.opens_poll
    if opening is not None:
        poll_id = await create_poll_in(
            db, opening.article_id, opening.proposal, PollOrigin.ARTICLE, opening.close_at, now
        )
        await notify(db, "polls")
        key, payload = poll_row(OutboxKind.POLL, poll_id)
        await insert_row(db, channel_id, OutboxKind.POLL, key, payload, now)
    if delivered.poll_id is not None:
        platform = await db.fetchval("SELECT platform FROM channels WHERE id = $1", channel_id)
        poll_ref = delivered.platform_poll_id or delivered.message_id
        await add_platform_poll_in(
            db, delivered.poll_id, channel_id, platform or "", poll_ref, delivered.message_id
        )


class PgOutbox:
    """Implements :class:`bot.store.ports.OutboxStore`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def enqueue(
        self,
        channel_id: int,
        kind: OutboxKind,
        dedup_key: str,
        payload: str,
        now: float,
        article_id: int | None = None,
    ) -> bool:
        async with self._db.transaction() as db:
            return await insert_row(db, channel_id, kind, dedup_key, payload, now, article_id)

    async def recover_in_flight(self) -> int:
        async with self._db.transaction() as db:
            status = await db.execute(
                "UPDATE outbox SET state = $1, claimed_by = NULL WHERE state = $2",
                _PENDING,
                _SENDING,
            )
            await db.execute("UPDATE feeds SET lease_owner = NULL")
            await notify(db, "outbox")
        return affected(status)

    async def claim_due(
        self,
        now: float,
        limit: int,
        *,
        busy: Iterable[int] = (),
        platforms: Iterable[str],
        owner: str = "",
    ) -> list[OutboxItem]:
        async with self._db.transaction() as db:
            rows = await db.fetch(
                "WITH due AS (SELECT o.id, o.next_at FROM outbox o "
                "JOIN channels c ON c.id = o.channel_id "
                "WHERE o.state = $1 AND c.paused_reason IS NULL AND c.not_before <= $2 "
                "AND c.platform = ANY($3::text[]) AND NOT (o.channel_id = ANY($4::bigint[])) "
                f"AND {_HEAD} AND o.next_at <= $2 ORDER BY o.next_at, o.id LIMIT $5 "
                "FOR UPDATE OF o SKIP LOCKED) "
                "UPDATE outbox SET state = $6, claimed_by = $7 FROM due WHERE outbox.id = due.id "
                "RETURNING outbox.id, outbox.channel_id, outbox.article_id, outbox.kind, "
                "outbox.payload, outbox.attempts, outbox.nonce, outbox.created_at, due.next_at",
                _PENDING,
                now,
                list(platforms),
                list(busy),
                limit,
                _SENDING,
                owner,
            )
        return [_item(r) for r in sorted(rows, key=lambda r: (r["next_at"], r["id"]))]

    async def next_due(self, platforms: Iterable[str]) -> float | None:
        value = await self._db.fetch_value(
            "SELECT MIN(GREATEST(o.next_at, c.not_before)) FROM outbox o "
            "JOIN channels c ON c.id = o.channel_id "
            "WHERE o.state = $1 AND c.paused_reason IS NULL "
            f"AND c.platform = ANY($2::text[]) AND {_HEAD}",
            (_PENDING, list(platforms)),
        )
        return float(value) if value is not None else None

    async def mark_sent(self, item_id: int, delivered: Delivered, now: float) -> None:
        async with self._db.transaction() as db:
            channel_id = await db.fetchval(
                "UPDATE outbox SET state = $1, message_id = $2, platform_poll_id = $3, "
                "sent_at = $4, last_error = $5 WHERE id = $6 RETURNING channel_id",
                OutboxState.SENT.value,
                delivered.message_id,
                delivered.platform_poll_id or None,
                now,
                delivered.note,
                item_id,
            )
            if channel_id is not None:
                await record_followups(db, channel_id, delivered, now)

    async def mark_retry(self, item_id: int, reason: str, next_at: float, counted: bool) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE outbox SET state = $1, last_error = $2, next_at = $3, "
                "attempts = attempts + $4 WHERE id = $5",
                _PENDING,
                reason,
                next_at,
                int(counted),
                item_id,
            )

    async def mark_dead(self, item_id: int, reason: str) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE outbox SET state = $1, last_error = $2, attempts = attempts + 1 "
                "WHERE id = $3",
                OutboxState.DEAD.value,
                reason,
                item_id,
            )

    async def held_articles(self, channel_id: int, limit: int) -> list[tuple[int, int]]:
        rows = await self._db.fetch_all(
            "SELECT id, article_id FROM outbox WHERE channel_id = $1 AND state = $2 "
            "ORDER BY id LIMIT $3",
            (channel_id, _HELD, limit),
        )
        return [(row[0], row[1]) for row in rows]

    async def queue_digest(self, channel_id: int, slot: float, now: float) -> bool:
        key, payload = digest_row(slot)
        async with self._db.transaction() as db:
            status = await db.execute(
                "UPDATE channels SET digest_last = $1 WHERE id = $2 AND digest_last < $1",
                slot,
                channel_id,
            )
            if not affected(status):
                return False
            held = await db.fetchval(
                "SELECT 1 FROM outbox WHERE channel_id = $1 AND state = $2 LIMIT 1",
                channel_id,
                _HELD,
            )
            if held is None:
                return False
            return await insert_row(db, channel_id, OutboxKind.DIGEST, key, payload, now)

    async def mark_skipped(self, item_id: int, reason: str) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE outbox SET state = $1, last_error = $2 WHERE id = $3",
                OutboxState.SKIPPED.value,
                reason,
                item_id,
            )

    async def latest_sent_article(self, channel_id: int) -> int | None:
        value = await self._db.fetch_value(
            "SELECT article_id FROM outbox WHERE channel_id = $1 AND kind = $2 AND state = $3 "
            "ORDER BY id DESC LIMIT 1",
            (channel_id, OutboxKind.ARTICLE.value, OutboxState.SENT.value),
        )
        return int(value) if value is not None else None

    async def rows(
        self,
        channel_id: int | None = None,
        *,
        state: OutboxState | None = None,
        limit: int | None = None,
    ) -> list[OutboxRow]:
        rows = await self._db.fetch_all(
            f"SELECT {_ROW_COLUMNS} FROM outbox WHERE ($1::bigint IS NULL OR channel_id = $1) "
            "AND ($2::text IS NULL OR state = $2) ORDER BY id DESC LIMIT $3",
            (channel_id, state.value if state else None, limit),
        )
        return [_row(r) for r in reversed(rows)]

    async def state_counts(self) -> dict[tuple[str, OutboxState], int]:
        rows = await self._db.fetch_all(
            "SELECT c.platform, o.state, COUNT(*) FROM outbox o "
            "JOIN channels c ON c.id = o.channel_id GROUP BY c.platform, o.state"
        )
        return {(r[0], OutboxState(r[1])): r[2] for r in rows}

    async def counts(self, channel_id: int | None = None) -> OutboxCounts:
        rows = await self._db.fetch_all(
            "SELECT state, COUNT(*) FROM outbox WHERE ($1::bigint IS NULL OR channel_id = $1) "
            "GROUP BY state",
            (channel_id,),
        )
        states = {r[0]: r[1] for r in rows}
        return OutboxCounts(
            waiting=states.get(_PENDING, 0) + states.get(_SENDING, 0),
            sent=states.get(OutboxState.SENT.value, 0),
            dead=states.get(OutboxState.DEAD.value, 0),
            held=states.get(_HELD, 0),
            skipped=states.get(OutboxState.SKIPPED.value, 0),
        )

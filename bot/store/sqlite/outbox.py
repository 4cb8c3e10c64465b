"""The durable outbox on SQLite.

A channel's head row is its oldest row not yet sent or dead, a poll row first (so a poll
sits right under its post). Only head rows are claimed, so each chat gets its posts in
order with at most one in flight.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence

from bot.store.ports import digest_row, poll_row
from bot.store.sqlite.db import Connection, Database, Row, fetch_one_in, marks
from bot.store.sqlite.polls import add_platform_poll_in, create_poll_in
from bot.store.sqlite.stories import record_told_in
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
        id=row[0],
        channel_id=row[1],
        article_id=row[2],
        kind=OutboxKind(row[3]),
        state=OutboxState(row[4]),
        attempts=row[5],
        last_error=row[6],
        message_id=row[7],
        platform_poll_id=row[8],
    )


def _item(row: Row) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        channel_id=row[1],
        article_id=row[2],
        kind=OutboxKind(row[3]),
        payload=row[4],
        attempts=row[5],
        nonce=row[6],
        created_at=row[7],
    )


async def insert_row(
    db: Connection,
    channel_id: int,
    kind: OutboxKind,
    dedup_key: str,
    payload: str,
    now: float,
    article_id: int | None = None,
) -> bool:
    """Queue a row inside a transaction; False if (channel, key) exists already."""
    cursor = await db.execute(
        "INSERT INTO outbox (channel_id, article_id, kind, dedup_key, payload, next_at, nonce, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, dedup_key) "
        "DO NOTHING",
        (channel_id, article_id, kind.value, dedup_key, payload, now, secrets.token_hex(12), now),
    )
    return cursor.rowcount > 0


async def insert_article_rows(
    db: Connection,
    rows: Sequence[tuple[int, int]],
    now: float,
    state: OutboxState = OutboxState.PENDING,
) -> None:
    """Queue one article row per (channel id, article id) inside a transaction, in one
    statement (held for a digest with ``state`` held); a pair queued already is left as
    it is."""
    if rows:
        await db.executemany(
            "INSERT INTO outbox (channel_id, article_id, kind, dedup_key, payload, state, "
            "next_at, nonce, created_at) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?) "
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
                    now,
                )
                for channel, article in rows
            ],
        )


class SqliteOutbox:
    """Implements :class:`bot.store.ports.OutboxStore`."""

    def __init__(self, db: Database) -> None:
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
            cursor = await db.execute(
                "UPDATE outbox SET state = ?, claimed_by = NULL WHERE state = ?",
                (_PENDING, _SENDING),
            )
            await db.execute("UPDATE feeds SET lease_owner = NULL")
            return cursor.rowcount

    async def claim_due(
        self,
        now: float,
        limit: int,
        *,
        busy: Iterable[int] = (),
        platforms: Iterable[str],
        owner: str = "",
    ) -> list[OutboxItem]:
        busy_ids = list(busy)
        names = list(platforms) or [""]
        exclude = f"AND o.channel_id NOT IN ({marks(busy_ids)})" if busy_ids else ""
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "SELECT o.id, o.channel_id, o.article_id, o.kind, o.payload, o.attempts, o.nonce, "
                "o.created_at FROM outbox o JOIN channels c ON c.id = o.channel_id "
                "WHERE o.state = ? AND c.paused_reason IS NULL AND c.not_before <= ? "
                f"AND c.platform IN ({marks(names)}) {exclude} AND {_HEAD} "
                "AND o.next_at <= ? ORDER BY o.next_at, o.id LIMIT ?",
                (_PENDING, now, *names, *busy_ids, now, limit),
            )
            items = [_item(row) for row in await cursor.fetchall()]
            await db.executemany(
                "UPDATE outbox SET state = ?, claimed_by = ? WHERE id = ?",
                [(_SENDING, owner, i.id) for i in items],
            )
        return items

    async def next_due(self, platforms: Iterable[str]) -> float | None:
        names = list(platforms) or [""]
        value = await self._db.fetch_value(
            "SELECT MIN(MAX(o.next_at, c.not_before)) FROM outbox o "
            "JOIN channels c ON c.id = o.channel_id "
            "WHERE o.state = ? AND c.paused_reason IS NULL "
            f"AND c.platform IN ({marks(names)}) AND {_HEAD}",
            (_PENDING, *names),
        )
        return float(value) if value is not None else None

    async def mark_sent(self, item_id: int, delivered: Delivered, now: float) -> None:
        async with self._db.transaction() as db:
            row = await fetch_one_in(db, "SELECT channel_id FROM outbox WHERE id = ?", (item_id,))
            if row is None:
                return
            await db.execute(
                "UPDATE outbox SET state = ?, message_id = ?, platform_poll_id = ?, "
                "sent_at = ?, last_error = ? WHERE id = ?",
                (
                    OutboxState.SENT.value,
                    delivered.message_id,
                    delivered.platform_poll_id or None,
                    now,
                    delivered.note,
                    item_id,
                ),
            )
            await record_followups(db, row[0], delivered, now)

    async def mark_retry(self, item_id: int, reason: str, next_at: float, counted: bool) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, next_at = ?, "
                "attempts = attempts + ? WHERE id = ?",
                (_PENDING, reason, next_at, int(counted), item_id),
            )

    async def mark_dead(self, item_id: int, reason: str) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?",
                (OutboxState.DEAD.value, reason, item_id),
            )

    async def held_articles(self, channel_id: int, limit: int) -> list[tuple[int, int]]:
        rows = await self._db.fetch_all(
            "SELECT id, article_id FROM outbox WHERE channel_id = ? AND state = ? "
            "ORDER BY id LIMIT ?",
            (channel_id, _HELD, limit),
        )
        return [(row[0], row[1]) for row in rows]

    async def queue_digest(self, channel_id: int, slot: float, now: float) -> bool:
        key, payload = digest_row(slot)
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE channels SET digest_last = ? WHERE id = ? AND digest_last < ?",
                (slot, channel_id, slot),
            )
            if cursor.rowcount == 0:
                return False
            held = await fetch_one_in(
                db,
                "SELECT 1 FROM outbox WHERE channel_id = ? AND state = ? LIMIT 1",
                (channel_id, _HELD),
            )
            if held is None:
                return False
            return await insert_row(db, channel_id, OutboxKind.DIGEST, key, payload, now)

    async def mark_skipped(self, item_id: int, reason: str) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, last_error = ? WHERE id = ?",
                (OutboxState.SKIPPED.value, reason, item_id),
            )

    async def latest_sent_article(self, channel_id: int) -> int | None:
        value = await self._db.fetch_value(
            "SELECT article_id FROM outbox WHERE channel_id = ? AND kind = ? AND state = ? "
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
        where, params = _where(channel_id, state)
        rows = await self._db.fetch_all(
            f"SELECT {_ROW_COLUMNS} FROM outbox {where} ORDER BY id DESC LIMIT ?",
            (*params, -1 if limit is None else limit),
        )
        return [_row(r) for r in reversed(rows)]

    async def state_counts(self) -> dict[tuple[str, OutboxState], int]:
        rows = await self._db.fetch_all(
            "SELECT c.platform, o.state, COUNT(*) FROM outbox o "
            "JOIN channels c ON c.id = o.channel_id GROUP BY c.platform, o.state"
        )
        return {(platform, OutboxState(state)): count for platform, state, count in rows}

    async def counts(self, channel_id: int | None = None) -> OutboxCounts:
        where, params = _where(channel_id, None)
        states = {
            state: count
            for state, count in await self._db.fetch_all(
                f"SELECT state, COUNT(*) FROM outbox {where} GROUP BY state", params
            )
        }
        return OutboxCounts(
            waiting=states.get(_PENDING, 0) + states.get(_SENDING, 0),
            sent=states.get(OutboxState.SENT.value, 0),
            dead=states.get(OutboxState.DEAD.value, 0),
            held=states.get(_HELD, 0),
            skipped=states.get(OutboxState.SKIPPED.value, 0),
        )


def _where(channel_id: int | None, state: OutboxState | None) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if channel_id is not None:
        clauses.append("channel_id = ?")
        params.append(channel_id)
    if state is not None:
        clauses.append("state = ?")
        params.append(state.value)
    return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


async def record_followups(
    db: Connection, channel_id: int, delivered: Delivered, now: float
) -> None:
    """Inside the transaction that marks a row sent: open the post's poll and queue it under
    the post, remember the platform poll a poll row made, send a digest's held rows,
    and record what the message told the channel of its story."""
    if delivered.digested:
        await db.executemany(
            "UPDATE outbox SET state = ?, message_id = ?, sent_at = ? "
            "WHERE id = ? AND channel_id = ? AND state = ?",
            [
                (OutboxState.SENT.value, delivered.message_id, now, row, channel_id, _HELD)
                for row in delivered.digested
            ],
        )
    if delivered.story is not None:
        await record_told_in(db, channel_id, delivered.message_id, delivered.story, now)
    opening = delivered.opens_poll
    if opening is not None:
        poll_id = await create_poll_in(
            db, opening.article_id, opening.proposal, PollOrigin.ARTICLE, opening.close_at, now
        )
        key, payload = poll_row(OutboxKind.POLL, poll_id)
        await insert_row(db, channel_id, OutboxKind.POLL, key, payload, now)
    if delivered.poll_id is not None:
        row = await fetch_one_in(db, "SELECT platform FROM channels WHERE id = ?", (channel_id,))
        platform = row[0] if row else ""
        poll_ref = delivered.platform_poll_id or delivered.message_id
        await add_platform_poll_in(
            db, delivered.poll_id, channel_id, platform, poll_ref, delivered.message_id
        )

"""Workers and their locks on PostgreSQL: heartbeats in a table, locks as session
advisory locks on a connection of their own (released by the server when the worker's
connection ends, so a dead worker's locks are free for the others)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import asyncpg

from bot.errors import StoreError
from bot.store.postgres.db import (
    CHANNEL,
    DRIVER_ERRORS,
    Connection,
    PgDatabase,
    affected,
    notify,
    store_error,
)
from bot.types import OutboxState

_PENDING, _SENDING = OutboxState.PENDING.value, OutboxState.SENDING.value
_LIVE_WORKERS = "SELECT id FROM workers WHERE last_seen >= $1"
ALIVE_TIMEOUT = 5.0  # seconds the lock connection gets to answer "still there?"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lock name."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class PgWorkers:
    """Implements :class:`bot.store.ports.WorkerStore`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def beat(self, worker: str, now: float) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO workers (id, last_seen) VALUES ($1, $2) "
                "ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
                worker,
                now,
            )

    async def recover(self, now: float, dead_after: float) -> int:
        alive = now - dead_after
        async with self._db.transaction() as db:
            status = await db.execute(
                "UPDATE outbox SET state = $2, claimed_by = NULL WHERE state = $3 AND "
                f"(claimed_by IS NULL OR claimed_by NOT IN ({_LIVE_WORKERS}))",
                alive,
                _PENDING,
                _SENDING,
            )
            await db.execute(
                "UPDATE feeds SET lease_owner = NULL WHERE lease_owner IS NOT NULL AND "
                f"lease_owner NOT IN ({_LIVE_WORKERS})",
                alive,
            )
            await db.execute("DELETE FROM workers WHERE last_seen < $1", alive)
            if affected(status):
                await notify(db, "outbox")
        return affected(status)

    async def stop(self, worker: str) -> None:
        async with self._db.transaction() as db:
            await db.execute("DELETE FROM workers WHERE id = $1", worker)

    async def held(self, worker: str) -> dict[str, int]:
        row = await self._db.fetch_one(
            "SELECT (SELECT COUNT(*) FROM feeds WHERE lease_owner = $1), "
            "(SELECT COUNT(*) FROM outbox WHERE claimed_by = $1 AND state = $2)",
            (worker, _SENDING),
        )
        return {"feeds": row[0], "outbox": row[1]} if row else {"feeds": 0, "outbox": 0}


class AdvisoryLocks:
    """Implements :class:`bot.store.ports.LockStore` with session advisory locks."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: Connection | None = None
        self._held: set[str] = set()
        self._guard = asyncio.Lock()  # one command at a time on the connection
        self._waiting: Connection | None = None  # the connection exclusive sections wait on
        self._section = asyncio.Lock()  # one exclusive section of this worker at a time

    async def acquire(self, name: str) -> bool:
        async with self._guard:
            if name in self._held:
                return True
            try:
                conn = await self._connection()
                got = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(name)))
            except DRIVER_ERRORS as e:
                raise store_error(e) from e
            if got:
                self._held.add(name)
            return got

    async def release(self, name: str) -> None:
        async with self._guard:
            if name not in self._held:
                return
            self._held.discard(name)
            if self._conn is not None and not self._conn.is_closed():
                try:
                    await self._conn.execute("SELECT pg_advisory_unlock($1)", lock_key(name))
                except DRIVER_ERRORS as e:
                    raise store_error(e) from e

    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        async with self._section:
            key = lock_key(f"exclusive:{name}")
            conn = await self._section_connection()
            await self._on_section(conn, "SELECT pg_advisory_lock($1)", key)
            try:
                yield
            finally:
                await self._on_section(conn, "SELECT pg_advisory_unlock($1)", key)

    async def _section_connection(self) -> Connection:
        if self._waiting is None or self._waiting.is_closed():
            try:
                self._waiting = await asyncpg.connect(self._url)
            except DRIVER_ERRORS as e:
                raise store_error(e) from e
        return self._waiting

    async def _on_section(self, conn: Connection, sql: str, key: int) -> None:
        try:
            await conn.execute(sql, key)
        except DRIVER_ERRORS as e:
            self._waiting = None  # its locks, if any, went with it; the next one reconnects
            conn.terminate()
            raise store_error(e) from e

    async def alive(self) -> bool:
        async with self._guard:
            if self._conn is None:
                return True  # nothing held yet
            try:
                await asyncio.wait_for(self._conn.fetchval("SELECT 1"), ALIVE_TIMEOUT)
            except (*DRIVER_ERRORS, TimeoutError):
                await self._drop()
                return False
            return True

    async def close(self) -> None:
        async with self._guard:
            await self._drop()
        waiting, self._waiting = self._waiting, None
        if waiting is not None and not waiting.is_closed():
            waiting.terminate()

    async def _connection(self) -> Connection:
        if self._conn is None or self._conn.is_closed():
            if self._held:  # the old connection, and the locks with it, are gone
                raise StoreError("the lock connection was lost", transient=True)
            self._conn = await asyncpg.connect(self._url)
        return self._conn

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._held.clear()
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=ALIVE_TIMEOUT)
            except (*DRIVER_ERRORS, TimeoutError):
                conn.terminate()


class PgChanges:
    """Implements :class:`bot.store.ports.ChangeFeed` with LISTEN on a connection of its
    own."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: Connection | None = None
        self._callbacks: dict[str, list[Callable[[], None]]] = {}

    async def listen(self, topic: str, callback: Callable[[], None]) -> None:
        self._callbacks.setdefault(topic, []).append(callback)
        if self._conn is not None and not self._conn.is_closed():
            return
        try:
            self._conn = await asyncpg.connect(self._url)
            await self._conn.add_listener(CHANNEL, self._notified)
        except DRIVER_ERRORS as e:
            raise store_error(e) from e

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await conn.close(timeout=ALIVE_TIMEOUT)
            except (*DRIVER_ERRORS, TimeoutError):
                conn.terminate()

    def _notified(self, conn: object, pid: int, channel: str, topic: str) -> None:
        for callback in self._callbacks.get(topic, ()):
            callback()

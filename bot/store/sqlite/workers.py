"""Workers and their locks on SQLite: one process uses a SQLite store, so its locks are
its own and recovering a dead worker's claims is recovering the previous run's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from bot.store.sqlite.db import Database
from bot.types import OutboxState

_PENDING, _SENDING = OutboxState.PENDING.value, OutboxState.SENDING.value
_LIVE_WORKERS = "SELECT id FROM workers WHERE last_seen >= ?"


class SqliteWorkers:
    """Implements :class:`bot.store.ports.WorkerStore`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def beat(self, worker: str, now: float) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO workers (id, last_seen) VALUES (?, ?) "
                "ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen",
                (worker, now),
            )

    async def recover(self, now: float, dead_after: float) -> int:
        alive = now - dead_after
        async with self._db.transaction() as db:
            cursor = await db.execute(
                "UPDATE outbox SET state = ?, claimed_by = NULL WHERE state = ? AND "
                f"(claimed_by IS NULL OR claimed_by NOT IN ({_LIVE_WORKERS}))",
                (_PENDING, _SENDING, alive),
            )
            await db.execute(
                "UPDATE feeds SET lease_owner = NULL WHERE lease_owner IS NOT NULL AND "
                f"lease_owner NOT IN ({_LIVE_WORKERS})",
                (alive,),
            )
            await db.execute("DELETE FROM workers WHERE last_seen < ?", (alive,))
            return cursor.rowcount

    async def stop(self, worker: str) -> None:
        async with self._db.transaction() as db:
            await db.execute("DELETE FROM workers WHERE id = ?", (worker,))

    async def held(self, worker: str) -> dict[str, int]:
        row = await self._db.fetch_one(
            "SELECT (SELECT COUNT(*) FROM feeds WHERE lease_owner = ?), "
            "(SELECT COUNT(*) FROM outbox WHERE claimed_by = ? AND state = ?)",
            (worker, worker, _SENDING),
        )
        return {"feeds": row[0], "outbox": row[1]} if row else {"feeds": 0, "outbox": 0}


class LocalLocks:
    """Implements :class:`bot.store.ports.LockStore` for a store only one process uses."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._sections: dict[str, asyncio.Lock] = {}

    async def acquire(self, name: str) -> bool:
        self._held.add(name)
        return True

    async def release(self, name: str) -> None:
        self._held.discard(name)

    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        async with self._sections.setdefault(name, asyncio.Lock()):
            yield

    async def alive(self) -> bool:
        return True

    async def close(self) -> None:
        self._held.clear()


class NoChanges:
    """Implements :class:`bot.store.ports.ChangeFeed` for a store only one process uses:
    the process's own parts tell each other directly."""

    async def listen(self, topic: str, callback: Callable[[], None]) -> None:
        return None

    async def close(self) -> None:
        return None

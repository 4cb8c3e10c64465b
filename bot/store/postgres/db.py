"""The connection pool behind the PostgreSQL store (asyncpg).

Every topic module of the store shares one ``PgDatabase``. Writes run in a transaction on a
pooled connection; reads take any pooled connection. Migrations run at start-up under an
advisory lock, so several workers starting at once migrate once.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import asyncpg

from bot.errors import StoreError
from bot.store.postgres.migrations import MIGRATIONS
from bot.store.reads import Reads

# asyncpg ships no type information: its connection and record types are Any to mypy
Connection: TypeAlias = Any  # asyncpg.Connection
Row: TypeAlias = Any  # asyncpg.Record: indexable by position and by column name
MIGRATION_LOCK = 0x6E657773  # pg_advisory_lock key for migrations ("news")
# What the driver raises: server errors, client-side misuse or a broken connection, and its
# protocol's state errors (InternalClientError, raised when the server ended a connection
# while a query was being sent on it; it derives from neither of the others)
DRIVER_ERRORS = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)
_TRANSIENT = (
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.LockNotAvailableError,
    asyncpg.TooManyConnectionsError,
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)


def store_error(error: BaseException) -> StoreError:
    """The store's error for a driver or network error (worth a retry when transient)."""
    transient = isinstance(error, (*_TRANSIENT, OSError))
    return StoreError(f"database error: {error}", transient=transient)


CHANNEL = "newsbrief"  # the LISTEN/NOTIFY channel; the payload names the topic


async def notify(db: Connection, topic: str) -> None:
    """Tell the workers listening that ``topic`` changed, when this transaction commits
    (PostgreSQL delivers a notification only then, once per topic and transaction)."""
    await db.execute("SELECT pg_notify($1, $2)", CHANNEL, topic)


def affected(status: str) -> int:
    """The row count of a command status such as ``UPDATE 3`` or ``INSERT 0 1``."""
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


async def _keep_session(conn: Connection) -> None:
    """What a pooled connection needs when it goes back to the pool: nothing. Nothing here
    leaves session state on one (advisory locks and LISTEN live on connections of their
    own), so asyncpg's default reset would only cost a round trip per query."""


class PgDatabase(Reads[Row]):
    """A pool of connections to one PostgreSQL database."""

    def __init__(self, pool: asyncpg.Pool, url: str) -> None:
        self._pool = pool
        self.url = url

    @classmethod
    async def open(cls, url: str, *, max_connections: int = 10) -> PgDatabase:
        """Connect to ``url`` and bring its schema up to date.

        Raises:
            StoreError: the server cannot be reached, refuses us, or cannot be migrated.
        """
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=max_connections, reset=_keep_session
            )
        except (asyncpg.PostgresError, OSError, ValueError) as e:
            raise StoreError(f"cannot open database {_safe(url)}: {e}") from e
        try:
            async with pool.acquire() as conn:
                await _migrate(conn)
        except BaseException as e:
            await pool.close()
            if isinstance(e, asyncpg.PostgresError | OSError):
                raise StoreError(f"cannot migrate database {_safe(url)}: {e}") from e
            raise
        return cls(pool, url)

    async def close(self) -> None:
        """Close every connection once the work in progress is done."""
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await self._pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """A pooled connection inside a transaction: committed on exit, rolled back on error.

        Raises:
            StoreError: the database failed (the transaction was rolled back).
        """
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                yield conn
        except DRIVER_ERRORS as e:
            raise store_error(e) from e

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a read query.

        Raises:
            StoreError: the database failed.
        """
        try:
            async with self._pool.acquire() as conn:
                rows: list[Row] = await conn.fetch(sql, *params)
                return rows
        except DRIVER_ERRORS as e:
            raise store_error(e) from e


async def _migrate(conn: Connection) -> None:
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS newsbrief_schema (version INTEGER NOT NULL)")
        version = await conn.fetchval("SELECT MAX(version) FROM newsbrief_schema") or 0
        if version > len(MIGRATIONS):
            raise StoreError(f"database schema {version} is newer than this newsbrief understands")
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with conn.transaction():
                await conn.execute(script)
                await conn.execute("INSERT INTO newsbrief_schema (version) VALUES ($1)", number)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)


def _safe(url: str) -> str:
    """The URL without its password (``user:password@`` or ``?password=``) nor any other
    query parameter, for messages and logs."""
    scheme, sep, rest = url.split("?", 1)[0].partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at:
        return f"{scheme}{sep}{rest}"
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}@{host}"

"""The connections behind the SQLite store: one serialized writer, one reader.

WAL mode, ``busy_timeout``, foreign keys on. Writes go through :meth:`Database.transaction`
under one lock, so transactions never interleave; reads use a second connection, so a long
write never shows half its work. Every topic module of the store shares one ``Database``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.errors import StoreError
from bot.store.reads import Reads
from bot.store.sqlite.migrations import MIGRATIONS

Connection = aiosqlite.Connection
Row = Sequence[Any]


class Database(Reads[Row]):
    """One SQLite file: a writer connection (serialized) and a reader connection."""

    def __init__(self, writer: Connection, reader: Connection, path: str) -> None:
        self._w = writer
        self._r = reader
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) and migrate the database at ``path``.

        Raises:
            StoreError: the file cannot be opened or migrated.
        """
        try:
            await asyncio.to_thread(_probe, path)
            writer = await _connect(path)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open database {path}: {e}") from e
        try:
            await _migrate(writer)
            reader = await _connect(path)
        except BaseException as e:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await writer.close()
            if isinstance(e, sqlite3.Error | OSError):
                raise StoreError(f"cannot open database {path}: {e}") from e
            raise
        return cls(writer, reader, str(path))

    async def close(self) -> None:
        """Close both connections once the write in progress is done."""
        async with self._lock:
            for connection in (self._r, self._w):
                with contextlib.suppress(sqlite3.Error, ValueError):
                    await connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Connection]:
        """The writer inside ``BEGIN IMMEDIATE``: committed on exit, rolled back on error.

        Raises:
            StoreError: the database failed (the transaction was rolled back).
        """
        async with self._lock:
            try:
                await self._w.execute("BEGIN IMMEDIATE")
            except (sqlite3.Error, ValueError) as e:  # ValueError: the store is closed
                raise store_error(e) from e
            try:
                yield self._w
                await self._w.execute("COMMIT")
            except BaseException as e:
                # a cancelled await may still have committed in aiosqlite's thread; then
                # there is nothing left to roll back
                with contextlib.suppress(sqlite3.Error, ValueError):
                    await self._w.execute("ROLLBACK")
                if isinstance(e, sqlite3.Error):
                    raise store_error(e) from e
                raise

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of a read query.

        Raises:
            StoreError: the database failed.
        """
        try:  # one trip to the connection's thread (execute, fetch and close are three)
            return list(await self._r.execute_fetchall(sql, params))
        except (sqlite3.Error, ValueError) as e:
            raise store_error(e) from e


async def fetch_all_in(db: Connection, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Every row of a query inside a transaction."""
    return list(await db.execute_fetchall(sql, params))


async def fetch_one_in(db: Connection, sql: str, params: Sequence[Any] = ()) -> Row | None:
    """The first row of a query inside a transaction."""
    rows = await db.execute_fetchall(sql, params)
    return next(iter(rows), None)


def store_error(error: Exception) -> StoreError:
    """The store's error for a driver error: locked, busy or closed is worth a retry."""
    transient = isinstance(error, sqlite3.OperationalError | ValueError)
    return StoreError(f"database error: {error}", transient=transient)


def marks(items: Sequence[object]) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``items``."""
    return ", ".join("?" for _ in items)


def chunks(items: Sequence[Any], size: int = 500) -> list[Sequence[Any]]:
    """``items`` in slices short enough for SQLite's bound-parameter limit."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def _probe(path: Path | str) -> None:
    """Open and close the file with the plain driver (in a worker thread). A file that
    cannot be opened fails here: aiosqlite, when its connect fails, stops its worker
    thread without waiting for it, and the thread then outlives the event loop and prints
    a traceback ("Event loop is closed") after our error message.

    Raises:
        sqlite3.Error: the file cannot be opened.
    """
    sqlite3.connect(str(path)).close()


async def _connect(path: Path | str) -> Connection:
    db = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA busy_timeout = 5000")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await db.close()
        raise
    return db


async def _migrate(db: Connection) -> None:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = row[0] if row else 0
    if version > len(MIGRATIONS):
        raise StoreError(f"database schema {version} is newer than this newsbrief understands")
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        await db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")

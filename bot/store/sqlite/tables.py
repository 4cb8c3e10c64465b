"""Whole tables, row for row, on SQLite (for ``db copy``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.sqlite.db import Database
from bot.store.tables import Table

Rows = list[tuple[object, ...]]


def _upsert(table: Table) -> str:
    marks = ", ".join("?" for _ in table.columns)
    updates = [f"{c} = excluded.{c}" for c in table.columns if c not in table.key]
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(table.key)}) {action}"
    )


def _decoded(table: Table, row: Sequence[object]) -> tuple[object, ...]:
    """SQLite keeps booleans as 0/1; rows cross stores with real booleans."""
    return tuple(
        bool(value) if column in table.booleans and value is not None else value
        for column, value in zip(table.columns, row, strict=True)
    )


class SqliteTables:
    """Implements :class:`bot.store.ports.TableRows`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def count(self, table: Table) -> int:
        value = await self._db.fetch_value(f"SELECT COUNT(*) FROM {table.name}")
        return int(value or 0)

    async def read(self, table: Table, after: tuple[object, ...] | None, limit: int) -> Rows:
        key = ", ".join(table.key)
        where, params = "", []
        if after is not None:
            where = f"WHERE ({key}) > ({', '.join('?' for _ in table.key)})"
            params = list(after)
        rows = await self._db.fetch_all(
            f"SELECT {', '.join(table.columns)} FROM {table.name} {where} ORDER BY {key} LIMIT ?",
            (*params, limit),
        )
        return [_decoded(table, r) for r in rows]

    async def write(self, table: Table, rows: Sequence[tuple[object, ...]]) -> None:
        async with self._db.transaction() as db:
            await db.executemany(_upsert(table), rows)

    async def finish(self) -> None:
        return None  # INTEGER PRIMARY KEY continues after the largest id by itself

"""Whole tables, row for row, on SQLite (for ``db copy``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from bot.store.sqlite.articles import index_articles, index_waiting
from bot.store.sqlite.db import Connection, Database, chunks, fetch_all_in, marks
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


async def _new_articles(
    db: Connection, table: Table, rows: Sequence[Sequence[object]]
) -> list[int]:
    """The ids among ``rows`` of articles not stored yet (they need indexing once written;
    a rewritten article is indexed again by its update trigger)."""
    if table.name != "articles":
        return []
    at = table.columns.index("id")
    ids = [cast(int, row[at]) for row in rows]
    stored: set[int] = set()
    for chunk in chunks(ids):
        found = await fetch_all_in(
            db, f"SELECT id FROM articles WHERE id IN ({marks(chunk)})", chunk
        )
        stored.update(r[0] for r in found)
    return [i for i in dict.fromkeys(ids) if i not in stored]


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
            new = await _new_articles(db, table, rows)
            await index_waiting(db)  # the rows written are indexed below, by their ids
            await db.executemany(_upsert(table), rows)
            await index_articles(db, new)

    async def finish(self) -> None:
        return None  # INTEGER PRIMARY KEY continues after the largest id by itself

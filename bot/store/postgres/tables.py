"""Whole tables, row for row, on PostgreSQL (for ``db copy``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.postgres.db import PgDatabase
from bot.store.tables import TABLES, Table

Rows = list[tuple[object, ...]]


def _upsert(table: Table) -> str:
    marks = ", ".join(f"${i}" for i in range(1, len(table.columns) + 1))
    updates = [f"{c} = excluded.{c}" for c in table.columns if c not in table.key]
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {table.name} ({', '.join(table.columns)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(table.key)}) {action}"
    )


class PgTables:
    """Implements :class:`bot.store.ports.TableRows`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def count(self, table: Table) -> int:
        value = await self._db.fetch_value(f"SELECT COUNT(*) FROM {table.name}")
        return int(value or 0)

    async def read(self, table: Table, after: tuple[object, ...] | None, limit: int) -> Rows:
        key = ", ".join(table.key)
        where, params = "", list[object]()
        if after is not None:
            marks = ", ".join(f"${i}" for i in range(1, len(table.key) + 1))
            where, params = f"WHERE ({key}) > ({marks})", list(after)
        rows = await self._db.fetch_all(
            f"SELECT {', '.join(table.columns)} FROM {table.name} {where} ORDER BY {key} "
            f"LIMIT ${len(params) + 1}",
            (*params, limit),
        )
        return [tuple(r) for r in rows]

    async def write(self, table: Table, rows: Sequence[tuple[object, ...]]) -> None:
        async with self._db.transaction() as db:
            await db.executemany(_upsert(table), rows)

    async def finish(self) -> None:
        async with self._db.transaction() as db:
            for table in TABLES:
                if table.serial:
                    await db.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table.name}"
                    )

"""PostgreSQL only: workers starting together on an empty database migrate it once."""

from __future__ import annotations

import asyncio

import asyncpg

from bot.store.postgres import PostgresStore
from bot.store.postgres.migrations import MIGRATIONS
from tests.bot.helpers import make_feed
from tests.fakes.postgres import Databases


async def _versions(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        return [r[0] for r in await conn.fetch("SELECT version FROM newsbrief_schema ORDER BY 1")]
    finally:
        await conn.close()


async def test_three_stores_opening_one_empty_database_at_once_migrate_it_once(
    postgres: Databases,
) -> None:
    """Three stores opening one empty, unmigrated database at the same moment record each
    migration exactly once, and every one of them then reads what the others wrote."""
    url = await postgres.empty()
    stores = await asyncio.gather(*(PostgresStore.open(url) for _ in range(3)))
    try:
        for n, store in enumerate(stores):
            await make_feed(store, f"https://news.test/{n}")
        seen = [sorted(f.url for f in await store.feeds.all()) for store in stores]
    finally:
        await asyncio.gather(*(store.close() for store in stores))
    assert await _versions(url) == list(range(1, len(MIGRATIONS) + 1))
    assert seen == [[f"https://news.test/{n}" for n in range(3)]] * 3

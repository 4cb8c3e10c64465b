"""PostgreSQL only: workers starting together on an empty database migrate it once; an
upgrade makes the search column again."""

from __future__ import annotations

import asyncio

import asyncpg

from bot.store.ports import SEARCH_CHARS
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


async def test_an_install_indexing_4000_chars_searches_the_first_search_chars_after_upgrade(
    postgres: Databases,
) -> None:
    """A database whose search column held 4,000 characters of each text is made again at
    the upgrade: a word within ``SEARCH_CHARS`` is found, one only past it no longer."""
    url = await postgres.empty()
    shorter = next(n for n, m in enumerate(MIGRATIONS, start=1) if "left(text, 2000)" in m)
    late = ("Night buses start on twelve routes. " * 100)[: SEARCH_CHARS + 100] + " zeppelin."
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CREATE TABLE newsbrief_schema (version INTEGER NOT NULL)")
        for number, script in enumerate(MIGRATIONS[: shorter - 1], start=1):
            await conn.execute(script)
            await conn.execute("INSERT INTO newsbrief_schema (version) VALUES ($1)", number)
        await conn.execute(
            "INSERT INTO feeds (id, url, origin, every, created_at) "
            "VALUES (1, 'https://news.test/rss', 'config', 600, 0)"
        )
        await conn.execute(
            "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text, "
            "published, fetched_at, story_id, content_hash, simhash) VALUES "
            "(1, 1, 'g1', 'https://news.test/1', '', 'Harbour news', $1, 0, 0, 1, 'h', 1)",
            late,
        )
        before = await conn.fetchval(
            "SELECT COUNT(*) FROM articles WHERE search @@ to_tsquery('simple', 'zeppelin')"
        )
    finally:
        await conn.close()
    store = await PostgresStore.open(url)
    try:
        found = {
            word: [
                h.article.guid
                for h in await store.articles.search([word], any_term=False, limit=5, since=0)
            ]
            for word in ("zeppelin", "buses", "harbour")
        }
    finally:
        await store.close()
    assert before == 1
    assert found == {"zeppelin": [], "buses": ["g1"], "harbour": ["g1"]}
    assert await _versions(url) == list(range(1, len(MIGRATIONS) + 1))

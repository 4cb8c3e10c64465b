"""SQLite only: the FTS5 index agrees with the articles it indexes, however they arrived
(ingest saves, ``db copy`` writes, an install migrated from before articles were indexed
once per save)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.store.ports import SEARCH_CHARS
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.migrations import MIGRATIONS
from bot.store.tables import TABLES
from bot.types import FeedUpdate, Routed
from tests.bot.helpers import article, make_feed

NOW = 1_800_000_000.0


def _index_agrees(path: Path) -> bool:
    """FTS5's own check of the index against its content (raises when they differ)."""
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        return True


async def test_the_index_agrees_with_saved_and_copied_articles(tmp_path: Path) -> None:
    """After ingest saves (with skipped GUIDs), rows written by ``db copy`` and a rewrite,
    FTS5's integrity check passes."""
    store = await SqliteStore.open(tmp_path / "nb.db")
    feed = await make_feed(store)
    update = FeedUpdate(feed.id, NOW, NOW)
    await store.articles.save_ingest(update, [Routed(article(feed, n), ()) for n in (1, 2)])
    await store.articles.save_ingest(update, [Routed(article(feed, n), ()) for n in (2, 3, 3)])
    articles = next(t for t in TABLES if t.name == "articles")
    [row] = await store.tables.read(articles, None, 1)
    copied = (40, *row[1:2], "copied", *row[3:5], "Copied title", "Copied text.", *row[7:])
    await store.tables.write(articles, [copied, (*row[:6], "Rewritten text.", *row[7:])])
    await store.close()
    assert _index_agrees(tmp_path / "nb.db")


def _per_save_index() -> int:
    """The number of the migration that dropped the per-row indexing trigger."""
    return next(
        number
        for number, script in enumerate(MIGRATIONS, start=1)
        if "DROP TRIGGER articles_ai" in script and "CREATE TRIGGER articles_ai" not in script
    )


async def test_an_install_from_before_the_per_save_index_keeps_its_index(tmp_path: Path) -> None:
    """An article indexed by the old per-row trigger is still found after the upgrade,
    beside one saved after it."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path, isolation_level=None) as conn:
        before = MIGRATIONS[: _per_save_index() - 1]
        for number, script in enumerate(before, start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
        conn.execute(
            "INSERT INTO feeds (id, url, origin, every, created_at) "
            "VALUES (1, 'https://news.test/rss', 'config', 600, 0)"
        )
        conn.execute(
            "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text, "
            "published, fetched_at, story_id, content_hash, simhash) VALUES "
            "(1, 1, 'old', 'https://news.test/old', '', 'Old story', 'Indexed by a trigger.', "
            "0, 0, 1, 'h', 1)"
        )
    store = await SqliteStore.open(path)
    feed = await store.feeds.get(1)
    assert feed is not None
    await store.articles.save_ingest(FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, 2), ())])
    hits = await store.articles.search(["story"], any_term=False, limit=5, since=0)
    await store.close()
    assert sorted(h.article.guid for h in hits) == ["guid-2", "old"]
    assert _index_agrees(path)


def _indexed(path: Path, word: str) -> int:
    """How many articles the FTS5 index itself holds for ``word`` (no batch run first)."""
    with sqlite3.connect(path) as conn:
        query = "SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH ?"
        return int(conn.execute(query, (word,)).fetchone()[0])


async def test_saves_enter_the_index_in_one_batch_and_once(tmp_path: Path) -> None:
    """Saved articles wait for the index until a batch takes them all at once (not while
    fewer than asked wait); a second batch finds nothing to do, and the index agrees."""
    path = tmp_path / "nb.db"
    store = await SqliteStore.open(path)
    feed = await make_feed(store)
    update = FeedUpdate(feed.id, NOW, NOW)
    await store.articles.save_ingest(update, [Routed(article(feed, n), ()) for n in (1, 2)])
    await store.articles.save_ingest(update, [Routed(article(feed, 3), ())])
    waiting = (_indexed(path, "story"), await store.articles.index_pending(4))
    batches = [await store.articles.index_pending(), await store.articles.index_pending()]
    await store.close()
    assert (waiting, batches) == ((0, 0), [3, 0])
    assert _indexed(path, "story") == 3
    assert _index_agrees(path)


async def test_a_search_finds_articles_saved_before_a_crash_left_them_unindexed(
    tmp_path: Path,
) -> None:
    """Articles saved by a process that ended before its batch (as a crash leaves them)
    are found by the next search, which indexes them first."""
    path = tmp_path / "nb.db"
    store = await SqliteStore.open(path)
    feed = await make_feed(store)
    await store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, n), ()) for n in (1, 2)]
    )
    await store.close()
    assert _indexed(path, "story") == 0
    store = await SqliteStore.open(path)
    hits = await store.articles.search(["story"], any_term=False, limit=5, since=0)
    await store.close()
    assert sorted(h.article.guid for h in hits) == ["guid-1", "guid-2"]
    assert _index_agrees(path)


async def test_an_article_changed_before_its_batch_is_indexed_as_it_is_then(
    tmp_path: Path,
) -> None:
    """An article changed or deleted while it waits for the search index is not taken out
    of an index it was never in: the batch indexes it as it is then, and the index agrees."""
    path = tmp_path / "nb.db"
    store = await SqliteStore.open(path)
    feed = await make_feed(store)
    await store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, n), ()) for n in (1, 2)]
    )
    async with store.db.transaction() as db:
        await db.execute("UPDATE articles SET title = 'Lighthouse' WHERE guid = 'guid-1'")
        await db.execute("DELETE FROM articles WHERE guid = 'guid-2'")
    hits = await store.articles.search(["lighthouse"], any_term=False, limit=5, since=0)
    await store.close()
    assert [h.article.guid for h in hits] == ["guid-1"]
    assert _index_agrees(path)


def _migrated_to(path: Path, last: int) -> None:
    """A store file made by the first ``last`` migrations, as an older install left it."""
    with sqlite3.connect(path, isolation_level=None) as conn:
        for number, script in enumerate(MIGRATIONS[:last], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")


def _shorter_index() -> int:
    """The number of the migration that indexes 2,000 characters instead of 4,000."""
    return next(
        number
        for number, script in enumerate(MIGRATIONS, start=1)
        if "substr(text, 1, 2000) AS text" in script
    )


async def test_an_install_indexing_4000_chars_is_indexed_again_over_search_chars(
    tmp_path: Path,
) -> None:
    """An install whose index held the first 4,000 characters of each text is indexed
    again at the upgrade: a word within ``SEARCH_CHARS`` is found, one past it no longer,
    articles still waiting for their batch are indexed too, and deleting an article indexed
    before the upgrade leaves the index consistent."""
    path = tmp_path / "old.db"
    _migrated_to(path, _shorter_index() - 1)
    late = ("Night buses start on twelve routes. " * 100)[: SEARCH_CHARS + 100] + " zeppelin."
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute(
            "INSERT INTO feeds (id, url, origin, every, created_at) "
            "VALUES (1, 'https://news.test/rss', 'config', 600, 0)"
        )
        for n, text in ((1, late), (2, "A lighthouse on the harbour."), (3, "Waiting here.")):
            conn.execute(
                "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text, "
                "published, fetched_at, story_id, content_hash, simhash) VALUES "
                "(?, 1, ?, ?, '', 'Harbour news', ?, 0, 0, ?, 'h', 1)",
                (n, f"g{n}", f"https://news.test/{n}", text, n),
            )
            if n == 2:  # the first two indexed over 4,000 characters, the third waiting
                conn.execute(
                    "INSERT INTO articles_fts (rowid, title, text) "
                    "SELECT id, title, text FROM articles_indexed"
                )
                conn.execute("UPDATE search_indexed SET upto = 2")
        assert _indexed(path, "zeppelin") == 1
    store = await SqliteStore.open(path)
    found = {
        word: sorted(
            h.article.guid
            for h in await store.articles.search([word], any_term=False, limit=5, since=0)
        )
        for word in ("zeppelin", "lighthouse", "waiting", "harbour")
    }
    async with store.db.transaction() as db:
        await db.execute("DELETE FROM articles WHERE id = 1")
    await store.close()
    assert found == {
        "zeppelin": [],
        "lighthouse": ["g2"],
        "waiting": ["g3"],
        "harbour": ["g1", "g2", "g3"],
    }
    assert _indexed(path, "harbour") == 2
    assert _index_agrees(path)

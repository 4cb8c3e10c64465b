"""Ingest's own work after the CPU thread is done with a feed, on the 137 corpus feeds, as
in a cold ingest (a first fetch, no channel): the routing (near-copies, stories) and the
SQLite save path (the two "is it new" checks and ``save_ingest``, one transaction per feed),
each beside the previous way in the same run (``bench/route_v1.py``; below, the previous
save's statements), alternated, best of 5, CPU seconds. The entries are converted and
fingerprinted once beforehand, as ingest does; the routing also takes every corpus feed a
second time as another outlet's copies."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path

from bench import Rows, route_v1, run_table
from bot.ingest import pipeline, routing, rules
from bot.ingest.dedup import NearDuplicateIndex
from bot.ingest.stories import StoryIndex
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.articles import _signed
from bot.store.sqlite.db import Database, chunks, fetch_one_in, marks
from bot.store.sqlite.outbox import insert_article_rows
from bot.types import (
    Channel,
    Feed,
    FeedEntry,
    FeedOrigin,
    FeedUpdate,
    Routed,
)
from tests.conftest import CORPUS

ROUNDS = 5
NOW = 1_800_000_000.0
Prepared = tuple[Feed, list[FeedEntry], dict[str, str], pipeline._Prepared]


def _prepared_corpus() -> list[Prepared]:
    """Every corpus feed read and converted as ingest does, then again as copies."""
    files = sorted((CORPUS / "feeds").glob("*.xml"))
    done: list[Prepared] = []
    for n, path in enumerate(files * 2, start=1):
        doc, raw = pipeline._read_document(path.read_bytes(), path.as_uri())
        canonical = doc.canonical
        if n > len(files):
            raw = [replace(e, guid=f"copy:{e.guid}") for e in raw]
            canonical = {f"copy:{guid}": f"{url}#copy" for guid, url in canonical.items()}
        prepared = pipeline._prepared(raw)
        feed = Feed(n, path.as_uri(), "", 600.0, 0, FeedOrigin.CONFIG)  # a first fetch
        done.append(
            (
                feed,
                rules.new_entries(prepared.entries, set(), set(), canonical),
                canonical,
                prepared,
            )
        )
    return done


def _route_now(corpus: Sequence[Prepared], channels: list[Channel]) -> float:
    near, stories = NearDuplicateIndex(), StoryIndex()
    start = time.process_time()
    for n, (feed, fresh, canonical, prepared) in enumerate(corpus):
        following = [c for c in channels if routing.follows_feed(c, feed)]
        decide = pipeline._Routing(feed, following, NOW, near, stories)
        routed, _ = pipeline._route(fresh, canonical, prepared, decide)
        ids = range(n * 2000, n * 2000 + len(routed))
        pipeline._remember(near, stories, routed, ids, prepared.terms)
    return time.process_time() - start


def _route_before(corpus: Sequence[Prepared], channels: list[Channel]) -> float:
    indexes = NearDuplicateIndex(), StoryIndex()
    start = time.process_time()
    for n, (feed, fresh, canonical, prepared) in enumerate(corpus):
        routed, _ = route_v1.route(
            feed, fresh, canonical, channels, NOW, prepared.prints, prepared.terms, indexes
        )
        route_v1.remember(routed, range(n * 2000, n * 2000 + len(routed)), prepared.terms, indexes)
    return time.process_time() - start


def _batches(corpus: Sequence[Prepared], feed_ids: dict[str, int]) -> list[list[Routed]]:
    """Each corpus feed's articles as ingest routes them (to no channel), for the store."""
    batches = []
    for feed, fresh, canonical, prepared in corpus[: len(corpus) // 2]:
        decide = pipeline._Routing(feed, [], NOW, NearDuplicateIndex(), StoryIndex())
        routed, _ = pipeline._route(fresh, canonical, prepared, decide)
        stored = replace(feed, id=feed_ids[feed.url])
        batches.append([Routed(replace(r.article, feed_id=stored.id), ()) for r in routed])
    return batches


async def _store(
    tmp: Path, corpus: Sequence[Prepared], name: str
) -> tuple[SqliteStore, list[list[Routed]]]:
    store = await SqliteStore.open(tmp / f"{name}.db")
    ids = {}
    for feed, *_ in corpus[: len(corpus) // 2]:
        stored = await store.feeds.upsert(
            feed.url, name="", origin=FeedOrigin.CONFIG, every=600, backfill=0, now=0
        )
        ids[feed.url] = stored.id
    return store, _batches(corpus, ids)


async def _save_now(store: SqliteStore, batches: list[list[Routed]]) -> None:
    for batch in batches:
        feed_id = batch[0].article.feed_id if batch else 0
        for _ in range(2):  # before the conversion, and again inside the ingest section
            await store.articles.known(feed_id, *_keys(batch))
        await store.articles.save_ingest(FeedUpdate(feed_id, NOW, NOW + 600), batch)


async def _save_before(store: SqliteStore, batches: list[list[Routed]]) -> None:
    for batch in batches:
        feed_id = batch[0].article.feed_id if batch else 0
        for _ in range(2):
            await _known_before(store.db, feed_id, *_keys(batch))
        await _save_ingest_before(store.db, FeedUpdate(feed_id, NOW, NOW + 600), batch)


def _keys(batch: Sequence[Routed]) -> tuple[list[str], list[str]]:
    urls = [r.article.canonical_url for r in batch if r.article.canonical_url]
    return [r.article.guid for r in batch], urls


async def _known_before(db: Database, feed_id: int, guids: list[str], urls: list[str]) -> None:
    """The previous ``known``: a query for the GUIDs, another for the URLs."""
    for chunk in chunks(guids):
        await db.fetch_all(
            f"SELECT guid FROM articles WHERE feed_id = ? AND guid IN ({marks(chunk)})",
            (feed_id, *chunk),
        )
    for chunk in chunks(urls):
        await db.fetch_all(
            f"SELECT canonical_url FROM articles WHERE canonical_url IN ({marks(chunk)})", chunk
        )


async def _save_ingest_before(db: Database, u: FeedUpdate, routed: Sequence[Routed]) -> None:
    """The previous ``save_ingest``: ids planned from MAX(id), read back after the insert."""
    async with db.transaction() as conn:
        row = await fetch_one_in(conn, "SELECT COALESCE(MAX(id), 0) FROM articles")
        first = int(row[0]) + 1 if row else 1
        planned = range(first, first + len(routed))
        await conn.executemany(
            "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text, "
            "published, fetched_at, story_id, content_hash, simhash, image, author, tags) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (feed_id, guid) DO NOTHING",
            [
                (
                    i,
                    a.feed_id,
                    a.guid,
                    a.url,
                    a.canonical_url,
                    a.title,
                    a.text,
                    a.published,
                    u.now,
                    a.duplicate_of or a.story or i,
                    a.content_hash,
                    _signed(a.simhash),
                    a.image,
                    a.author,
                    json.dumps(list(a.tags)),
                )
                for i, a in zip(planned, (r.article for r in routed), strict=True)
            ],
        )
        await conn.execute_fetchall(
            "SELECT id FROM articles WHERE id >= ? AND id < ?", (first, first + len(routed))
        )
        await insert_article_rows(conn, [], u.now)
        await conn.execute(
            "UPDATE feeds SET etag = ?, last_modified = ?, title = COALESCE(?, title), "
            "next_due = ?, failures = 0, last_error = NULL, last_ok_at = ?, fetched_once = 1, "
            "lease_owner = NULL WHERE id = ?",
            (u.etag, u.last_modified, u.title, u.next_due, u.now, u.feed_id),
        )


async def _timed_save(
    tmp: Path,
    corpus: Sequence[Prepared],
    name: str,
    save: Callable[[SqliteStore, list[list[Routed]]], Awaitable[None]],
) -> tuple[float, float]:
    store, batches = await _store(tmp, corpus, name)
    start, main = time.process_time(), time.thread_time()
    await save(store, batches)
    spent = time.process_time() - start, time.thread_time() - main
    await store.close()
    return spent


async def _run(tmp: Path) -> Rows:
    corpus = _prepared_corpus()
    channels: list[Channel] = []  # as `python -m bench ingest`: no channel, a first fetch
    routes: dict[str, list[float]] = {"now": [], "before": []}
    saves: dict[str, list[tuple[float, float]]] = {"now": [], "before": []}
    for n in range(ROUNDS):
        routes["before"].append(_route_before(corpus, channels))
        routes["now"].append(_route_now(corpus, channels))
        saves["before"].append(await _timed_save(tmp, corpus, f"b{n}", _save_before))
        saves["now"].append(await _timed_save(tmp, corpus, f"n{n}", _save_now))
    articles = sum(len(fresh) for _, fresh, _, _ in corpus)
    half = sum(len(fresh) for _, fresh, _, _ in corpus[: len(corpus) // 2])
    rows = [(f"routing {articles} articles of {len(corpus)} feeds", "CPU s, best of 5")]
    rows += [(f"  {k}", f"{min(v):.3f}") for k, v in routes.items()]
    rows.append(
        (f"saving {half} articles, {len(corpus) // 2} feeds", "CPU s (loop thread), best of 5")
    )
    rows += [
        (f"  {k}", f"{min(s for s, _ in v):.3f} ({min(m for _, m in v):.3f})")
        for k, v in saves.items()
    ]
    return rows


def main() -> int:
    """Print the save table."""
    return run_table("save", _run)

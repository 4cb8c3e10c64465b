"""What the product's SQLite store spends saving entries as ingest saves them (one save
per feed), with its search index over the title and the first N characters of the text,
or with no index: the measure of the index's upkeep against the save path it rides on
(``python -m bench ingest`` and ``python -m bench search``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from bot.ingest.pipeline import INDEX_BATCH
from bot.store.sqlite import SqliteStore
from bot.types import FeedEntry, FeedOrigin, FeedUpdate, NewArticle, Routed

_NO_INDEX = (
    "DROP TRIGGER articles_ad",
    "DROP TRIGGER articles_au",
    "DROP TABLE articles_fts",
    "DROP VIEW articles_indexed",
    "CREATE VIEW articles_indexed AS SELECT id, title, text FROM articles WHERE 0",
    "CREATE TABLE articles_fts (title TEXT, text TEXT)",
)


def _prefix(chars: int) -> tuple[str, ...]:
    """The index's content made the title and the first ``chars`` characters of the text
    (0: the whole text). Only saves are measured: the delete and update triggers stay."""
    body = "text" if chars == 0 else f"substr(text, 1, {chars})"
    return (
        "DROP VIEW articles_indexed",
        f"CREATE VIEW articles_indexed AS SELECT id, title, {body} AS text FROM articles",
    )


async def store_cost(db: Path, feeds: Sequence[Sequence[FeedEntry]], chars: int | None) -> float:
    """Seconds to store every entry through the product's store, one save per feed as
    ingest does, with the search index over ``chars`` characters of the text (``None``: no
    index; 0: the whole text) taken in batches as ingest takes it: whenever
    ``INDEX_BATCH`` articles were saved since the last batch, and at the end."""
    store = await SqliteStore.open(db)
    # with no index, the store's index statement reads an empty view and writes nothing
    async with store.db.transaction() as conn:
        for statement in _NO_INDEX if chars is None else _prefix(chars):
            await conn.execute(statement)
    saves = []
    for n, entries in enumerate(feeds):
        feed = await store.feeds.upsert(
            f"https://bench.test/{n}",
            name="",
            origin=FeedOrigin.CONFIG,
            every=600,
            backfill=0,
            now=0,
        )
        routed = [
            Routed(NewArticle(feed.id, e.guid, e.url, e.url, e.title, e.text, 0, "h", 1), ())
            for e in entries
        ]
        saves.append((FeedUpdate(feed.id, 0, 0), routed))
    start = time.perf_counter()
    unindexed = 0
    for update, routed in saves:
        unindexed += len(await store.articles.save_ingest(update, routed))
        if unindexed >= INDEX_BATCH:  # as the ingestor asks: once it saved a batch's worth
            unindexed = 0
            await store.articles.index_pending(INDEX_BATCH)
    await store.articles.index_pending()
    elapsed = time.perf_counter() - start
    await store.close()
    return elapsed


async def upkeep(
    folder: Path, feeds: Sequence[Sequence[FeedEntry]], prefixes: Sequence[int], rounds: int
) -> tuple[float, dict[int, float]]:
    """The save path with no index, and what each prefix's index adds to it: best of
    ``rounds`` each, the variants alternated so a slow moment of the machine hits all."""
    plain: list[float] = []
    indexed: dict[int, list[float]] = {p: [] for p in prefixes}
    for n in range(rounds):
        plain.append(await store_cost(folder / f"upkeep-plain{n}.db", feeds, None))
        for p in prefixes:
            indexed[p].append(await store_cost(folder / f"upkeep-{p}-{n}.db", feeds, p))
    best = min(plain)
    return best, {p: max(min(times) - best, 0.0) for p, times in indexed.items()}

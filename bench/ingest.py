"""Ingest of the real corpus feeds served from loopback, cold then warm (conditional GET),
beside feedparser alone parsing the same bytes in the same run."""

from __future__ import annotations

import contextlib
import resource
import time
from pathlib import Path

import feedparser

from bench import run_table
from bot.clock import SystemClock
from bot.feeds.fetch import HttpFetcher
from bot.feeds.parse import parse_feed
from bot.ingest.pipeline import Ingestor
from bot.store.sqlite import SqliteStore
from bot.types import FeedOrigin
from tests.fakes.http_server import LocalServer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"


def _max_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _feedparser_alone(bodies: list[bytes]) -> tuple[float, int]:
    start = time.perf_counter()
    entries = sum(len(feedparser.parse(body).entries) for body in bodies)
    return time.perf_counter() - start, entries


def _our_parse(bodies: list[bytes]) -> tuple[float, int]:
    start = time.perf_counter()
    entries = 0
    for body in bodies:
        with contextlib.suppress(Exception):  # a bench counts, it does not stop
            entries += len(parse_feed(body).entries)
    return time.perf_counter() - start, entries


async def _store_cost(db: Path, with_fts: bool, source: SqliteStore) -> float:
    """Time to insert the same articles again, with or without the FTS index triggers."""
    from bot.types import FeedUpdate, NewArticle, Routed

    target = await SqliteStore.open(db)
    if not with_fts:
        async with target.db.transaction() as conn:
            for trigger in ("articles_ai", "articles_ad", "articles_au"):
                await conn.execute(f"DROP TRIGGER {trigger}")
    feed = await target.feeds.upsert(
        "bench", name="", origin=FeedOrigin.CONFIG, every=600, backfill=0, now=0
    )
    articles = await source.db.fetch_all(
        "SELECT guid, url, canonical_url, title, text, published, "
        "content_hash, simhash FROM articles"
    )
    routed = [
        Routed(
            NewArticle(feed.id, f"{i}", r[1], r[2], r[3], r[4], r[5], r[6], r[7] & ((1 << 64) - 1)),
            (),
        )
        for i, r in enumerate(articles)
    ]
    start = time.perf_counter()
    await target.articles.save_ingest(FeedUpdate(feed.id, 0, 0), routed)
    elapsed = time.perf_counter() - start
    await target.close()
    return elapsed


async def _run(tmp: Path) -> list[tuple[str, str]]:
    files = sorted(CORPUS.glob("*.xml"))
    bodies = [f.read_bytes() for f in files]
    async with LocalServer() as server:
        server.serve_directory("/feeds", CORPUS)
        store = await SqliteStore.open(tmp / "bench.db")
        for f in files:
            await store.feeds.upsert(
                server.url(f"/feeds/{f.name}"),
                name="",
                origin=FeedOrigin.CONFIG,
                every=600,
                backfill=0,
                now=0,
            )
        fetcher = HttpFetcher(allow_private_hosts=True)
        ingestor = Ingestor(store, fetcher, SystemClock())
        rss_before = _max_rss_mib()
        start = time.perf_counter()
        cold = await ingestor.run(only_due=False)
        cold_s = time.perf_counter() - start
        rss_cold = _max_rss_mib()
        start = time.perf_counter()
        warm = await ingestor.run(only_due=False)
        warm_s = time.perf_counter() - start
        await fetcher.aclose()
        store_fts = await _store_cost(tmp / "fts.db", True, store)
        store_plain = await _store_cost(tmp / "plain.db", False, store)
        await store.close()
    parse_s, parse_entries = _our_parse(bodies)
    fp_s, fp_entries = _feedparser_alone(bodies)
    return [
        ("feeds", f"{len(files)}"),
        ("articles stored (cold)", f"{cold.new_articles}"),
        ("cold ingest, whole pipeline over HTTP", f"{cold_s:.2f} s"),
        ("  articles per second", f"{cold.new_articles / cold_s:,.0f}"),
        ("  parsing (newsbrief parse_feed)", f"{parse_s:.2f} s ({parse_entries} entries)"),
        ("  storing (SQLite, no FTS)", f"{store_plain:.2f} s"),
        ("  indexing (FTS5 triggers)", f"{max(0.0, store_fts - store_plain):.2f} s"),
        ("  peak RSS before / after cold ingest", f"{rss_before:.0f} / {rss_cold:.0f} MiB"),
        ("warm ingest (conditional GET)", f"{warm_s:.2f} s ({warm.not_modified} not modified)"),
        ("feedparser alone, parse only", f"{fp_s:.2f} s ({fp_entries} entries)"),
        ("ratio feedparser-parse / newsbrief-cold-ingest", f"{fp_s / cold_s:.1f}x"),
        (
            "max RSS of this process",
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
        ),
    ]


def main() -> int:
    """Print the ingest table."""
    if not CORPUS.exists():
        print(f"ingest: corpus not found at {CORPUS}")
        return 1
    return run_table("ingest", _run)

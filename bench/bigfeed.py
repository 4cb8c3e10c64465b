"""A 55,000-item feed (9-11 MB, under the 10 MiB fetch cap) ingested whole through the
pipeline, cold, in three shapes, beside parsing the whole document as before the entry cap
was applied at parse time (fastfeedparser alone, and feedparser where it is the fallback)."""

from __future__ import annotations

import time
from pathlib import Path

import fastfeedparser
import feedparser

from bench import Rows, run_table
from bot.clock import SystemClock
from bot.feeds.fetch import HttpFetcher
from bot.ingest.pipeline import Ingestor
from bot.store.sqlite import SqliteStore
from bot.types import FeedOrigin
from tests.fakes.http_server import LocalServer

ITEMS = 55_000


def _rss_item(n: int) -> str:
    return (
        f"<item><title>Item {n} of the big feed</title><link>https://big.test/{n}</link>"
        f"<guid>big-{n}</guid><description>Body of item {n}, a few words.</description></item>"
    )


def _atom_entry(n: int) -> str:
    return (
        f"<entry><title>Entry {n}</title><link href='https://big.test/{n}'/><id>urn:{n}</id>"
        f"<updated>2026-01-01T00:00:00Z</updated><summary>Entry {n} text.</summary></entry>"
    )


def _documents() -> dict[str, bytes]:
    items = "".join(_rss_item(n) for n in range(ITEMS))
    atom = "".join(_atom_entry(n) for n in range(ITEMS))
    channel = '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
    return {
        "RSS 2.0": f"{channel}{items}</channel></rss>".encode(),
        "Atom": f'<feed xmlns="http://www.w3.org/2005/Atom"><title>Big</title>{atom}</feed>'.encode(),
        # no <channel>: fastfeedparser refuses it, so feedparser is the reader
        "RSS without channel": f'<rss version="0.91">{items}</rss>'.encode(),
    }


async def _ingest(tmp: Path, name: str, url: str) -> tuple[float, int]:
    store = await SqliteStore.open(tmp / f"{len(name)}-{time.monotonic_ns()}.db")
    feed = await store.feeds.upsert(
        url, name="", origin=FeedOrigin.CONFIG, every=600, backfill=0, now=0
    )
    fetcher = HttpFetcher(allow_private_hosts=True)
    start = time.perf_counter()
    outcome = await Ingestor(store, fetcher, SystemClock()).ingest_feed(feed, [])
    elapsed = time.perf_counter() - start
    await fetcher.aclose()
    await store.close()
    return elapsed, outcome.new_articles


def _whole_parse(name: str, body: bytes) -> str:
    start = time.perf_counter()
    if name == "RSS without channel":
        entries = len(feedparser.parse(body).entries)
        label = "feedparser"
    else:
        entries = len(fastfeedparser.parse(body, include_tags=False)["entries"])
        label = "fastfeedparser"
    return f"{time.perf_counter() - start:.2f} s ({label}, {entries} entries)"


async def _run(tmp: Path) -> Rows:
    rows: Rows = [("items per feed", f"{ITEMS:,}")]
    documents = _documents()
    async with LocalServer() as server:
        for n, (name, body) in enumerate(documents.items()):
            url = server.route(f"/big{n}.xml", body, content_type="application/xml")
            elapsed, stored = await _ingest(tmp, name, url)
            rows.append(
                (
                    f"{name} ({len(body) / 1e6:.1f} MB): newsbrief ingest",
                    f"{elapsed:.2f} s, {stored} articles stored",
                )
            )
            rows.append(("  the whole document parsed, as before", _whole_parse(name, body)))
    return rows


def main() -> int:
    """Print the big-feed table."""
    return run_table("bigfeed", _run)

"""/summary TOPIC over a store of 100,000 generated articles: p50/p95 latency with the
extractive summarizer (FTS5 bm25 + recency), beside a plain LIKE scan finding the same
candidates in the same run."""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

from bench import run_table
from bot.chat.service import Service
from bot.clock import ManualClock
from bot.polls.lifecycle import Polls
from bot.store.sqlite import SqliteStore
from bot.summaries import Summaries
from bot.types import FeedOrigin, FeedUpdate, NewArticle, Routed
from summarizer.extractive import ExtractiveSummarizer

SIZES = (100_000, 1_000_000)  # the goal: p95 <= 50 ms at 100k, <= 100 ms at 1M
QUERIES = 60
TOPICS = [
    "venezuela",
    "election",
    "harbour strike",
    "inflation",
    "vaccine",
    "wildfire",
    "football",
    "parliament",
    "drought",
    "semiconductor",
    "railway",
    "refugees",
    "tariffs",
    "earthquake",
]
FILLER = [
    "officials",
    "said",
    "on",
    "monday",
    "that",
    "the",
    "plan",
    "would",
    "be",
    "reviewed",
    "next",
    "week",
    "after",
    "talks",
    "with",
    "regional",
    "leaders",
    "who",
    "asked",
    "for",
    "more",
    "time",
    "to",
    "study",
    "the",
    "costs",
    "and",
    "the",
    "effects",
    "on",
    "local",
    "families",
    "and",
    "businesses",
    "while",
    "analysts",
    "expected",
    "markets",
    "to",
    "react",
    "calmly",
]


def _text(rng: random.Random, topic: str) -> str:
    sentences = []
    for _ in range(6):
        words = rng.sample(FILLER, 14)
        words.insert(rng.randrange(len(words)), topic)
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


async def _fill(store: SqliteStore, now: float, articles: int) -> None:
    rng = random.Random(7)
    feed = await store.feeds.upsert(
        "bench://topics", name="wire", origin=FeedOrigin.CONFIG, every=600, backfill=0, now=now
    )
    for start in range(0, articles, 5000):
        batch = []
        for n in range(start, start + 5000):
            topic = rng.choice(TOPICS)
            text = _text(rng, topic)
            batch.append(
                Routed(
                    NewArticle(
                        feed.id,
                        f"g{n}",
                        f"https://news.test/{n}",
                        f"https://news.test/{n}",
                        f"{topic.title()} update number {n}",
                        text,
                        now - rng.uniform(0, 30 * 86400),
                        f"h{n}",
                        n + 1,
                    ),
                    (),
                )
            )
        await store.articles.save_ingest(FeedUpdate(feed.id, now, now), batch)


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000


async def _run(tmp: Path) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for articles in SIZES:
        rows += await _measure(tmp / f"topics-{articles}.db", articles)
    return rows


async def _measure(db: Path, articles: int) -> list[tuple[str, str]]:
    clock = ManualClock(start=1_800_000_000.0)
    store = await SqliteStore.open(db)
    started = time.perf_counter()
    await _fill(store, clock.now(), articles)
    fill_s = time.perf_counter() - started
    summaries = Summaries(store.summaries, ExtractiveSummarizer(), clock)
    service = Service(store, summaries, Polls(store, clock), None, clock)  # type: ignore[arg-type]
    rng = random.Random(11)
    full, fts, like = [], [], []
    since = clock.now() - 7 * 86400
    for i in range(QUERIES):
        # half common topics, half rare ones (one article's number)
        topic = rng.choice(TOPICS) if i % 2 else str(rng.randrange(articles))
        start = time.perf_counter()
        await service.topic(topic, days=30)
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        await store.articles.search([topic], any_term=False, limit=50, since=since)
        fts.append(time.perf_counter() - start)
        start = time.perf_counter()
        await store.db.fetch_all(
            "SELECT id FROM articles WHERE (title LIKE ? OR text LIKE ?) AND published >= ? "
            "LIMIT 50",
            (f"%{topic}%", f"%{topic}%", since),
        )
        like.append(time.perf_counter() - start)
    await store.close()
    return [
        ("articles in the store", f"{articles:,} (generated in {fill_s:.0f} s)"),
        ("queries", str(QUERIES)),
        ("/summary TOPIC (retrieve, rank, summarize) p50", f"{_pct(full, 50):.1f} ms"),
        ("/summary TOPIC p95", f"{_pct(full, 95):.1f} ms"),
        ("retrieval: FTS5 bm25 p50 / p95", f"{_pct(fts, 50):.1f} / {_pct(fts, 95):.1f} ms"),
        ("retrieval: LIKE scan p50 / p95", f"{_pct(like, 50):.1f} / {_pct(like, 95):.1f} ms"),
        ("LIKE p95 / FTS5 p95", f"{_pct(like, 95) / _pct(fts, 95):.1f}x"),
    ]


def main() -> int:
    """Print the topic-summary latency table."""
    return run_table("topics", _run)

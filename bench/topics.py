"""/summary TOPIC over stores of 100,000 and 1,000,000 generated articles: p50/p95 latency
with the extractive summarizer (FTS5 bm25 over the newest matches + recency), beside bm25
over every match (as before ``RANKED_MATCHES``) and a plain LIKE scan finding candidates
in the same run, and how often the two bm25 policies give /summary the same stories."""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path

from bench import run_table
from bot.chat.service import TOPIC_HITS, TOPIC_STORIES, Service
from bot.chat.topics import rank_stories
from bot.clock import ManualClock
from bot.polls.lifecycle import Polls
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.articles import TITLE_WEIGHT, fts_query
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
                        _published(rng, now, n, articles),
                        f"h{n}",
                        n + 1,
                    ),
                    (),
                )
            )
        await store.articles.save_ingest(FeedUpdate(feed.id, now, now), batch)
        await store.articles.index_pending()  # as ingest does once INDEX_BATCH wait


def _published(rng: random.Random, now: float, n: int, articles: int) -> float:
    """Articles arrive as ingest stores them, in time order over 30 days (ids follow
    fetch time), each published up to six hours before it is stored."""
    return now - 30 * 86400 * (1 - n / articles) - rng.uniform(0, 6 * 3600)


def _mean(pairs: list[tuple[int, float]], kind: int) -> float:
    return statistics.fmean(value for k, value in pairs if k == kind)


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
    full, fts, every, like, same = [], [], [], [], []
    since = clock.now() - 7 * 86400
    for i in range(QUERIES):
        # half common topics, half rare ones (one article's number)
        topic = rng.choice(TOPICS) if i % 2 else str(rng.randrange(articles))
        start = time.perf_counter()
        await service.topic(topic, days=30)
        full.append(time.perf_counter() - start)
        start = time.perf_counter()
        hits = await store.articles.search([topic], any_term=False, limit=TOPIC_HITS, since=since)
        fts.append(time.perf_counter() - start)
        start = time.perf_counter()
        rows = await _every_match(store, topic, since)
        every.append(time.perf_counter() - start)
        ours = _stories([(h.article.id, h.score, h.article.published) for h in hits], clock)
        theirs = _stories(rows, clock)
        shared = len(ours & theirs) / len(ours | theirs) if ours | theirs else 1.0
        same.append((i % 2, shared))
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
        (
            "retrieval: FTS5 bm25, newest matches p50 / p95",
            f"{_pct(fts, 50):.1f} / {_pct(fts, 95):.1f} ms",
        ),
        (
            "retrieval: bm25 over every match p50 / p95",
            f"{_pct(every, 50):.1f} / {_pct(every, 95):.1f} ms",
        ),
        (
            f"  top-{TOPIC_STORIES} stories shared with every match (Jaccard)",
            f"common topics {_mean(same, 1):.1%}, rare {_mean(same, 0):.1%}",
        ),
        ("retrieval: LIKE scan p50 / p95", f"{_pct(like, 50):.1f} / {_pct(like, 95):.1f} ms"),
        ("LIKE p95 / FTS5 p95", f"{_pct(like, 95) / _pct(fts, 95):.1f}x"),
    ]


async def _every_match(
    store: SqliteStore, topic: str, since: float
) -> list[tuple[int, float, float]]:
    """The search as it was before ``RANKED_MATCHES``: bm25 over every match."""
    rows = await store.db.fetch_all(
        f"SELECT a.id, bm25(articles_fts, {TITLE_WEIGHT}, 1.0) AS score, a.published "
        "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
        "WHERE articles_fts MATCH ? AND a.published >= ? ORDER BY score LIMIT ?",
        (fts_query([topic], any_term=False), since, TOPIC_HITS),
    )
    return [(r[0], r[1], r[2]) for r in rows]


def _stories(hits: list[tuple[int, float, float]], clock: ManualClock) -> set[int]:
    """The stories /summary would answer with (every generated article is its own)."""
    ranked = rank_stories([(i, i, s, p) for i, s, p in hits], clock.now(), TOPIC_STORIES)
    return {r.story_id for r in ranked}


def main() -> int:
    """Print the topic-summary latency table."""
    return run_table("topics", _run)

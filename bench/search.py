"""What the full-text index costs and what ``/summary`` finds with it: the corpus feeds'
entries indexed whole or only their title and the first N characters of the body, beside
the same entries saved with no index, in the same run.

Cost is the index's upkeep against the save path it rides on: the product's SQLite store
saving the entries one save per feed as ingest does, the index taken in batches as ingest
takes it, best of 3, alternated (``bench.upkeep``). The issue this answers asks that the
upkeep cost no more than the save; a prefix that does is "affordable". Beside it, cost
only, on bare INSERTs (CPU seconds of the inserting thread): the index filled one
statement per save (migration 10), by a trigger per row (before) and FTS5 variants.

Quality is held out. Topic queries are two words of an entry's title ("title") or of its
body's first sentence ("lead"), as a reader would type a topic; "mention" queries are two
words of a sentence anywhere else in the body (an article that mentions it). A query finds
its entry when an entry with the same title is among the five stories ``/summary`` ranks
(``bm25`` with the product's title weight, then ``rank_stories``' recency). The prefix is
chosen on training folds (among the affordable ones, the best mean recall of the three
kinds of query) and scored on the held-out fold, 5 folds x 4 shuffles.
"""

from __future__ import annotations

import contextlib
import random
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import Rows, run_table
from bench.crossval import folds, spread
from bench.upkeep import upkeep
from bot.chat.topics import rank_stories, topic_terms
from bot.feeds.parse import read_feed
from bot.ingest.pipeline import INDEX_BATCH
from bot.store.ports import SEARCH_CHARS
from bot.store.sqlite.articles import TITLE_WEIGHT, fts_query
from bot.types import FeedEntry
from summarizer.terms import STOPWORDS

FEEDS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
PREFIXES = (500, 1000, 2000, 4000, 8000)  # characters of the body indexed; 0 = all
WHOLE = 0
TOPIC_HITS = 50  # what the service asks the store for
TOP = 5
BEFORE = 4000  # the prefix chosen before the cost bound (best recall, upkeep 1.0-1.3x saving)
KINDS = ("title", "lead", "mention")
_SENTENCE = re.compile(r"(?<=[.!?])\s")
_TOKENIZER = "unicode61 remove_diacritics 2"
HASHSIZE = 4 * 1024 * 1024  # FTS5's pending terms before it writes a segment (migration 13)
Variant = tuple[str, str]  # (tokenizer, option or configuration value); "" for the product's
# Cheaper indexes, cost only: detail=column and detail=none refuse the quoted multi-word
# terms /summary may send, and rank by reading every ranked match's text again (bm25 over
# 754 matches of "people" in this corpus: 12 ms against 0.5 ms): not the same search.
VARIANTS: tuple[Variant, ...] = (
    ("ascii", ""),
    ("", "detail=column"),
    ("", "detail=none"),
    ("", "automerge 16"),
    ("", "pgsz 16000"),
)


@dataclass(frozen=True)
class Entry:
    """One corpus entry as ingest stores it."""

    title: str
    text: str
    published: float
    feed: int = 0


@dataclass(frozen=True)
class Query:
    """Words a reader might type, and the entry (by title) they are after."""

    kind: str
    terms: tuple[str, ...]
    title: str


def corpus_feeds(folder: Path = FEEDS) -> list[list[FeedEntry]]:
    """The entries of every corpus feed, text converted as ingest converts it (a feed the
    parser refuses adds nothing)."""
    feeds = []
    for path in sorted(folder.glob("*.xml")):
        with contextlib.suppress(Exception):
            feeds.append([raw.entry() for raw in read_feed(path.read_bytes()).entries])
    return feeds


def corpus_entries(feeds: Sequence[Sequence[FeedEntry]]) -> list[Entry]:
    """Every entry of ``feeds``, with the number of its feed."""
    return [
        Entry(entry.title, entry.text, entry.published or 0.0, n)
        for n, entries in enumerate(feeds)
        for entry in entries
    ]


def make_queries(entries: Sequence[Entry], seed: int = 0) -> list[Query]:
    """Two content words of the title, and two of the body's first sentence, per entry
    that has them (words of four letters or more that are not stopwords)."""
    rng = random.Random(seed)
    queries = []
    for entry in entries:
        sentences = _SENTENCE.split(entry.text)
        later = rng.choice(sentences[1:]) if len(sentences) > 1 else ""
        for kind, source in (("title", entry.title), ("lead", sentences[0]), ("mention", later)):
            words = _words(source)
            if len(words) >= 2:
                queries.append(Query(kind, tuple(rng.sample(words, 2)), _key(entry.title)))
    return queries


def _words(text: str) -> list[str]:
    with contextlib.suppress(Exception):
        return [w for w in topic_terms(text) if len(w) >= 4 and w not in STOPWORDS]
    return []


def _key(title: str) -> str:
    return " ".join(title.lower().split())


def build_index(
    db: Path,
    entries: Sequence[Entry],
    prefix: int | None,
    *,
    how: str = "batch",
    variant: Variant = ("", ""),
) -> float:
    """Store the entries, one transaction per feed as ingest saves them, with the index
    ingest keeps: none (``prefix`` None), the whole body (0) or its first ``prefix``
    characters, filled ``how``: in batches whenever ``INDEX_BATCH`` saved articles wait
    and at the end, with 4 MiB of pending terms (as the store does since SQLite migrations
    11 and 13), by one statement per
    save ("save", migration 10) or by a trigger on every insert ("row", before); ``variant``
    adds FTS5 options and a configuration value to the index; CPU seconds."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
        "CREATE TABLE articles (id INTEGER PRIMARY KEY, title TEXT, text TEXT, published REAL);"
    )
    body = "text" if prefix == WHOLE else f"substr(text, 1, {prefix})"
    if prefix is not None:
        conn.executescript(
            f"CREATE VIEW articles_indexed AS SELECT id, title, {body} AS text FROM articles;"
            "CREATE VIRTUAL TABLE articles_fts USING fts5 (title, text, "
            "content='articles_indexed', content_rowid='id', "
            f"tokenize='{variant[0] or _TOKENIZER}');"
        )
        _configure(conn, variant[1])
        if how == "batch":  # as SQLite migration 13 sets it
            conn.execute(
                "INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', ?)", (HASHSIZE,)
            )
    if prefix is not None and how == "row":
        conn.executescript(
            "CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN "
            f"INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, "
            f"{body.replace('text', 'new.text')}); END;"
        )
    indexed = 0  # the largest id in the index
    start = time.process_time()
    for rows in _by_feed(entries):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO articles VALUES (?, ?, ?, ?)", rows)
        last = rows[-1][0]
        due = how == "save" or (how == "batch" and last - indexed >= INDEX_BATCH)
        if prefix is not None and due:
            indexed = _index_upto(conn, indexed, last)
        conn.execute("COMMIT")
    if prefix is not None and how == "batch":
        _index_upto(conn, indexed, len(entries))
    elapsed = time.process_time() - start
    conn.close()
    return elapsed


def _index_upto(conn: sqlite3.Connection, indexed: int, last: int) -> int:
    """Index the articles after ``indexed`` up to ``last`` in one statement."""
    conn.execute(
        "INSERT INTO articles_fts (rowid, title, text) SELECT id, title, text "
        "FROM articles_indexed WHERE id > ? AND id <= ?",
        (indexed, last),
    )
    return last


def _configure(conn: sqlite3.Connection, setting: str) -> None:
    """Apply an FTS5 option ("detail=column") or configuration value ("automerge 16")."""
    if not setting:
        return
    name, _, value = setting.partition(" ")
    if "=" in name:  # an option of the table: made again with it
        conn.executescript(
            "DROP TABLE articles_fts; CREATE VIRTUAL TABLE articles_fts USING fts5 (title, "
            "text, content='articles_indexed', content_rowid='id', "
            f"tokenize='{_TOKENIZER}', {name});"
        )
    else:
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES (?, ?)", (name, value))


def _by_feed(entries: Sequence[Entry]) -> list[list[tuple[int, str, str, float]]]:
    """The entries as rows with their ids, one list per feed."""
    feeds: dict[int, list[tuple[int, str, str, float]]] = {}
    for n, e in enumerate(entries):
        feeds.setdefault(e.feed, []).append((n + 1, e.title, e.text, e.published))
    return list(feeds.values())


def found(conn: sqlite3.Connection, query: Query, now: float) -> bool:
    """Whether ``/summary``'s ranking puts the query's entry among its top stories."""
    hits = _search(conn, query.terms, any_term=False) or _search(conn, query.terms, any_term=True)
    ranked = rank_stories([(i, i, score, published) for i, score, published, _ in hits], now, TOP)
    titles = {i: title for i, _, _, title in hits}
    return any(_key(titles[r.article_id]) == query.title for r in ranked)


def _search(
    conn: sqlite3.Connection, terms: Sequence[str], *, any_term: bool
) -> list[tuple[int, float, float, str]]:
    return conn.execute(
        f"SELECT a.id, bm25(articles_fts, {TITLE_WEIGHT}, 1.0) AS score, a.published, a.title "
        "FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
        "WHERE articles_fts MATCH ? ORDER BY score LIMIT ?",
        (fts_query(terms, any_term=any_term), TOPIC_HITS),
    ).fetchall()


def recall_table(db: Path, queries: Sequence[Query], now: float) -> list[bool]:
    """Per query, whether it finds its entry."""
    conn = sqlite3.connect(db)
    hits = [found(conn, q, now) for q in queries]
    conn.close()
    return hits


def choose(
    recalls: dict[int, list[bool]], train: dict[str, list[int]], affordable: Sequence[int]
) -> int:
    """Among the ``affordable`` prefixes, the one whose mean recall over the kinds of
    ``train`` queries is best (the shorter of equals); the shortest prefix when none is
    affordable."""
    if not affordable:
        return PREFIXES[0]
    return max(
        _ordered(affordable),
        key=lambda p: _mean_rate(recalls[p], train),
    )


def _rate(hits: Sequence[bool], which: Sequence[int]) -> float:
    return sum(hits[i] for i in which) / max(len(which), 1)


def _mean_rate(hits: Sequence[bool], groups: dict[str, list[int]]) -> float:
    """The mean over ``groups`` of each group's rate: every kind of query weighs alike."""
    return sum(_rate(hits, which) for which in groups.values()) / len(groups)


async def _run(tmp: Path) -> Rows:
    feeds = corpus_feeds()
    entries = corpus_entries(feeds)
    queries = make_queries(entries)
    now = max(e.published for e in entries)
    saving, upkeeps = await upkeep(tmp, feeds, (WHOLE, *PREFIXES), rounds=3)
    affordable = [p for p, cost in upkeeps.items() if cost <= saving]
    plain = min(build_index(tmp / f"plain{n}.db", entries, None) for n in range(3))
    rows: Rows = [
        (
            "corpus entries",
            f"{len(entries)} ({sum(len(e.text) for e in entries) / 1e6:.1f} M chars)",
        ),
        ("saved by the store, no index (best of 3)", f"{saving:.3f} s"),
    ]
    recalls: dict[int, list[bool]] = {}
    for prefix in (WHOLE, *PREFIXES):
        db = tmp / f"fts{prefix}.db"
        build_index(db, entries, prefix)
        recalls[prefix] = recall_table(db, queries, now)
        label = "whole body" if prefix == WHOLE else f"title + first {prefix:,} chars"
        by_kind = " / ".join(
            f"{_rate(recalls[prefix], [i for i, q in enumerate(queries) if q.kind == k]):.3f}"
            for k in KINDS
        )
        rows.append(
            (
                f"index {label}",
                f"+{upkeeps[prefix]:.3f} s = {upkeeps[prefix] / saving:.2f}x saving, "
                f"{(db.stat().st_size / 2**20):.1f} MiB, "
                f"recall@{TOP} title/lead/mention {by_kind}",
            )
        )
    rows.append(("bare INSERTs, no index (CPU, best of 3)", f"{plain:.3f} s"))
    for how, label in (
        ("batch", "in batches (the product)"),
        ("save", "by one statement per save (migration 10)"),
        ("row", "by a trigger per row (before)"),
    ):
        before = min(
            build_index(tmp / f"{how}-{n}.db", entries, SEARCH_CHARS, how=how) for n in range(3)
        )
        rows.append((f"  the {SEARCH_CHARS:,} chars {label}", f"+{max(before - plain, 0):.3f} s"))
    for number, variant in enumerate(VARIANTS):
        cost = min(
            build_index(tmp / f"v{number}-{n}.db", entries, SEARCH_CHARS, variant=variant)
            for n in range(3)
        )
        label = f"tokenize {variant[0]}" if variant[0] else variant[1]
        rows.append((f"  the {SEARCH_CHARS:,} chars, {label}", f"+{max(cost - plain, 0):.3f} s"))
    rows += _held_out(recalls, queries, affordable)
    return rows


def _held_out(
    recalls: dict[int, list[bool]], queries: Sequence[Query], affordable: Sequence[int]
) -> Rows:
    kinds = {k: [i for i, q in enumerate(queries) if q.kind == k] for k in KINDS}
    shown = (BEFORE, WHOLE)  # the prefix chosen before the cost bound, and the whole body
    chosen: list[int] = []
    scores: dict[str, list[float]] = {}
    for train, test in folds(len(queries), k=5, repeats=4, seed=0):
        by_kind = {k: [i for i in train.tolist() if queries[i].kind == k] for k in KINDS}
        prefix = choose(recalls, by_kind, affordable)
        chosen.append(prefix)
        held = {k: [i for i in test.tolist() if queries[i].kind == k] for k in KINDS}
        for name, p in (("chosen", prefix), *((str(p), p) for p in shown)):
            for kind, which in held.items():
                scores.setdefault(f"{name} {kind}", []).append(_rate(recalls[p], which))
            scores.setdefault(f"{name} mean", []).append(_mean_rate(recalls[p], held))
    picks = ", ".join(f"{_name(p)} ×{chosen.count(p)}" for p in _ordered(set(chosen)))
    names = {"chosen": "chosen prefix", str(BEFORE): f"{BEFORE:,} chars", str(WHOLE): "whole"}
    return [
        ("queries (title / lead / mention)", " / ".join(str(len(i)) for i in kinds.values())),
        (
            "affordable prefixes (upkeep <= saving)",
            ", ".join(_name(p) for p in _ordered(affordable)) or "none: the shortest is taken",
        ),
        ("prefix chosen on training folds", picks),
    ] + [
        (f"held-out recall@{TOP}, {kind}: {label}", _spread(scores[f"{name} {kind}"]))
        for kind in ("mean", *KINDS)
        for name, label in names.items()
    ]


def _ordered(prefixes: Iterable[int]) -> list[int]:
    """Shortest first, the whole body last."""
    return sorted(prefixes, key=lambda p: p or float("inf"))


def _name(prefix: int) -> str:
    return "whole body" if prefix == WHOLE else f"{prefix:,}"


def _spread(values: Sequence[float]) -> str:
    s = spread(values)
    return f"{s.mean:.3f} ± {s.sd:.3f} [{s.low:.3f}, {s.high:.3f}]"


def main() -> int:
    """Print the index cost and recall table."""
    if not FEEDS.is_dir():
        print(f"search: corpus not found at {FEEDS}")
        return 1
    return run_table("search", _run)

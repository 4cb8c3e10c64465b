"""Story clustering: B-cubed precision, recall and F1 on a labelled stream, held out.

Run ``python -m bench stories`` from the repository (about a minute).

**The labelled set** (:func:`labelled_items`): each of the 71 articles of
``../shared/corpus/summaries/dev.jsonl`` is one event, and the article and each of its 1-5
writer summaries are that event told by different writers: the article comes from the
feed "outlet", the k-th summary from the feed "writer-k". Every event gets a start time
spread over a week and each of its items appears within a day of it, in random order (so
a summary may come before the article). Items carry no headline (the corpus has none):
stories are found from the text's lead alone. In the main scenario the labelled items are
mixed into the 3,800 real entries of the 137 corpus feeds (``../shared/corpus/feeds``),
spread over the same week, as a busy bot sees them: each of those is its own event, and
one that joins a labelled story costs that story precision.

**The score**: B-cubed over the labelled items (each item's precision is the share of its
story that is its event, its recall the share of its event in its story; averaged over
items), the stories formed over the whole stream.

**Held out**: the join threshold is chosen on training events (the best F1 among
thresholds whose training precision is at least 0.95) and scored on held-out events:
5-fold cross-validation over events, repeated over 4 shuffles (20 folds). Clustering
does not see labels, so each threshold clusters the stream once and the folds only
choose among those runs.

Compared in the same run: today's near-copy fingerprints alone (simhash within 7 bits),
and single-link on the same TF-IDF vectors (join the story of the most similar single
article).

**Speed** (:func:`speed`, also alone with ``python -m bench.stories --speed``, about 40 s):
story terms, the summarizer's term sets, the story index and the near-duplicate index on
the corpus feeds' entries, timed beside the code before issue 11's speed-up
(``bench.stories_before``) in the same run, old and new alternating, CPU seconds, best of
7; each row also checks that both give the same results.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import summarizer.terms
from bench import stories_before
from bench.crossval import folds, spread
from bot.feeds.parse import parse_feed
from bot.ingest.dedup import NearDuplicateIndex, simhash, simhashes
from bot.ingest.stories import Match, StoryIndex, StoryRules, story_terms
from summarizer.terms import term_set

__all__ = [
    "THRESHOLDS",
    "BCubed",
    "Item",
    "background_items",
    "bcubed",
    "cluster_near_copies",
    "cluster_single_link",
    "cluster_stories",
    "held_out",
    "labelled_items",
    "main",
    "scenario",
    "speed",
]

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEV = SHARED / "summaries" / "dev.jsonl"
FEEDS = SHARED / "feeds"
THRESHOLDS = (0.1, 0.125, 0.15, 0.175, 0.2, 0.225, 0.25, 0.3)
_MIN_PRECISION = 0.95
_DAY = 86400.0

Clusterer = Callable[[Sequence["Item"], float], list[int]]


@dataclass(frozen=True)
class Item:
    """One feed item of the stream; ``event`` < 0 marks unlabelled background."""

    event: int
    feed: str
    title: str
    text: str
    published: float


@dataclass(frozen=True)
class BCubed:
    """B-cubed precision, recall and F1 over some items."""

    precision: float
    recall: float
    f1: float


def labelled_items(path: Path = DEV, *, days: float = 7.0, seed: int = 0) -> list[Item]:
    """The labelled stream: every dev article and its writer summaries as one event.

    Args:
        path: ``dev.jsonl``.
        days: Span over which events start.
        seed: Seed of the times.

    Returns:
        Items in time order.

    Raises:
        OSError: If the file cannot be read.
    """
    rng = random.Random(seed)
    items = []
    for event, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        row = json.loads(line)
        start = rng.uniform(0, days * _DAY)
        tellings = [("outlet", row["article"])]
        tellings += [(f"writer-{k + 1}", ref) for k, ref in enumerate(row["references"])]
        for feed, text in tellings:
            items.append(Item(event, feed, "", text, start + rng.uniform(0, _DAY)))
    return sorted(items, key=lambda i: i.published)


def background_items(folder: Path = FEEDS, *, days: float = 7.0, seed: int = 1) -> list[Item]:
    """Every entry of the corpus feeds as its own unlabelled event, spread over ``days``."""
    rng = random.Random(seed)
    items = []
    for path in sorted(folder.glob("*.xml")):
        with contextlib.suppress(Exception):  # a feed the parser refuses adds nothing
            for entry in parse_feed(path.read_bytes()).entries:
                when = rng.uniform(0, days * _DAY)
                items.append(Item(-1 - len(items), path.stem, entry.title, entry.text, when))
    return items


def bcubed(stories: Sequence[int], items: Sequence[Item], scored: set[int]) -> BCubed:
    """B-cubed over the items whose event is in ``scored``; stories span every item."""
    story_size = Counter(stories)
    event_size = Counter(i.event for i in items)
    both = Counter(zip(stories, (i.event for i in items), strict=True))
    p = r = 0.0
    n = 0
    for story, item in zip(stories, items, strict=True):
        if item.event in scored:
            shared = both[(story, item.event)]
            p += shared / story_size[story]
            r += shared / event_size[item.event]
            n += 1
    p, r = p / max(n, 1), r / max(n, 1)
    return BCubed(p, r, 2 * p * r / (p + r) if p + r else 0.0)


def cluster_stories(items: Sequence[Item], threshold: float) -> list[int]:
    """newsbrief's story index, one article at a time: the story each item joins."""
    index = StoryIndex(StoryRules(threshold=threshold))
    stories = []
    for n, item in enumerate(items):
        terms = story_terms(item.title, item.text)
        match = index.find(terms, item.published)
        story = match.story_id if match else n
        index.add(story, terms, item.published)
        stories.append(story)
    return stories


def cluster_single_link(items: Sequence[Item], threshold: float) -> list[int]:
    """Single link on the same vectors: join the story of the most similar one article."""
    index = StoryIndex(StoryRules(threshold=threshold))
    stories: list[int] = []
    for n, item in enumerate(items):
        terms = story_terms(item.title, item.text)
        match = index.find(terms, item.published)
        stories.append(stories[match.story_id] if match else n)
        index.add(n, terms, item.published)  # every article is its own "centroid"
    return stories


def cluster_near_copies(items: Sequence[Item], threshold: float = 0.0) -> list[int]:
    """Today's dedup alone: an item joins the story of a near-copy (simhash ≤ 7 bits)."""
    del threshold  # nothing to tune
    index = NearDuplicateIndex()
    stories = []
    for n, item in enumerate(items):
        fingerprint = simhash(item.text)
        found = index.find(fingerprint)
        story = n if found is None else found
        if found is None:
            index.add(fingerprint, n)
        stories.append(story)
    return stories


@dataclass(frozen=True)
class _Runs:
    """One clusterer's stories over the stream for each threshold, and its speed."""

    name: str
    thresholds: tuple[float, ...]
    stories: tuple[list[int], ...]
    items_per_second: float


def _run(name: str, clusterer: Clusterer, items: Sequence[Item], grid: Sequence[float]) -> _Runs:
    started = time.perf_counter()
    stories = tuple(clusterer(items, t) for t in grid)
    rate = len(items) * len(grid) / (time.perf_counter() - started)
    return _Runs(name, tuple(grid), stories, rate)


def _choose(runs: _Runs, items: Sequence[Item], events: set[int]) -> int:
    """The threshold (index) with the best F1 among those precise enough on ``events``."""
    scores = [bcubed(s, items, events) for s in runs.stories]
    precise = [k for k, s in enumerate(scores) if s.precision >= _MIN_PRECISION]
    if not precise:
        return max(range(len(scores)), key=lambda k: scores[k].precision)
    return max(precise, key=lambda k: scores[k].f1)


def held_out(runs: _Runs, items: Sequence[Item]) -> tuple[list[BCubed], Counter[float]]:
    """Per held-out fold, B-cubed with the threshold chosen on the other events."""
    events = sorted({i.event for i in items if i.event >= 0})
    results, chosen = [], Counter[float]()
    for train, test in folds(len(events), k=5, repeats=4, seed=0):
        k = _choose(runs, items, {events[j] for j in train})
        chosen[runs.thresholds[k]] += 1
        results.append(bcubed(runs.stories[k], items, {events[j] for j in test}))
    return results, chosen


def _row(runs: _Runs, items: Sequence[Item]) -> str:
    results, chosen = held_out(runs, items)
    p, r, f = (spread([getattr(b, m) for b in results]) for m in ("precision", "recall", "f1"))
    everything = {i.event for i in items if i.event >= 0}
    on_all = runs.thresholds[_choose(runs, items, everything)]
    picks = ", ".join(f"{t:g}×{n}" for t, n in sorted(chosen.items()))
    return (
        f"| {runs.name} | {p.mean:.3f} ± {p.sd:.3f} | {r.mean:.3f} ± {r.sd:.3f} "
        f"| {f.mean:.3f} ± {f.sd:.3f} [{f.low:.2f}, {f.high:.2f}] | {picks or '-'} "
        f"| {on_all:g} | {runs.items_per_second:,.0f} |"
    )


def scenario(title: str, items: Sequence[Item]) -> str:
    """Score every clusterer on one stream, as a Markdown table."""
    clusterers: list[tuple[str, Clusterer, Sequence[float]]] = [
        ("newsbrief stories (TF-IDF centroid)", cluster_stories, THRESHOLDS),
        ("single-link, same vectors", cluster_single_link, THRESHOLDS),
        ("near-copies only (today's dedup)", cluster_near_copies, (0.0,)),
    ]
    labelled = sum(i.event >= 0 for i in items)
    lines = [
        f"### {title}: {labelled} labelled items, {len(items) - labelled} background",
        "",
        "| clusterer | precision | recall | F1 [worst, best fold] | threshold chosen per fold "
        "| on all events | items/s |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for name, clusterer, grid in clusterers:
        lines.append(_row(_run(name, clusterer, items, grid), items))
    return "\n".join(lines)


def _cpu_seconds(work: Callable[[], object]) -> float:
    """CPU seconds ``work`` takes (the machine is shared: wall time counts the others)."""
    started = time.process_time()
    work()
    return time.process_time() - started


def _cold_stems() -> None:
    """Forget both implementations' cached stems (as a fresh process has none)."""
    summarizer.terms._STEMS.clear()
    summarizer.terms.stem.cache_clear()
    stories_before._STEMS.clear()
    stories_before.stem.cache_clear()


def _dedup_stream(
    index: NearDuplicateIndex | stories_before.NearDuplicateIndex, prints: Sequence[int]
) -> list[int | None]:
    """What ingest does per entry: find a near-copy, remember the entry when none."""
    found = []
    for n, fingerprint in enumerate(prints):
        story = index.find(fingerprint)
        if story is None:
            index.add(fingerprint, n)
        found.append(story)
    return found


_Pair = tuple[Callable[[], object], Callable[[], object]]


def _terms_pairs(items: Sequence[Item]) -> list[tuple[str, _Pair]]:
    """(name, (before, after)) for story terms and term sets; each returns its results."""
    texts = [i.text for i in items]

    def warm(story: Callable[[str, str], tuple[str, ...]]) -> Callable[[], object]:
        return lambda: [story(i.title, i.text) for i in items]

    def cold(story: Callable[[str, str], tuple[str, ...]]) -> Callable[[], object]:
        return lambda: (_cold_stems(), [story(i.title, i.text) for i in items])[1]

    old, new = stories_before.story_terms, story_terms
    return [
        ("story terms, no stem cached (a cold ingest)", (cold(old), cold(new))),
        ("story terms, again (stems table as the first pass left it)", (warm(old), warm(new))),
        (
            "term set of each whole text (the summarizer's)",
            (
                lambda: [stories_before.term_set(t) for t in texts],
                lambda: [term_set(t) for t in texts],
            ),
        ),
    ]


def _index_stream(
    index: StoryIndex, stream: Sequence[tuple[tuple[str, ...], float]]
) -> list[Match | None]:
    """What ingest does per article: find its story, then join it or start one."""
    matches = []
    for n, (terms, published) in enumerate(stream):
        match = index.find(terms, published)
        index.add(match.story_id if match else n, terms, published)
        matches.append(match)
    return matches


def _index_pairs(items: Sequence[Item]) -> list[tuple[str, _Pair]]:
    """(name, (before, after)) for the story index; each returns its matches."""
    ordered = sorted(items, key=lambda i: i.published)
    stream = [(story_terms(i.title, i.text), i.published) for i in ordered]
    return [
        (
            "story index: find, then join or start (the entries spread over a week)",
            (
                lambda: _index_stream(stories_before.StoryIndex(), stream),
                lambda: _index_stream(StoryIndex(), stream),
            ),
        )
    ]


def _dedup_pairs(items: Sequence[Item], rng: random.Random) -> list[tuple[str, _Pair]]:
    """(name, (before, after)) for the near-duplicate index; each returns its answers."""
    prints = simhashes([i.text for i in items])
    full = [rng.getrandbits(64) | 1 for _ in range(100_000)]
    big_old, big_new = stories_before.NearDuplicateIndex(), NearDuplicateIndex()
    big_old.extend((p, n) for n, p in enumerate(full))
    big_new.extend((p, n) for n, p in enumerate(full))
    # half near copies of stored entries (1 bit off), half unrelated
    near = [
        p ^ (1 << rng.randrange(64)) if n % 2 else rng.getrandbits(64) | 1
        for n, p in enumerate(full[: len(items)])
    ]
    return [
        (
            "near-duplicate index: find, add if new (from empty)",
            (
                lambda: _dedup_stream(stories_before.NearDuplicateIndex(), prints),
                lambda: _dedup_stream(NearDuplicateIndex(), prints),
            ),
        ),
        (
            "near-duplicate index: find among 100k entries",
            (lambda: [big_old.find(p) for p in near], lambda: [big_new.find(p) for p in near]),
        ),
    ]


def speed(items: Sequence[Item], rounds: int = 7) -> str:
    """Time story terms and the near-duplicate index before and after, as Markdown.

    Args:
        items: The corpus feeds' entries.
        rounds: Timings of each side (alternating); the least counts.

    Returns:
        The table, one row per part, with whether both sides gave the same results.
    """
    lines = [
        f"### Speed: {len(items):,} corpus feed entries, before and after (CPU, best of {rounds})",
        "",
        "| part | before µs/entry | after µs/entry | speed-up | same results |",
        "|---|---:|---:|---:|---|",
    ]
    per = 1e6 / len(items)
    for rows in (
        lambda: _terms_pairs(items),
        lambda: _index_pairs(items),
        lambda: _dedup_pairs(items, random.Random(2)),
    ):
        for name, (before, after) in rows():
            same = before() == after()
            gc.collect()
            old = new = float("inf")
            for _ in range(rounds):
                old = min(old, _cpu_seconds(before))
                new = min(new, _cpu_seconds(after))
            verdict = "yes" if same else "**no**"
            lines.append(
                f"| {name} | {old * per:.1f} | {new * per:.1f} | {old / new:.1f}x | {verdict} |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    """Run the benchmark and print its tables; exit status 2 if the corpus is missing.

    Args:
        argv: Command-line arguments: ``--speed`` for the speed table alone;
            ``python -m bench`` passes none.

    Returns:
        The process exit status.
    """
    parser = argparse.ArgumentParser(prog="python -m bench.stories")
    parser.add_argument("--speed", action="store_true", help="only the speed table")
    args = parser.parse_args(list(argv))
    if not DEV.is_file() or not FEEDS.is_dir():
        print(f"stories: corpus not found at {SHARED}", file=sys.stderr)
        return 2
    background = background_items(days=7)
    if args.speed:
        print(speed(background))
        return 0
    week = labelled_items(days=7)
    day = labelled_items(days=1)
    print("## stories (python -m bench stories)\n")
    print("Held-out B-cubed over 20 folds (5-fold over events × 4 shuffles), mean ± sd.\n")
    busy = sorted([*week, *background], key=lambda i: i.published)
    print(scenario("One week, among the corpus feeds' entries", busy))
    print()
    print(scenario("One week, labelled items only", week))
    print()
    print(scenario("One day, labelled items only (every event at once)", day))
    print(f"\nThe product threshold is StoryRules.threshold = {StoryRules().threshold:g}.\n")
    print(speed(background))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

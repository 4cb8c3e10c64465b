"""Near-duplicate fingerprints: cost per entry on the corpus feeds and quality on a labelled
set of syndicated copies, for the version 2 simhash (``bot/ingest/fingerprint.py``) beside
version 1 (``bench/fingerprint_v1.py``), in the same run. The content hash is the same in
both (counted here). Also the product beside the frozen copy of version 2 before issue 11's
last speed-up (``bench/fingerprint_v2.py``): the same values, counted, and the cost of each."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import Rows, run_table
from bench import fingerprint_v1 as v1
from bench import fingerprint_v2 as frozen
from bot.feeds.parse import parse_feed
from bot.ingest import fingerprint as v2
from bot.ingest.dedup import hamming
from tests.bot.ingest.labelled_copies import EDITS, corpus_articles, labelled_pairs

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MAX_DISTANCE = 7  # the index's default, not tuned here

Fingerprints = Callable[[Sequence[str]], list[int]]


def _feed_entries() -> list[list[tuple[str, str]]]:
    """(title, text) of each corpus feed's entries, feed by feed (ingest's batches)."""
    feeds = sorted((CORPUS / "feeds").glob("*.xml"))
    return [[(e.title, e.text) for e in parse_feed(f.read_bytes()).entries] for f in feeds]


def _same_content_hashes(batches: list[list[tuple[str, str]]]) -> str:
    """How many corpus entries get the same content hash from both versions."""
    same = sum(
        a[0] == b[0]
        for batch in batches
        for a, b in zip(v1.fingerprints(batch), v2.fingerprints(batch), strict=True)
    )
    return f"{same}/{sum(map(len, batches))}"


def _cost_us(work: Callable[[Sequence[Any]], object], batches: Sequence[Sequence[Any]]) -> float:
    """Best of 5 rounds, in microseconds of CPU per entry."""
    entries = sum(len(b) for b in batches)
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        for batch in batches:
            work(batch)
        best = min(best, time.process_time() - start)
    return best / entries * 1e6


def _same_values(batches: list[list[tuple[str, str]]]) -> str:
    """How many corpus entries get the same (content hash, simhash) as the frozen copy."""
    same = sum(
        a == b
        for batch in batches
        for a, b in zip(frozen.fingerprints(batch), v2.fingerprints(batch), strict=True)
    )
    return f"{same}/{sum(map(len, batches))}"


def _alternated_us(
    before: Callable[[Sequence[Any]], object],
    now: Callable[[Sequence[Any]], object],
    batches: Sequence[Sequence[Any]],
) -> tuple[float, float]:
    """Best of 7 alternated rounds of each, in microseconds of CPU per entry."""
    entries = sum(len(b) for b in batches)
    best = {before: float("inf"), now: float("inf")}
    for _ in range(7):
        for work in (before, now):
            start = time.process_time()
            for batch in batches:
                work(batch)
            best[work] = min(best[work], time.process_time() - start)
    return best[before] / entries * 1e6, best[now] / entries * 1e6


def _quality(fingerprints: Fingerprints, pairs: list[tuple[str, str, str, bool]]) -> dict[str, str]:
    """Copies found per kind of edit, and false matches among different texts."""
    values = fingerprints([text for pair in pairs for text in pair[:2]])
    found: dict[str, list[bool]] = {}
    for n, (_, _, kind, _) in enumerate(pairs):
        a, b = values[2 * n], values[2 * n + 1]
        found.setdefault(kind, []).append(bool(a and b and hamming(a, b) <= MAX_DISTANCE))
    return {kind: f"{sum(hits)}/{len(hits)}" for kind, hits in found.items()}


def _found(quality: dict[str, str]) -> int:
    return sum(int(quality[kind].split("/")[0]) for kind in EDITS)


async def _run(tmp: Path) -> Rows:
    entries = _feed_entries()
    texts = [[text for _, text in batch] for batch in entries]
    articles = corpus_articles(CORPUS)
    pairs = [(p.first, p.second, p.kind, p.same) for p in labelled_pairs(articles)]
    old_us, new_us = _cost_us(v1.simhashes, texts), _cost_us(v2.simhashes, texts)
    old_both, new_both = _cost_us(v1.fingerprints, entries), _cost_us(v2.fingerprints, entries)
    old_q, new_q = _quality(v1.simhashes, pairs), _quality(v2.simhashes, pairs)
    before_us, now_us = _alternated_us(frozen.fingerprints, v2.fingerprints, entries)
    rows: Rows = [
        ("corpus feed entries (one batch per feed)", f"{sum(map(len, entries))}"),
        ("same content hash in v1 and v2", _same_content_hashes(entries)),
        ("simhash only, CPU µs/entry: v1 | v2", f"{old_us:.1f} | {new_us:.1f}"),
        ("with the content hash, CPU µs/entry: v1 | v2", f"{old_both:.1f} | {new_both:.1f}"),
        (
            "v2 / v1: simhash only | with the content hash",
            _ratios(old_us, new_us, old_both, new_both),
        ),
        ("same values as before issue 11's last speed-up", _same_values(entries)),
        (
            "v2 with the content hash, CPU µs/entry: before | now (now/before)",
            f"{before_us:.1f} | {now_us:.1f} ({now_us / before_us:.2f})",
        ),
        (f"labelled set: {len(articles)} articles, distance <= {MAX_DISTANCE}", "v1 | v2"),
    ]
    for kind in [*EDITS, "halves", "different articles"]:
        label = f"  copies found: {kind}" if kind in EDITS else f"  false matches: {kind}"
        rows.append((label, f"{old_q[kind]} | {new_q[kind]}"))
    rows.append(("  copies found, all edits", f"{_found(old_q)} | {_found(new_q)}"))
    return rows


def _ratios(old_us: float, new_us: float, old_both: float, new_both: float) -> str:
    return f"{new_us / old_us:.2f} | {new_both / old_both:.2f}"


def main() -> int:
    """Print the fingerprints table."""
    if not CORPUS.exists():
        print(f"fingerprints: corpus not found at {CORPUS}")
        return 1
    return run_table("fingerprints", _run)

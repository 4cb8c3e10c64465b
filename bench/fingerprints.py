"""Near-duplicate fingerprints: cost per entry on the corpus feeds and quality on a labelled
set of syndicated copies, for newsbrief's batched simhash (standard library only) beside the
numpy implementation it replaced (``bench/fingerprint_numpy.py``, which must give the same
values: counted here) and the first one (BLAKE2b per shingle), in the same run."""

from __future__ import annotations

import hashlib
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench import Rows, run_table
from bench import fingerprint_numpy as numpy_version
from bot.feeds.parse import parse_feed
from bot.ingest.dedup import hamming
from bot.ingest.fingerprint import fingerprints, simhashes
from tests.bot.ingest.labelled_copies import EDITS, corpus_articles, labelled_pairs

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
MAX_DISTANCE = 7  # the index's default, not tuned here

# --- the previous fingerprint (newsbrief 0.1), the baseline ------------------------------

_WORD = re.compile(r"\w+")
_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")
_PHRASES = (
    *("©", "all rights reserved", "may not be published", "may not be reproduced"),
    *("may not be redistributed", "sign up for", "subscribe to our", "our newsletter"),
    *("follow us on", "click here", "read more", "continue reading", "share this"),
    *("reporting by", "editing by", "writing by", "contributed to this report"),
    *("originally appeared", "originally published", "appeared first on"),
)
_STARTS = ("updated ", "advertisement", "related:", "photo:", "image:", "video:")
_COPYRIGHT = re.compile(r"copyright\s*(?:©|\(c\)|\d{4})")


def _old_boilerplate(sentence: str) -> bool:
    lowered = sentence.strip().lower()
    return (
        not lowered
        or lowered.startswith(_STARTS)
        or any(phrase in lowered for phrase in _PHRASES)
        or _COPYRIGHT.match(lowered) is not None
    )


def _old_simhash(text: str) -> int:
    kept = []
    for paragraph in _PARAGRAPH.split(text):
        sentences = [s for s in _SENTENCE.split(paragraph.strip()) if not _old_boilerplate(s)]
        body = " ".join(sentences)
        if len(body.split()) >= 5:
            kept.append(body)
    tokens = _WORD.findall(unicodedata.normalize("NFKC", "\n\n".join(kept)).casefold())
    if len(tokens) < 50:
        return 0
    shingles = {" ".join(tokens[i : i + 3]) for i in range(len(tokens) - 2)}
    digests = b"".join(
        hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        for s in shingles
    )
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1)
    majority = bits.sum(axis=0, dtype=np.int64) * 2 > len(shingles)
    return int.from_bytes(np.packbits(majority).tobytes(), "big") or 1


def _old_batch(texts: Sequence[str]) -> list[int]:
    return [_old_simhash(text) for text in texts]


# --- measuring --------------------------------------------------------------------------

Fingerprints = Callable[[Sequence[str]], list[int]]


def _feed_entries() -> list[list[tuple[str, str]]]:
    """(title, text) of each corpus feed's entries, feed by feed (ingest's batches)."""
    feeds = sorted((CORPUS / "feeds").glob("*.xml"))
    return [[(e.title, e.text) for e in parse_feed(f.read_bytes()).entries] for f in feeds]


def _same_values(
    batches: list[list[tuple[str, str]]], pairs: list[tuple[str, str, str, bool]]
) -> str:
    """How many corpus entries and labelled texts get the numpy implementation's values
    (content hash and simhash for entries, simhash for labelled texts)."""
    entries = same = 0
    for batch in batches:
        new, old = fingerprints(batch), numpy_version.fingerprints(batch)
        entries += len(batch)
        same += sum(a == b for a, b in zip(new, old, strict=True))
    texts = [text for pair in pairs for text in pair[:2]]
    labelled = sum(
        a == b for a, b in zip(simhashes(texts), numpy_version.simhashes(texts), strict=True)
    )
    return f"{same}/{entries} entries, {labelled}/{len(texts)} labelled texts"


def _cost_us(work: Callable[[Sequence[Any]], object], batches: Sequence[Sequence[Any]]) -> float:
    """Best of 3 rounds, in microseconds of CPU per entry."""
    entries = sum(len(b) for b in batches)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for batch in batches:
            work(batch)
        best = min(best, time.process_time() - start)
    return best / entries * 1e6


def _quality(fingerprints: Fingerprints, pairs: list[tuple[str, str, str, bool]]) -> dict[str, str]:
    """Share of copies found per kind of edit, and false matches among different texts."""
    values = fingerprints([text for pair in pairs for text in pair[:2]])
    found: dict[str, list[bool]] = {}
    for n, (_, _, kind, _) in enumerate(pairs):
        a, b = values[2 * n], values[2 * n + 1]
        found.setdefault(kind, []).append(bool(a and b and hamming(a, b) <= MAX_DISTANCE))
    return {
        kind: f"{sum(hits)}/{len(hits)} ({sum(hits) / len(hits):.1%})"
        for kind, hits in found.items()
    }


async def _run(tmp: Path) -> Rows:
    entries = _feed_entries()
    texts = [[text for _, text in batch] for batch in entries]
    articles = corpus_articles(CORPUS)
    pairs = [(p.first, p.second, p.kind, p.same) for p in labelled_pairs(articles)]
    old_us = _cost_us(_old_batch, texts)
    numpy_us, new_us = _cost_us(numpy_version.simhashes, texts), _cost_us(simhashes, texts)
    numpy_both = _cost_us(numpy_version.fingerprints, entries)
    new_both = _cost_us(fingerprints, entries)
    old_q, new_q = _quality(_old_batch, pairs), _quality(simhashes, pairs)
    rows: Rows = [
        ("corpus feed entries (one batch per feed)", f"{sum(map(len, entries))}"),
        ("same values as numpy (content hash, simhash)", _same_values(entries, pairs)),
        (
            "simhash only, CPU µs/entry: BLAKE2b | numpy | newsbrief",
            f"{old_us:.1f} | {numpy_us:.1f} | {new_us:.1f}",
        ),
        (
            "with the content hash, CPU µs/entry: numpy | newsbrief",
            f"{numpy_both:.1f} | {new_both:.1f}",
        ),
        (
            "newsbrief / numpy: simhash only | with the content hash",
            f"{new_us / numpy_us:.2f} | {new_both / numpy_both:.2f}",
        ),
        (f"labelled set: {len(articles)} articles, distance <= {MAX_DISTANCE}", "BLAKE2b | new"),
    ]
    for kind in [*EDITS, "halves", "different articles"]:
        label = f"  copies found: {kind}" if kind in EDITS else f"  false matches: {kind}"
        rows.append((label, f"{old_q[kind]} | {new_q[kind]}"))
    return rows


def main() -> int:
    """Print the fingerprints table."""
    if not CORPUS.exists():
        print(f"fingerprints: corpus not found at {CORPUS}")
        return 1
    return run_table("fingerprints", _run)

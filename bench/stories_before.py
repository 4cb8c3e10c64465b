"""Story terms, the story index and the near-duplicate index before issue 11's speed-up.

Kept, unchanged but for names, as the reference that ``python -m bench stories`` times the
new code against and that the tests compare it with (the new code must give the same terms
for every text and the same answer for every fingerprint). Not used by the bot.
"""

from __future__ import annotations

import functools
import heapq
import math
import re
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

from bot.ingest import stories
from bot.ingest.stories import Match
from summarizer.terms import STOPWORDS

__all__ = [
    "NearDuplicateIndex",
    "StoryIndex",
    "best_match",
    "content_words",
    "first_words",
    "story_terms",
    "term_set",
]

_WORD = re.compile(r"\w\w+")
_LEAD_WORDS = 120


def story_terms(title: str, text: str, lead_words: int = _LEAD_WORDS) -> tuple[str, ...]:
    """The terms that represent an article: content words of its title, then its text."""
    head = f"{title}\n{first_words(text, 3 * lead_words)}"
    return tuple(content_words(head)[:lead_words])


def first_words(text: str, n: int) -> str:
    """The text up to its ``n``-th space after the first character."""
    if n < 1:
        return ""
    words = text[1:].split(" ", n)
    return text if len(words) <= n else text[:1] + " ".join(words[:n])


def content_words(text: str) -> list[str]:
    """The text's content words in order, stemmed (repeats kept)."""
    stems = _STEMS
    if len(stems) > _STEMS_KEPT:
        stems.clear()
    return [stems.get(w) or _new_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def term_set(text: str) -> frozenset[str]:
    """The set of the text's content words (see :func:`content_words`)."""
    return frozenset(map(stem, set(_WORD.findall(text.lower())) - STOPWORDS))


_STEMS: dict[str, str] = {}
_STEMS_KEPT = 1 << 14


def _new_stem(word: str) -> str:
    _STEMS[word] = value = stem.__wrapped__(word)
    return value


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Strip the commonest English suffixes ("ing", "ed", "es", "s") from a long word."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def best_match(similarities: Mapping[int, float], threshold: float) -> Match | None:
    """The most similar story if it reaches the threshold (ties: the oldest story id)."""
    if not similarities:
        return None
    story_id = min(similarities, key=lambda s: (-similarities[s], s))
    similarity = similarities[story_id]
    return Match(story_id, similarity) if similarity >= threshold else None


class StoryIndex(stories.StoryIndex):
    """The story index before: the methods that changed, as they were."""

    def find(self, terms: Sequence[str], published: float) -> Match | None:
        """The open story an article joins, or None if it starts its own."""
        if len(set(terms)) < self.rules.min_terms:
            return None
        if self._earliest_start() - self.rules.window > published:
            return None
        vector = self._old_vector(terms, extra=1)
        return best_match(self._similarities(vector, published), self.rules.threshold)

    def add(self, story_id: int, terms: Sequence[str], published: float) -> None:
        """Record an article in a story (a new story when the id is not open)."""
        self._frequencies.add(terms, published)
        if story_id not in self._stories and published < self._latest - self.rules.window:
            return
        vector = self._old_vector(terms)
        story = self._stories.setdefault(story_id, stories._Story())
        self._join(story_id, story, vector)
        if published < story.first_seen:
            story.first_seen = published
            heapq.heappush(self._starts, (published, story_id))
        if published > story.last_seen:
            story.last_seen = published
            heapq.heappush(self._closing, (published, story_id))
        self._latest = max(self._latest, published)
        self._close_old()

    def _old_vector(self, terms: Sequence[str], extra: int = 0) -> dict[str, float]:
        counts = Counter(terms)
        idfs = self._frequencies.idfs(counts, extra)
        log = math.log
        weights = {
            t: (1.0 + log(c)) * idf for (t, c), idf in zip(counts.items(), idfs, strict=True)
        }
        norm = math.sqrt(sum(w * w for w in weights.values()))
        return {t: w / norm for t, w in weights.items()} if norm else {}

    def _similarities(self, vector: Mapping[str, float], published: float) -> dict[int, float]:
        dots: defaultdict[int, float] = defaultdict(float)
        postings = self._postings
        for term, weight in vector.items():
            for story_id, centroid_weight in postings.get(term, _NO_POSTINGS).items():
                dots[story_id] += weight * centroid_weight
        open_stories, window = self._stories, self.rules.window
        return {
            story_id: dot / story.norm
            for story_id, dot in dots.items()
            if (story := open_stories[story_id]).norm
            and story.first_seen - window <= published <= story.last_seen + window
        }


_NO_POSTINGS: dict[int, float] = {}
_BITS = 64
_MASK = (1 << _BITS) - 1
_BLOCKS = 4
_BLOCK_BITS = _BITS // _BLOCKS
_BLOCK_MASK = (1 << _BLOCK_BITS) - 1
_BLOCK_SHIFTS = tuple(range(0, _BITS, _BLOCK_BITS))
_EMPTY: dict[int, int] = {}


class NearDuplicateIndex:
    """Recent fingerprints with their story ids, searchable within a Hamming distance."""

    def __init__(self, max_distance: int = 7, capacity: int = 100_000) -> None:
        self.max_distance = max_distance
        self.capacity = capacity
        self._probes = _flip_masks(_BLOCK_BITS, max_distance // _BLOCKS)
        self._tables: list[dict[int, dict[int, int]]] = [{} for _ in range(_BLOCKS)]
        self._entries: dict[int, tuple[int, int]] = {}
        self._order: deque[int] = deque()
        self._serial = 0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, fingerprint: int, story_id: int) -> None:
        """Remember that a story has an article with this fingerprint."""
        if fingerprint == 0:
            return
        fingerprint &= _MASK
        serial = self._serial
        self._serial += 1
        self._entries[serial] = (fingerprint, story_id)
        self._order.append(serial)
        for table, key in zip(self._tables, _block_keys(fingerprint), strict=True):
            bucket = table.get(key)
            if bucket is None:
                bucket = table[key] = {}
            bucket[serial] = fingerprint
        while len(self._order) > self.capacity:
            self._forget(self._order.popleft())

    def extend(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Add ``(fingerprint, story_id)`` pairs, oldest first."""
        for fingerprint, story_id in pairs:
            self.add(fingerprint, story_id)

    def find(self, fingerprint: int) -> int | None:
        """The story id of the closest fingerprint within ``max_distance`` bits, or None."""
        if fingerprint == 0:
            return None
        fingerprint &= _MASK
        limit = self.max_distance
        matches = [
            ((fingerprint ^ other).bit_count(), serial)
            for table, key in zip(self._tables, _block_keys(fingerprint), strict=True)
            for flip in self._probes
            for serial, other in table.get(key ^ flip, _EMPTY).items()
            if (fingerprint ^ other).bit_count() <= limit
        ]
        return self._entries[min(matches)[1]][1] if matches else None

    def _forget(self, serial: int) -> None:
        fingerprint, _ = self._entries.pop(serial)
        for table, key in zip(self._tables, _block_keys(fingerprint), strict=True):
            bucket = table[key]
            del bucket[serial]
            if not bucket:
                del table[key]


def _block_keys(fingerprint: int) -> tuple[int, ...]:
    return tuple((fingerprint >> shift) & _BLOCK_MASK for shift in _BLOCK_SHIFTS)


def _flip_masks(width: int, radius: int) -> tuple[int, ...]:
    masks = [0]
    for count in range(1, radius + 1):
        masks.extend(sum(1 << bit for bit in bits) for bits in combinations(range(width), count))
    return tuple(masks)

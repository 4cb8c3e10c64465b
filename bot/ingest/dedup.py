"""Near-duplicate detection: the same story from two outlets becomes one story.

Fingerprints (``content_hash``, ``simhash``/``simhashes``) are made in
:mod:`bot.ingest.fingerprint`; this module keeps the index that finds, for a fingerprint,
a story within ``max_distance`` bits quickly for 100k entries.

Why ``max_distance = 7`` by default: measured on 164 real news articles (150-1,600 words),
a copy with its own intro sentence, an "Advertisement" line and its own closing line lands
within 7 bits about 90% of the time; a copy that also drops the last paragraph, 85%. Two
halves of one article, the closest thing to two different stories on one topic, never
matched, and no two of the 13,366 pairs of different articles did (``python -m bench
fingerprints`` prints these numbers). For unrelated texts the chance of a distance <= 7 is
3.8e-11 per pair, about 4e-6 per lookup in a full 100k index.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import combinations

from bot.ingest.fingerprint import MIN_WORDS, NO_FINGERPRINT, content_hash, simhashes

__all__ = [
    "MIN_WORDS",
    "NO_FINGERPRINT",
    "NearDuplicateIndex",
    "content_hash",
    "from_signed64",
    "hamming",
    "simhash",
    "simhashes",
    "to_signed64",
]

_BITS = 64
_MASK = (1 << _BITS) - 1
_BLOCKS = 4
_BLOCK_BITS = _BITS // _BLOCKS


def simhash(text: str) -> int:
    """64-bit simhash of one article body; ``NO_FINGERPRINT`` (0) for short texts. For
    many texts, ``simhashes`` is several times faster per text."""
    return simhashes([text])[0]


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit fingerprints."""
    return ((a ^ b) & _MASK).bit_count()


def to_signed64(value: int) -> int:
    """A 64-bit fingerprint as a signed integer, the range SQLite's INTEGER holds."""
    value &= _MASK
    return value - (1 << _BITS) if value >> (_BITS - 1) else value


def from_signed64(value: int) -> int:
    """Undo ``to_signed64``."""
    return value & _MASK


class NearDuplicateIndex:
    """Recent fingerprints with their story ids, searchable within a Hamming distance.

    Banding with probing: the 64 bits are cut into 4 blocks of 16, one lookup table per
    block (one dict here, each key tagged with its block's number). Two fingerprints at
    most ``max_distance`` bits apart differ in at most ``max_distance // 4`` bits of at
    least one block (pigeonhole), so a query looks up, for each block, its own block value
    and every value within that many bits of it (17 per block for the default of 7). Only
    the entries found there are compared bit by bit: about a hundred for 100k random
    entries.

    The oldest entries are forgotten beyond ``capacity``. ``NO_FINGERPRINT`` is never stored
    and never matches.
    """

    def __init__(self, max_distance: int = 7, capacity: int = 100_000) -> None:
        """Build an empty index.

        Raises:
            ValueError: ``max_distance`` not in 0..15 or ``capacity`` below 1.
        """
        if not 0 <= max_distance <= 15:
            raise ValueError(f"max_distance must be within 0..15, not {max_distance}")
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self.max_distance = max_distance
        self.capacity = capacity
        self._probes = _flip_masks(_BLOCK_BITS, max_distance // _BLOCKS)
        # tagged block value -> {serial: fingerprint}; the fingerprint sits in the bucket so
        # a lookup compares without a second dictionary access per candidate.
        self._table: dict[int, dict[int, int]] = {}
        self._entries: dict[int, tuple[int, int]] = {}  # serial -> (fingerprint, story id)
        self._order: deque[int] = deque()
        self._serial = 0

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, fingerprint: int, story_id: int) -> None:
        """Remember that a story has an article with this fingerprint."""
        if fingerprint == NO_FINGERPRINT:
            return
        fingerprint &= _MASK
        serial = self._serial
        self._serial = serial + 1
        self._entries[serial] = (fingerprint, story_id)
        self._order.append(serial)
        table = self._table
        for key in _block_keys(fingerprint):
            bucket = table.get(key)
            if bucket is None:
                table[key] = {serial: fingerprint}
            else:
                bucket[serial] = fingerprint
        while len(self._order) > self.capacity:
            self._forget(self._order.popleft())

    def extend(self, pairs: Iterable[tuple[int, int]]) -> None:
        """Add ``(fingerprint, story_id)`` pairs, oldest first (e.g. loaded from the store)."""
        for fingerprint, story_id in pairs:
            self.add(fingerprint, story_id)

    def find(self, fingerprint: int) -> int | None:
        """The story id of the closest fingerprint within ``max_distance`` bits, or None.

        Ties go to the entry added first: the story's earliest telling.
        """
        if fingerprint == NO_FINGERPRINT:
            return None
        fingerprint &= _MASK
        get, limit = self._table.get, self.max_distance
        # (distance, serial) of every entry within reach: the least is the closest, then the
        # oldest (an entry found through two blocks is listed twice, which changes no least)
        matches = [
            (distance, serial)
            for key in _block_keys(fingerprint)
            for flip in self._probes
            if (bucket := get(key ^ flip))
            for serial, other in bucket.items()
            if (distance := (fingerprint ^ other).bit_count()) <= limit
        ]
        return self._entries[min(matches)[1]][1] if matches else None

    def _forget(self, serial: int) -> None:
        fingerprint, _ = self._entries.pop(serial)
        table = self._table
        for key in _block_keys(fingerprint):
            bucket = table[key]
            del bucket[serial]
            if not bucket:
                del table[key]


def _block_keys(fingerprint: int) -> tuple[int, int, int, int]:
    """The 4 blocks of 16 bits, each tagged with its number above them (flipping a block's
    bits never touches its tag, so the 4 tables share one dict)."""
    return (
        fingerprint & 0xFFFF,
        (fingerprint >> 16) & 0xFFFF | 0x1_0000,
        (fingerprint >> 32) & 0xFFFF | 0x2_0000,
        (fingerprint >> 48) & 0xFFFF | 0x3_0000,
    )


def _flip_masks(width: int, radius: int) -> tuple[int, ...]:
    """Every ``width``-bit mask with at most ``radius`` bits set, 0 first."""
    masks = [0]
    for count in range(1, radius + 1):
        masks.extend(sum(1 << bit for bit in bits) for bits in combinations(range(width), count))
    return tuple(masks)

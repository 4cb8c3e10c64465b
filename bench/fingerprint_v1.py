"""Fingerprints version 1 (newsbrief up to the v2 fingerprints), kept as the baseline that
``python -m bench fingerprints`` compares against and as the pinned definition of the values
older databases hold (``bot/ingest/fingerprint.py`` computes version 2).

Version 1 counts the same words as version 2 (the product's lowering, boilerplate
sentences and short paragraphs, and the same vote, used from ``bot.ingest.fingerprint``)
with two differences: the first ``FINGERPRINT_CHARS`` (8,000) characters of a text count,
and the hashes are splitmix64 ones: a word's over its first 16 bytes, a 3-word shingle's
over a polynomial of its words' hashes (four multiplies a word where version 2 has two).
All of a batch is computed at once on one big integer, 128 bits a word: a 64-bit value
times a 64-bit constant never carries into the next field, and masking each field to 64
bits keeps the arithmetic modulo 2**64. The values are the ones numpy computed before, bit
for bit (``bench/fingerprint_numpy.py``; a test checks it).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from bot.ingest import fingerprint as current

__all__ = ["FINGERPRINT_CHARS", "content_hash", "fingerprints", "simhashes"]

FINGERPRINT_CHARS = 8000  # about 1,300 words: the whole of 80% of the corpus's entries
content_hash = current.content_hash  # the same in both versions

_MASK64 = (1 << 64) - 1
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
_P = 0x100000001B3
_SEED = 0x9E3779B97F4A7C15
_PACK = struct.Struct("16s" * 256)  # 256 words, each its first 16 bytes, zero-padded


def simhashes(texts: Sequence[str]) -> list[int]:
    """Version 1's 64-bit simhash of each article body; 0 for short texts."""
    heads = [current._lowered(text[:FINGERPRINT_CHARS]) for text in texts]
    return current._simhashes_of(heads, _shingles)


def fingerprints(articles: Sequence[tuple[str, str]]) -> list[tuple[str, int]]:
    """Per (title, body): ``content_hash(title, body)`` and the body's version 1 simhash
    (each text is normalized once for both)."""
    hashes, heads = [], []
    for title, text in articles:
        lowered = current._lowered(text)
        hashes.append(current._digest(current._lowered(title), lowered))
        short = len(text) <= FINGERPRINT_CHARS
        heads.append(lowered if short else current._lowered(text[:FINGERPRINT_CHARS]))
    return list(zip(hashes, current._simhashes_of(heads, _shingles), strict=True))


def _mix(z: int, mask: int) -> int:
    """splitmix64's finalizer on every 64-bit value of ``z`` (one per 128-bit field; the
    upper 64 bits of each field hold garbage on return)."""
    z = ((z ^ (z >> 30)) & mask) * _M1 & mask
    z = ((z ^ (z >> 27)) & mask) * _M2 & mask
    return z ^ (z >> 31)


def _word_hashes(words: list[bytes]) -> tuple[int, int]:
    """The hash of each word (of its first 16 bytes), one per 128-bit field, and the mask
    of those fields (a few more than words: the last fields hash padding)."""
    padded = words + [b""] * (-len(words) % 256)
    packed = b"".join([_PACK.pack(*padded[i : i + 256]) for i in range(0, len(padded), 256)])
    heads = int.from_bytes(packed, "little")
    mask = current._fields(len(padded), _MASK64)
    high = _mix((heads >> 64) & mask ^ current._fields(len(padded), _SEED), mask) & mask
    return _mix(heads & mask ^ high, mask) & mask, mask


def _shingles(words: list[bytes]) -> bytes:
    """The hash of each 3-word shingle, 16 bytes each (the first 8 count): shingle ``i``
    is words ``i`` to ``i + 2`` (the last two run past the end: they do not count)."""
    hashes, mask = _word_hashes(words)
    after = hashes >> 128
    grams = (((hashes * _P & mask) + after) * _P & mask) + (after >> 128) & mask
    return _mix(grams, mask).to_bytes(mask.bit_length() // 8 + 8, "little")

"""The numpy implementation of ``bot/ingest/fingerprint.py`` (newsbrief up to issue 11), kept
unchanged as the baseline: ``python -m bench fingerprints`` measures it beside the standard
library one and counts that both give the same values; the tests compare them on generated
texts. numpy is a dev dependency for this only.

Fingerprints of article text: an exact content hash and a near-duplicate simhash.

- ``content_hash(title, text)``: sha256 of the normalized words; equal for copies that
  differ only in case, punctuation or spacing. Also the summary cache key.
- ``simhashes(texts)``: one 64-bit simhash per text, for a whole batch at once. Copies that
  share most of their text land a few bits apart; unrelated texts about 32 bits apart.

How a batch is fingerprinted, with no Python work per word: each text is lowercased (NFKC
first when it is not ASCII), its sentence ends, paragraph breaks and colons become marker
tokens, every other ASCII punctuation byte a space, and the words of the whole batch are
split once. numpy then hashes each word (its first 16 bytes), finds boilerplate sentences
by their word n-grams (bylines, copyright lines, newsletter pitches; see ``_PHRASES``),
drops those and paragraphs of fewer than 5 words, hashes the 3-word shingles, and takes the
per-bit majority vote of each text's shingles from per-byte histograms.

Only the first ``FINGERPRINT_CHARS`` characters of a text count: they hold the story's
opening, which copies share, and the cost stays bounded for 100,000-character posts.

The rule for short texts: a body of fewer than ``MIN_WORDS`` words (after boilerplate is
removed) gets ``NO_FINGERPRINT`` (0), which the index never stores and never matches. A few
dozen words do not carry enough shingles for a stable fingerprint, and templated briefs
("X beat Y 3-1 on Sunday") would merge different stories. Exact copies of short texts are
still caught by ``content_hash``.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "FINGERPRINT_CHARS",
    "MIN_WORDS",
    "NO_FINGERPRINT",
    "content_hash",
    "fingerprints",
    "simhashes",
]

MIN_WORDS = 50
NO_FINGERPRINT = 0
FINGERPRINT_CHARS = 8000  # about 1,300 words: the whole of 80% of the corpus's entries
_MIN_PARAGRAPH_WORDS = 5  # shorter paragraphs are datelines, bylines or captions
_CHUNK_SHINGLES = 1 << 16  # texts are voted on in chunks of about this many shingles
_BATCH_TEXTS = 64  # texts per pass: larger batches stop fitting the CPU's caches

U64 = npt.NDArray[np.uint64]
Flags = npt.NDArray[np.bool_]

# Marker tokens, each a byte no text keeps (control characters are mapped to spaces first).
_SENTENCE, _PARAGRAPH, _TEXT, _SIGN, _COLON = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"
_WORD_BYTES = frozenset(b"0123456789abcdefghijklmnopqrstuvwxyz_")
# Before markers go in: ASCII letters lowercased, other ASCII punctuation and control bytes
# a space; bytes of non-ASCII characters kept (they are letters, or rare punctuation).
_CLEAN = bytes(
    c + 32
    if 65 <= c <= 90
    else ord(".")
    if c in b"!?"
    else c
    if c in _WORD_BYTES or c >= 0x80 or c in b".:\n\x04"
    else 32
    for c in range(256)
)
_NEWLINE = bytes(32 if c == ord("\n") else c for c in range(256))
# After markers are in: punctuation left over (inside "3.5", "e.g.") is a space.
_FINAL = bytes(32 if c in b".:" else c for c in range(256))
_UNICODE_PUNCTUATION = (
    *(("’", " "), ("‘", " "), ("“", " "), ("”", " "), ("«", " "), ("»", " ")),
    *(("—", " "), ("–", " "), ("…", ". "), ("\xa0", " "), ("©", " \x04 ")),
)
# Sentences that outlets add around a syndicated story, by the words they contain.
_PHRASES = (
    *("all rights reserved", "may not be published", "may not be reproduced"),
    *("may not be redistributed", "sign up for", "subscribe to our", "our newsletter"),
    *("follow us on", "click here", "read more", "continue reading", "share this"),
    *("reporting by", "editing by", "writing by", "contributed to this report"),
    *("originally appeared", "originally published", "appeared first on"),
)
_FIRST_WORDS = ("updated", "advertisement", "advertisements")  # a sentence starting so
_LABELS = ("related", "photo", "image", "video")  # a sentence starting "Label:"

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_P = np.uint64(0x100000001B3)
_SEED = np.uint64(0x9E3779B97F4A7C15)
_BYTE_BITS = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(np.float64)


def content_hash(title: str, text: str) -> str:
    """Hex sha256 of the normalized words of title and text (case, punctuation, spacing
    do not count)."""
    return _digest(_lowered(title), _lowered(text))


def simhashes(texts: Sequence[str]) -> list[int]:
    """64-bit simhash of each article body; ``NO_FINGERPRINT`` (0) for short texts.

    The value depends only on the text (the same in every process, on every machine and in
    any batch). Pass bodies only: headlines differ between outlets.
    """
    return _simhashes_of([_lowered(text[:FINGERPRINT_CHARS]) for text in texts])


def fingerprints(articles: Sequence[tuple[str, str]]) -> list[tuple[str, int]]:
    """Per (title, body): ``content_hash(title, body)`` and the body's simhash, for a batch
    (each text is normalized once for both)."""
    hashes, heads = [], []
    for title, text in articles:
        lowered = _lowered(text)
        hashes.append(_digest(_lowered(title), lowered))
        short = len(text) <= FINGERPRINT_CHARS
        heads.append(lowered if short else _lowered(text[:FINGERPRINT_CHARS]))
    return list(zip(hashes, _simhashes_of(heads), strict=True))


def _digest(title: bytes, text: bytes) -> str:
    words = b" ".join(title.translate(_FINAL).split())
    return hashlib.sha256(words + b"\n" + b" ".join(text.translate(_FINAL).split())).hexdigest()


def _simhashes_of(lowered: Sequence[bytes]) -> list[int]:
    values: list[int] = []
    for first in range(0, len(lowered), _BATCH_TEXTS):
        values += _simhashes(lowered[first : first + _BATCH_TEXTS])
    return values


def _simhashes(lowered: Sequence[bytes]) -> list[int]:
    fingerprints = [NO_FINGERPRINT] * len(lowered)
    words, text_of = _batch_words(lowered)
    if len(words) >= 3:
        counted = np.flatnonzero(np.bincount(text_of, minlength=len(lowered)) >= MIN_WORDS)
        for index, value in zip(counted.tolist(), _vote(words, text_of, counted), strict=True):
            fingerprints[index] = value or 1  # 0 means "none"; a real 0 is one in 2**64
    return fingerprints


# --- words ------------------------------------------------------------------------------


def _lowered(text: str) -> bytes:
    """The text as lowercase UTF-8 with ASCII punctuation as spaces, markers not yet in."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).lower()
        for old, new in _UNICODE_PUNCTUATION:
            if old in text:
                text = text.replace(old, new)
    return text.encode("utf-8", "surrogatepass").translate(_CLEAN)


class _Members:
    """A small set of hashes, tested by a 16-bit table first (one gather per value) and by
    binary search only for the rare values that pass it."""

    def __init__(self, members: U64) -> None:
        self._sorted = np.unique(members)
        self._table = np.zeros(1 << 16, dtype=np.bool_)
        self._table[self._sorted & np.uint64(0xFFFF)] = True

    def __call__(self, values: U64) -> Flags:
        hits: Flags = self._table[values & np.uint64(0xFFFF)]
        candidates = np.flatnonzero(hits)
        if len(candidates):
            found = np.searchsorted(self._sorted, values[candidates])
            found = np.minimum(found, len(self._sorted) - 1)
            hits[candidates] = self._sorted[found] == values[candidates]
        return hits


def _batch_words(lowered: Sequence[bytes]) -> tuple[U64, npt.NDArray[np.intp]]:
    """Hashes of the words that count in each text, and the index of the text of each."""
    joined = b" \x03 ".join(lowered)
    joined = joined.replace(b"\n\n", b" \x02 ")
    if b"\n \n" in joined:
        joined = joined.replace(b"\n \n", b" \x02 ")
    joined = joined.translate(_NEWLINE).replace(b". ", b" \x01 ").replace(b": ", b" \x05 ")
    tokens = _hash_tokens(joined.translate(_FINAL).split())
    if not len(tokens):
        return tokens, np.zeros(0, dtype=np.intp)
    text_start = tokens == _MARKER[_TEXT]
    text_of = np.cumsum(text_start)
    keep = _counted(tokens, text_start)
    return tokens[keep], text_of[keep]


def _hash_tokens(tokens: list[bytes]) -> U64:
    """A 64-bit hash of each token's first 16 bytes."""
    if not tokens:
        return np.zeros(0, dtype=np.uint64)
    halves = np.array(tokens, dtype="S16").view("<u8").reshape(-1, 2)
    return _mix(halves[:, 0] ^ _mix(halves[:, 1] ^ _SEED))


def _mix(z: U64) -> U64:
    """splitmix64's finalizer: every input bit moves every output bit."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _grams(hashes: U64, n: int) -> U64:
    """A hash of each run of ``n`` tokens (as many as there are runs)."""
    runs = len(hashes) - n + 1
    gram = hashes[:runs].copy()
    for k in range(1, n):
        gram = gram * _P + hashes[k : runs + k]
    return gram


def _phrase_hashes(phrases: Sequence[str], n: int) -> _Members:
    runs = [p.encode().split() for p in phrases]
    grams = [_grams(_hash_tokens(words), n)[0] for words in runs if len(words) == n]
    return _Members(np.array(grams, dtype=np.uint64))


_MARKER = {m: _hash_tokens([m])[0] for m in (_SENTENCE, _PARAGRAPH, _TEXT, _SIGN, _COLON)}
_PHRASE_GRAMS = {n: _phrase_hashes(_PHRASES, n) for n in (2, 3, 4)}
_FIRST = _Members(_hash_tokens([w.encode() for w in _FIRST_WORDS]))
_LABEL_GRAMS = _Members(
    np.array([_grams(_hash_tokens([w.encode(), _COLON]), 2)[0] for w in _LABELS], dtype=np.uint64)
)
_COPYRIGHT = _hash_tokens([b"copyright"])[0]
_COPYRIGHT_NEXT = _Members(
    _hash_tokens([_SIGN, b"c", *(str(y).encode() for y in range(1900, 2100))])
)


# --- boilerplate ------------------------------------------------------------------------


def _counted(tokens: U64, text_start: Flags) -> Flags:
    """Which tokens are words that count: no markers, nothing of a boilerplate sentence,
    nothing of a paragraph shorter than ``_MIN_PARAGRAPH_WORDS`` words."""
    sentence_end = (tokens == _MARKER[_SENTENCE]) | (tokens == _MARKER[_PARAGRAPH])
    markers = sentence_end | text_start | (tokens == _MARKER[_COLON])
    sentence = np.cumsum(sentence_end | text_start)
    bad = np.zeros(int(sentence[-1]) + 1, dtype=np.bool_)
    bad[sentence[_boilerplate(tokens, sentence_end | text_start)]] = True
    keep = ~(markers | bad[sentence])
    paragraph = np.cumsum((tokens == _MARKER[_PARAGRAPH]) | text_start)
    lengths = np.bincount(paragraph[keep], minlength=int(paragraph[-1]) + 1)
    counted: Flags = keep & (lengths[paragraph] >= _MIN_PARAGRAPH_WORDS)
    return counted


def _boilerplate(tokens: U64, boundary: Flags) -> Flags:
    """Tokens that make their sentence boilerplate."""
    hits = tokens == _MARKER[_SIGN]
    for n, phrases in _PHRASE_GRAMS.items():
        if len(tokens) >= n:
            hits[: len(tokens) - n + 1] |= phrases(_grams(tokens, n))
    first = np.ones(len(tokens), dtype=np.bool_)
    first[1:] = boundary[:-1]
    opening = _FIRST(tokens)
    if len(tokens) >= 2:
        opening[:-1] |= _LABEL_GRAMS(_grams(tokens, 2))
        opening[:-1] |= (tokens[:-1] == _COPYRIGHT) & _COPYRIGHT_NEXT(tokens[1:])
    bad: Flags = hits | (opening & first)
    return bad


# --- the vote ---------------------------------------------------------------------------


def _vote(words: U64, text_of: npt.NDArray[np.intp], counted: npt.NDArray[np.intp]) -> list[int]:
    """The simhash of each counted text: the majority of each bit over its shingles."""
    shingles = _mix(_grams(words, 3))
    owner = text_of[:-2]
    valid = (owner == text_of[2:]) & np.isin(owner, counted)
    shingles, owner = shingles[valid], owner[valid]
    starts = np.searchsorted(owner, counted)
    values: list[int] = []
    first = 0
    while first < len(starts):  # chunks of texts, so the bit table stays a few MB
        last = int(np.searchsorted(starts, starts[first] + _CHUNK_SHINGLES, side="left"))
        last = max(last, first + 1)
        end = int(starts[last]) if last < len(starts) else len(shingles)
        chunk = shingles[int(starts[first]) : end]
        values += _majority(chunk, starts[first:last] - starts[first])
        first = last
    return values


def _majority(shingles: U64, starts: npt.NDArray[np.intp]) -> list[int]:
    """Per text (shingles ``starts[i]`` up to the next start): the bits set in more than
    half of its shingles.

    Counted per byte of the hash: a histogram of byte values per text, times a table of
    the bits of each byte value, gives every bit's count in 8 passes instead of 64.
    """
    texts = len(starts)
    sizes = np.diff(np.append(starts, len(shingles)))
    owner = np.repeat(np.arange(texts) * 256, sizes)
    by_byte = shingles.view(np.uint8).reshape(-1, 8)
    counts = np.empty((texts, 64))
    for k in range(8):
        histogram = np.bincount(owner + by_byte[:, k], minlength=texts * 256)
        counts[:, 8 * k : 8 * k + 8] = histogram.reshape(texts, 256) @ _BYTE_BITS
    majority = counts * 2 > sizes[:, None]
    packed = np.packbits(majority, axis=1, bitorder="little").view("<u8").ravel()
    return [int(v) for v in packed]

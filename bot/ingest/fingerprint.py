"""Fingerprints of article text: an exact content hash and a near-duplicate simhash.

- ``content_hash(title, text)``: sha256 of the normalized words; equal for copies that
  differ only in case, punctuation or spacing. Also the summary cache key.
- ``simhashes(texts)``: one 64-bit simhash per text, for a whole batch at once. Copies that
  share most of their text land a few bits apart; unrelated texts about 32 bits apart.

The words: each text is lowercased (NFKC first when it is not ASCII), ASCII punctuation
becomes a space (``.``, ``:`` and newlines mark sentence ends, colons and paragraph
breaks), and the words are split on spaces. Boilerplate sentences (bylines, copyright
lines, newsletter pitches; see ``_PHRASES``) and paragraphs of fewer than 5 words do not
count. This is version 2 (``FINGERPRINT_VERSION``) of the simhash; version 1 is kept in
``bench/fingerprint_v1.py``. The words are the same in both; version 2 hashes them with one
multiply each and counts the first 3,000 characters, not 8,000:

- a word's hash is ``fold(x * K1)``, ``x`` its first 8 bytes as a little-endian integer
  (zero-padded), ``fold(z)`` the low 64 bits of ``z ^ (z >> 64)`` (the 128-bit product's
  halves, xored);
- a 3-word shingle's hash is ``fold(g * K2)`` with ``g = h1 ^ 2*h2 ^ 4*h3`` modulo 2**64
  (``h1``, ``h2``, ``h3`` its words' hashes, in order);
- the simhash holds the bits set in more than half of a text's shingles.

How a batch is computed with no Python work per word, in the standard library only: one
RE2 scan of the batch finds the few texts that may hold boilerplate, which take the exact
sentence-by-sentence path (``_exact_words``); the others are split straight into
paragraphs. The words of the batch are packed (``struct``, 8 bytes and 8 zero bytes each)
into one big integer, 128 bits a word, and every word and shingle hash is computed at once
with integer arithmetic on it: a 64-bit value times a 64-bit constant fills its 128-bit
field and never carries into the next one. The vote counts each bit with ``int.bit_count``
over one byte of every shingle.

Only the first ``FINGERPRINT_CHARS`` characters of a text count: they hold the story's
opening, which copies share, and the cost stays bounded for 100,000-character posts.

The rule for short texts: a body of fewer than ``MIN_WORDS`` words (after boilerplate is
removed) gets ``NO_FINGERPRINT`` (0), which the index never stores and never matches. A few
dozen words do not carry enough shingles for a stable fingerprint, and templated briefs
("X beat Y 3-1 on Sunday") would merge different stories. Exact copies of short texts are
still caught by ``content_hash``.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import itertools
import struct
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import re2

__all__ = [
    "FINGERPRINT_CHARS",
    "FINGERPRINT_VERSION",
    "MIN_WORDS",
    "NO_FINGERPRINT",
    "content_hash",
    "fingerprints",
    "simhashes",
]

MIN_WORDS = 50
NO_FINGERPRINT = 0
FINGERPRINT_VERSION = 2  # stored with the values; another version's values are recomputed
FINGERPRINT_CHARS = 3000  # about 480 words: the whole of 65% of the corpus's entries
_MIN_PARAGRAPH_WORDS = 5  # shorter paragraphs are datelines, bylines or captions
_BATCH_TEXTS = 64  # texts per pass (the last text of a pass ends the joined batch)

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
# The content hash's words: dots, colons and newlines are spaces, and spaces all that parts them.
_SPACES = bytes(32 if c in b".:\n" else c for c in range(256))
# Words only: sentence and colon markers, dots, colons and newlines are spaces.
_WORDS_ONLY = bytes(32 if c in b".:\n\x01\x05" else c for c in range(256))
_UNICODE_PUNCTUATION = (
    *(("’", " "), ("‘", " "), ("“", " "), ("”", " "), ("«", " "), ("»", " ")),
    *(("—", " "), ("–", " "), ("…", ". "), ("\xa0", " "), ("©", " \x04 ")),
)
# Characters NFKC replaces by their compatibility decomposition (in ``_lowered``, before
# NFKC: the same result, and most texts are then normalized already, which NFKC checks fast).
_NFKC_MARKS = (("\xa0", " "), ("…", "..."))
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
_YEARS = "19[0-9][0-9]|20[0-9][0-9]"  # "copyright 2024": years 1900 to 2099

_MASK64 = (1 << 64) - 1
_K1 = 0x9E3779B97F4A7C15  # the word hash's multiplier
_K2 = 0xBF58476D1CE4E5B9  # the shingle hash's multiplier
_PACK = struct.Struct("8s8x" * 256)  # 256 words, each its first 8 bytes, zero-padded to 16
_BINARY = bytes.maketrans(b"\x00\x01", b"01")


def content_hash(title: str, text: str) -> str:
    """Hex sha256 of the normalized words of title and text (case, punctuation, spacing
    do not count)."""
    return _digest(_lowered(title), _lowered(text))


def simhashes(texts: Sequence[str]) -> list[int]:
    """64-bit simhash of each article body; ``NO_FINGERPRINT`` (0) for short texts.

    The value depends only on the text (the same in every process and on every machine),
    with one exception kept for stored values: a last sentence that is only a label
    ("... Photo:") counts as boilerplate unless the text ends its batch of 64 (no text
    follows its colon). Pass bodies only: headlines differ between outlets.
    """
    return _simhashes_of([_lowered(text[:FINGERPRINT_CHARS]) for text in texts])


def fingerprints(articles: Sequence[tuple[str, str]]) -> list[tuple[str, int]]:
    """Per (title, body): ``content_hash(title, body)`` and the body's simhash, for a batch
    (each text is normalized once for both)."""
    hashes, heads = [], []
    for title, text in articles:
        lowered = _lowered(text)
        hashes.append(_digest(_lowered(title), lowered))
        heads.append(_head(text, lowered))
    return list(zip(hashes, _simhashes_of(heads), strict=True))


def _head(text: str, lowered: bytes) -> bytes:
    """``_lowered(text[:FINGERPRINT_CHARS])``, given ``lowered`` (all of ``text`` lowered):
    for ASCII text, each character is one byte there."""
    if len(text) <= FINGERPRINT_CHARS:
        return lowered
    if text.isascii():
        return lowered[:FINGERPRINT_CHARS]
    return _lowered(text[:FINGERPRINT_CHARS])


def _digest(title: bytes, text: bytes) -> str:
    return hashlib.sha256(_one_space_apart(title) + b"\n" + _one_space_apart(text)).hexdigest()


def _one_space_apart(lowered: bytes) -> bytes:
    """The words of a lowered text one space apart: ``b" ".join(words)``, where the dots,
    colons, newlines and spaces (its only whitespace) part words.

    Split at runs of two or more spaces, not at every space: a few pieces instead of one
    object a word (pieces are stripped, and empty ones left out, where runs were longer).
    """
    pieces = lowered.translate(_SPACES).split(b"  ")
    return b" ".join(filter(None, map(bytes.strip, pieces)))


def _lowered(text: str) -> bytes:
    """The text as lowercase UTF-8 with ASCII punctuation as spaces, markers not yet in."""
    if not text.isascii():
        text = _without_marks(text)
    return text.encode("utf-8", "surrogatepass").translate(_CLEAN)


def _without_marks(text: str) -> str:
    """The text NFKC-normalized, lower-cased and with ``_UNICODE_PUNCTUATION`` replaced,
    but for ASCII capitals, which ``_CLEAN`` lowers."""
    ready = text
    for old, new in _NFKC_MARKS:
        if old in ready:
            ready = ready.replace(old, new)
    plain = ready
    for old, new in _UNICODE_PUNCTUATION:
        if old in plain:
            plain = plain.replace(old, new)
    if plain.isascii():
        # The marks were its only non-ASCII characters: NFKC changes no ASCII character
        # next to them, and lower() changes only ASCII capitals there.
        return plain
    # Not before lower(): a curly quote next to a capital sigma can decide its small form.
    text = unicodedata.normalize("NFKC", ready).lower()
    for old, new in _UNICODE_PUNCTUATION:
        if old in text:
            text = text.replace(old, new)
    return text


Shingler = Callable[[list[bytes]], bytes]  # words -> each 3-word shingle's hash, 16 bytes


def _simhashes_of(lowered: Sequence[bytes], shingles: Shingler | None = None) -> list[int]:
    """The simhash of each lowered text, ``_BATCH_TEXTS`` at a time (``shingles``: another
    version's shingle hashes, for the bench's baseline)."""
    values: list[int] = []
    for first in range(0, len(lowered), _BATCH_TEXTS):
        values += _simhashes(lowered[first : first + _BATCH_TEXTS], shingles or _shingles)
    return values


def _simhashes(lowered: Sequence[bytes], shingles: Shingler) -> list[int]:
    values = [NO_FINGERPRINT] * len(lowered)
    words: list[bytes] = []
    spans: list[tuple[int, int]] = []  # each counted text's words: words[start:end]
    counted: list[int] = []
    for index, text in enumerate(_counted_texts(lowered)):
        text_words = text.split()
        if len(text_words) >= MIN_WORDS:
            counted.append(index)
            spans.append((len(words), len(words) + len(text_words)))
            words += text_words
    if counted:
        for index, value in zip(counted, _votes(shingles(words), spans), strict=True):
            values[index] = value or 1  # 0 means "none"; a real 0 is one in 2**64
    return values


# --- words ------------------------------------------------------------------------------


def _counted_texts(lowered: Sequence[bytes]) -> list[bytes]:
    """Per text, the words that count, apart by spaces: no boilerplate sentence, no
    paragraph of fewer than ``_MIN_PARAGRAPH_WORDS`` words."""
    joined = b" \x03 ".join(lowered)
    texts = _paragraphs(joined).translate(_WORDS_ONLY).split(_TEXT)
    for index in _suspects(joined, lowered):
        end = b" " if index < len(lowered) - 1 else b""  # as the joined batch has it
        texts[index] = _exact_words(lowered[index] + end)
    return [_without_short_paragraphs(text) for text in texts]


def _without_short_paragraphs(text: bytes) -> bytes:
    """The text without its short paragraphs (a text of one paragraph is left as it is:
    if that paragraph is short, so is the text)."""
    if _PARAGRAPH not in text:
        return text
    short = _MIN_PARAGRAPH_WORDS
    paragraphs = text.split(_PARAGRAPH)
    return b" ".join([p for p in paragraphs if len(p.split(None, short - 1)) >= short])


def _paragraphs(joined: bytes) -> bytes:
    """Paragraph breaks (a blank line) as paragraph markers."""
    if b"\n" not in joined:
        return joined
    joined = joined.replace(b"\n\n", b" \x02 ")
    if b"\n \n" in joined:
        joined = joined.replace(b"\n \n", b" \x02 ")
    return joined


def _marked(text: bytes) -> bytes:
    """Paragraph breaks, sentence ends and colons as marker tokens; other punctuation a
    space."""
    text = _paragraphs(text).translate(_NEWLINE)
    return text.replace(b". ", b" \x01 ").replace(b": ", b" \x05 ").translate(_FINAL)


def _suspects(joined: bytes, lowered: Sequence[bytes]) -> set[int]:
    """Indexes of the texts that may hold a boilerplate sentence (a superset)."""
    hits = [match.end() - 1 for match in _MAYBE_BOILERPLATE.finditer(joined)]
    if not hits:
        return set()
    starts = list(itertools.accumulate((len(text) + 3 for text in lowered[:-1]), initial=0))
    return {bisect.bisect_right(starts, hit) - 1 for hit in hits}


def _exact_words(text: bytes) -> bytes:
    """The text's words with boilerplate sentences removed, paragraph markers kept."""
    marked = _marked(text)
    kept: list[bytes] = []
    done = 0
    for match in _BOILERPLATE.finditer(marked):
        at = match.start() + 1  # inside the token that makes its sentence boilerplate
        if at > done:
            start = max(max(marked.rfind(m, done, at) for m in _BOUNDARIES) + 1, done)
            kept.append(marked[done:start])
            done = _next_boundary(marked, at)
    kept.append(marked[done:])
    return b" ".join(kept).translate(_WORDS_ONLY)


_BOUNDARIES = (_SENTENCE, _PARAGRAPH, _TEXT)


def _next_boundary(marked: bytes, at: int) -> int:
    """Where the sentence holding ``at`` ends (its boundary marker, or the end)."""
    ends = [end for end in (marked.find(m, at) for m in _BOUNDARIES) if end >= 0]
    return min(ends, default=len(marked))


def _boilerplate_patterns() -> tuple[Any, Any]:
    """The exact pattern, on marked text (tokens apart by spaces), and the loose one, on
    text before markers (any run of spaces, dots, colons and newlines between words)."""
    exact, loose = " +", "[ .:\n]+"
    anywhere = [*_PHRASES, "\x04"]
    first = [*_FIRST_WORDS, *(f"{label} \x05" for label in _LABELS)]
    first.append(f"copyright (?:\x04|c|{_YEARS})")
    exact_pattern = (
        f"(?:^| )(?:{_alternatives(anywhere, exact)})(?: |$)"
        f"|(?:^|[\x01\x02\x03]) *(?:{_alternatives(first, exact)})(?: |$)"
    )
    first_loose = [*_FIRST_WORDS, f"copyright[ .:\n]+(?:c|{_YEARS})"]
    first_loose += [f"{label}[ .:\n]*:" for label in _LABELS]
    loose_pattern = (
        f"(?:^|[ .:\n])(?:{_alternatives(_PHRASES, loose)})(?:[ .:\n]|$)|\x04"
        f"|(?:^|[.\n\x03])[ .:\n]*(?:{'|'.join(first_loose)})(?:[ .:\n]|$)"
    )
    return re2.compile(exact_pattern.encode()), re2.compile(loose_pattern.encode())


def _alternatives(phrases: Sequence[str], between: str) -> str:
    return "|".join(between.join(phrase.split(" ")) for phrase in phrases)


_BOILERPLATE, _MAYBE_BOILERPLATE = _boilerplate_patterns()


# --- hashes -----------------------------------------------------------------------------


def _fields(count: int, value: int) -> int:
    """``count`` 128-bit fields, each holding ``value``."""
    return int.from_bytes(value.to_bytes(16, "little") * count, "little")


def _word_hashes(words: list[bytes]) -> tuple[int, int]:
    """The hash of each word, one per 128-bit field, and the mask of those fields' low 64
    bits (a few more fields than words: the last ones hash padding)."""
    padded = words + [b""] * (-len(words) % 256)
    packed = b"".join([_PACK.pack(*padded[i : i + 256]) for i in range(0, len(padded), 256)])
    mask = _fields(len(padded), _MASK64)
    products = int.from_bytes(packed, "little") * _K1
    return (products ^ (products >> 64)) & mask, mask


def _shingles(words: list[bytes]) -> bytes:
    """The hash of each 3-word shingle, 16 bytes each (the first 8 count): shingle ``i``
    is words ``i`` to ``i + 2`` (the last two run past the end: they do not count)."""
    hashes, mask = _word_hashes(words)
    # Field i gets h[i] ^ 2*h[i+1] ^ 4*h[i+2]: the next fields, shifted one and two bits less.
    products = ((hashes ^ (hashes >> 127) ^ (hashes >> 254)) & mask) * _K2
    return (products ^ (products >> 64)).to_bytes(mask.bit_length() // 8 + 8, "little")


# --- the vote ---------------------------------------------------------------------------


def _votes(shingles: bytes, spans: list[tuple[int, int]]) -> list[int]:
    """The simhash of each text (its words ``start`` to ``end``): the majority of each bit
    over its shingles (``shingles``: 16 bytes a word, as ``_shingles`` makes them)."""
    columns = [shingles[k::16] for k in range(8)]  # byte k of every shingle hash
    return [_majority(columns, start, end - 2) for start, end in spans]


def _majority(columns: list[bytes], start: int, end: int) -> int:
    """The bits set in more than half of shingles ``start`` to ``end``."""
    masks = _bit_masks((end - start).bit_length())
    values = [int.from_bytes(column[start:end], "little") for column in columns]
    counts = [(value & mask).bit_count() for value in values for mask in masks]
    half = (end - start) // 2
    return int(bytes(map(half.__lt__, counts)).translate(_BINARY)[::-1], 2)


@functools.lru_cache(maxsize=32)
def _bit_masks(size_bits: int) -> tuple[int, ...]:
    """For each bit of a byte, an integer with that bit set in each of ``2**size_bits``
    bytes."""
    return tuple(int.from_bytes(bytes([1 << b]) * (1 << size_bits), "little") for b in range(8))

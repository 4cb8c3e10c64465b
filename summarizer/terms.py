"""Content words: what both the summarizer and story clustering compare texts by.

Lower-cased words of two or more letters or digits, common English function words left
out, the commonest suffixes stripped so "attack", "attacks" and "attacked" match. One
definition, so a sentence's terms and an article's terms mean the same thing everywhere.
Pure and deterministic.

The words are those of the regular expression ``\\w\\w+`` over the lower-cased text. Most
news text is ASCII, or becomes ASCII once its curly quotes and dashes are spaces; there
``str.translate`` and ``str.split`` find the same words at a fraction of the cost (measured
in ``python -m bench stories``; ``tests/bot/ingest/test_stories.py`` checks every corpus
entry gives the same words as the regular expression).
"""

from __future__ import annotations

import functools
import math
import re
from itertools import islice

__all__ = ["STOPWORDS", "content_words", "overlap", "stem", "term_set"]

_WORD = re.compile(r"\w\w+")


def _wordset(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string."""
    return frozenset(words.split())


STOPWORDS = _wordset(
    """a an the and or but if of to in on at by for with from as is are was were be been
    being has have had do does did not no this that these those it its he she they them his
    her their we our you your i me my there here which who whom whose what when where why
    how than then so such can could will would shall should may might must said says say
    also just more most very about into over after before up down out off again once all
    any both each few other some own same too only now new one two"""
)

# In ASCII a word character (``\w``) is a letter, a digit or "_": every other character
# becomes a space and every capital its small letter, so ``split`` then gives the words of
# ``\w\w+`` over the lower-cased text, and the one-character ones (left out by the stems).
_ASCII_WORDS = str.maketrans(
    {c: " " if not (c.isalnum() or c == "_") else c.lower() for c in map(chr, range(128))}
)
# Non-ASCII punctuation common in English news, none of it a word character (a space in its
# place changes no word): replaced, most such texts become ASCII.
_MARKS = ("\u2019", "\u201c", "\u201d", "\u2014", "\u2013", "\u2018", "\u2026", "\xa0", "\u200b")


def _words(text: str) -> list[str]:
    """The words of ``\\w\\w+`` over the lower-cased text, and on the ASCII path also the
    one-character words (which :class:`_Stems` maps to "")."""
    if not text.isascii():
        plain = text
        for mark in _MARKS:
            plain = plain.replace(mark, " ")
        if not plain.isascii():
            return _WORD.findall(text.lower())
        # the marks were its only non-ASCII characters: lower-casing it changes only its
        # ASCII capitals (no "Σ", the one letter lower-cased by what follows it)
        text = plain
    return text.translate(_ASCII_WORDS).split()


def content_words(text: str, limit: int | None = None) -> list[str]:
    """The text's content words in order, stemmed (repeats kept).

    Args:
        text: Any text.
        limit: Keep at most this many (the first ones); all when None.

    Returns:
        Lower-cased, stemmed words of two or more characters, stopwords removed.
    """
    # one dict lookup per word both drops stopwords ("") and stems the rest
    found = filter(None, map(_stems().__getitem__, _words(text)))
    return list(found if limit is None else islice(found, limit))


def term_set(text: str) -> frozenset[str]:
    """The set of the text's content words (see :func:`content_words`)."""
    return frozenset(filter(None, map(_stems().__getitem__, set(_words(text)))))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine between two sets of terms as 0/1 vectors (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


def _strip_suffix(word: str) -> str:
    """The first of "ing", "ed", "es", "s" that ends the word stripped, if at least four
    characters stay (read by the last letter: most words end in none of them)."""
    size = len(word)
    if size < 5:
        return word
    end = word[-1]
    if end == "s":
        return word[:-2] if size > 5 and word[-2] == "e" else word[:-1]
    if end == "d":
        return word[:-2] if size > 5 and word[-2] == "e" else word
    if end == "g":
        return word[:-3] if size > 6 and word.endswith("ing") else word
    return word


class _Stems(dict[str, str]):
    """Word -> stem, or "" for a word left out (a stopword or a single character)."""

    def __missing__(self, word: str) -> str:
        value = "" if len(word) < 2 or word in STOPWORDS else _strip_suffix(word)
        self[word] = value
        return value


_STEMS = _Stems()  # stems are never ""
_STEMS_KEPT = 1 << 14  # about 3 MiB of words; more bought little speed


def _stems() -> _Stems:
    """The stems table, emptied first when it grew past ``_STEMS_KEPT``."""
    if len(_STEMS) > _STEMS_KEPT:
        _STEMS.clear()
    return _STEMS


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Strip the commonest English suffixes ("ing", "ed", "es", "s") from a long word.

    Cached: news repeats its words.
    """
    return _strip_suffix(word)

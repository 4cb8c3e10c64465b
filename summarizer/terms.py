"""Content words: what both the summarizer and story clustering compare texts by.

Lower-cased words of two or more letters or digits, common English function words left
out, the commonest suffixes stripped so "attack", "attacks" and "attacked" match. One
definition, so a sentence's terms and an article's terms mean the same thing everywhere.
Pure and deterministic.
"""

from __future__ import annotations

import functools
import math
import re

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


def content_words(text: str) -> list[str]:
    """The text's content words in order, stemmed (repeats kept).

    Args:
        text: Any text.

    Returns:
        Lower-cased, stemmed words of two or more characters, stopwords removed.
    """
    stems = _STEMS
    if len(stems) > _STEMS_KEPT:
        stems.clear()
    # a dict lookup per word, a call only for a word not seen yet (stems are never empty)
    return [stems.get(w) or _new_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def term_set(text: str) -> frozenset[str]:
    """The set of the text's content words (see :func:`content_words`)."""
    return frozenset(map(stem, set(_WORD.findall(text.lower())) - STOPWORDS))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Cosine between two sets of terms as 0/1 vectors (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / math.sqrt(len(a) * len(b))


_STEMS: dict[str, str] = {}  # word -> stem, for content_words
_STEMS_KEPT = 1 << 14  # about 3 MiB of words; more bought little speed


def _new_stem(word: str) -> str:
    _STEMS[word] = value = stem.__wrapped__(word)  # not also in stem's own cache
    return value


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Strip the commonest English suffixes ("ing", "ed", "es", "s") from a long word.

    Cached: news repeats its words.
    """
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word

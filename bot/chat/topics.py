"""Topic queries: what a user typed becomes a safe full-text query, and search hits become
ranked stories. Pure."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import UserInputError
from bot.i18n import _
from bot.types import Source

MAX_TOPIC_CHARS = 200
MAX_TERMS = 8
MAX_TERM_CHARS = 40
_TERM_RE = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset({"the", "a", "an", "of", "in", "on", "and", "or", "to", "for", "about"})


def topic_terms(topic: str) -> list[str]:
    """The words of a topic, lowercased; FTS syntax and symbols never survive.

    Raises:
        UserInputError: empty, too long, or no searchable word (message is user text).
    """
    text = topic.strip()
    if not text:
        raise UserInputError(_("Tell me a topic to summarize, for example: /summary venezuela"))
    if len(text) > MAX_TOPIC_CHARS:
        raise UserInputError(
            _("That topic is {length} characters long; keep it under {limit}.").format(
                length=f"{len(text):,}", limit=MAX_TOPIC_CHARS
            )
        )
    words = [w.lower()[:MAX_TERM_CHARS] for w in _TERM_RE.findall(text)]
    words = [w for w in words if w.strip("_")]
    if not words:
        raise UserInputError(_("That topic has no words I can search for. Try: /summary venezuela"))
    meaningful = [w for w in words if w not in _STOP] or words
    return list(dict.fromkeys(meaningful))[:MAX_TERMS]


@dataclass(frozen=True)
class Cited:
    """A summary sentence and the numbers (from 1) of the sources it rests on."""

    text: str
    sources: tuple[int, ...]


@dataclass(frozen=True)
class StoryBrief:
    """The story a topic summary is about: its id, title and number of sources."""

    id: int
    title: str
    sources: int


@dataclass(frozen=True)
class TopicAnswer:
    """A topic answered by its best-matching story (the CLI's ``--json`` shape).

    ``summary`` is the story's summary, every sentence with its citations; ``sources``
    the story's numbered sources, then one per other matching story; ``sentences`` the
    summary's sentences with their sources; ``new`` those added since the chat last asked
    (``asked_before``), ``fresh`` the numbers of the sources that joined since;
    ``timeline`` a dated line per day when the story spans days; ``others`` a line per
    other matching story.
    """

    topic: str
    summary: str
    sources: tuple[Source, ...]
    method: str
    story: StoryBrief | None = None
    sentences: tuple[Cited, ...] = ()
    new: tuple[Cited, ...] = ()
    asked_before: bool = False
    fresh: tuple[int, ...] = ()
    timeline: tuple[str, ...] = ()
    others: tuple[str, ...] = ()


@dataclass(frozen=True)
class RankedStory:
    """A search hit with its combined score (lower is better, like bm25)."""

    story_id: int
    article_id: int
    score: float


def recency_weight(published: float, now: float, half_life_days: float = 3.0) -> float:
    """1.0 for now, 0.5 after ``half_life_days``, never below 0.05."""
    age_days = max(0.0, (now - published) / 86400.0)
    return max(0.05, math.pow(0.5, age_days / half_life_days))


def rank_stories(
    hits: Sequence[tuple[int, int, float, float]], now: float, limit: int
) -> list[RankedStory]:
    """Combine bm25 (negative, lower is better) with recency; one entry per story.

    ``hits`` are (story id, article id, bm25, published).
    """
    best: dict[int, RankedStory] = {}
    for story_id, article_id, bm25, published in hits:
        score = bm25 * recency_weight(published, now)
        current = best.get(story_id)
        if current is None or score < current.score:
            best[story_id] = RankedStory(story_id, article_id, score)
    return sorted(best.values(), key=lambda s: (s.score, -s.article_id))[:limit]

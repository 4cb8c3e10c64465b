"""Pure decisions: functions of (data, now, settings) that touch no dependency.

What is new, what a channel gets, when a feed is due, how long to back off, when a post
is dead. Everything here is tested with plain asserts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.types import Channel, Feed, FeedEntry, FeedOrigin

FEED_PAUSE_AFTER = 10  # consecutive failures
FEED_MAX_BACKOFF = 6 * 3600.0
DELIVERY_MAX_ATTEMPTS = 6
DELIVERY_BASE_BACKOFF = 15.0
DELIVERY_MAX_BACKOFF = 3600.0
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def feed_next_due(feed: Feed, now: float, *, failures: int = 0, retry_after: float = 0.0) -> float:
    """When to fetch a feed next: its interval, doubled per consecutive failure (capped),
    and never before the server's Retry-After."""
    backoff = min(feed.every * math.pow(2.0, failures), max(FEED_MAX_BACKOFF, feed.every))
    return now + max(backoff, retry_after)


def feed_should_pause(failures: int) -> bool:
    """A feed failing this many times in a row is paused until an operator resumes it."""
    return failures >= FEED_PAUSE_AFTER


def delivery_backoff(attempts: int) -> float:
    """Seconds before retrying a post that failed ``attempts`` times (1-based)."""
    return min(DELIVERY_BASE_BACKOFF * math.pow(2.0, max(0, attempts - 1)), DELIVERY_MAX_BACKOFF)


def delivery_is_dead(attempts: int) -> bool:
    """After this many failed attempts a post is dead (kept, reported, never dropped)."""
    return attempts >= DELIVERY_MAX_ATTEMPTS


def new_entries(
    entries: Sequence[FeedEntry],
    known_guids: set[str],
    known_urls: set[str],
    canonical: dict[str, str],
) -> list[FeedEntry]:
    """Entries not stored yet: unknown GUID in this feed and unknown canonical URL anywhere;
    also drops repeats inside the same fetch."""
    fresh: list[FeedEntry] = []
    seen_guids, seen_urls = set(known_guids), set(known_urls)
    for entry in entries:
        url = canonical.get(entry.guid, "")
        if entry.guid in seen_guids or (url and url in seen_urls):
            continue
        seen_guids.add(entry.guid)
        if url:
            seen_urls.add(url)
        fresh.append(entry)
    return fresh


def entries_to_post(feed: Feed, fresh: Sequence[FeedEntry]) -> set[str]:
    """GUIDs of the new entries to post: all of them after the first fetch; on the first
    fetch only the latest ``backfill`` (no backfill flood)."""
    if feed.fetched_once:
        return {e.guid for e in fresh}
    if feed.backfill <= 0:
        return set()
    newest = sorted(fresh, key=lambda e: e.published or 0.0, reverse=True)
    return {e.guid for e in newest[: feed.backfill]}


def split_keywords(keywords: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``["venezuela", "-sports"]`` → (include, exclude), lowercased, blanks dropped."""
    include: list[str] = []
    exclude: list[str] = []
    for raw in keywords:
        word = raw.strip().lower()
        if word.startswith("-") and word[1:].strip():
            exclude.append(word[1:].strip())
        elif word and word != "-":
            include.append(word)
    return tuple(include), tuple(exclude)


def _has_phrase(words: Sequence[str], joined: str, phrase: str) -> bool:
    parts = _WORD_RE.findall(phrase.lower())
    if not parts:
        return False
    if len(parts) == 1:
        return parts[0] in words
    return f" {' '.join(parts)} " in joined


def channel_wants(channel: Channel, feed: Feed, title: str, text: str) -> bool:
    """Does this channel's subscription take this article? (feeds, then keywords)."""
    sub = channel.subscription
    in_feeds = feed.id in sub.feed_ids or (sub.all_feeds and feed.origin != FeedOrigin.CHAT)
    if not in_feeds:
        return False
    if not sub.include and not sub.exclude:
        return True
    words = _WORD_RE.findall(f"{title}\n{text}".lower())
    word_set, joined = set(words), f" {' '.join(words)} "
    if any(_has_phrase(list(word_set), joined, w) for w in sub.exclude):
        return False
    return not sub.include or any(_has_phrase(list(word_set), joined, w) for w in sub.include)


def route(channels: Sequence[Channel], feed: Feed, title: str, text: str) -> tuple[int, ...]:
    """The ids of the channels that get a new article of ``feed``."""
    return tuple(c.id for c in channels if channel_wants(c, feed, title, text))


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

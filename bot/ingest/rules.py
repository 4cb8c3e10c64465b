"""Feed rules: pure decisions of (data, now) about when a feed is due and what is new.

Nothing here touches a dependency; everything is tested with plain asserts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol, TypeVar

from bot.types import Feed, FeedEntry

FEED_PAUSE_AFTER = 10  # consecutive failures
FEED_MAX_BACKOFF = 6 * 3600.0


def feed_next_due(feed: Feed, now: float, *, failures: int = 0, retry_after: float = 0.0) -> float:
    """When to fetch a feed next: its interval, doubled per consecutive failure (capped),
    and never before the server's Retry-After."""
    backoff = min(feed.every * math.pow(2.0, failures), max(FEED_MAX_BACKOFF, feed.every))
    return now + max(backoff, retry_after)


def feed_should_pause(failures: int) -> bool:
    """A feed failing this many times in a row is paused until an operator resumes it."""
    return failures >= FEED_PAUSE_AFTER


class EntryKey(Protocol):
    """What tells entries apart: a parsed entry, before or after its text is converted."""

    @property
    def guid(self) -> str: ...

    @property
    def url(self) -> str: ...


Entry = TypeVar("Entry", bound=EntryKey)


def new_entries(
    entries: Sequence[Entry],
    known_guids: set[str],
    known_urls: set[str],
    canonical: dict[str, str],
) -> list[Entry]:
    """Entries not stored yet: unknown GUID in this feed and unknown canonical URL anywhere;
    also drops repeats inside the same fetch."""
    fresh: list[Entry] = []
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

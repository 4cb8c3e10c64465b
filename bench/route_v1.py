"""Ingest's routing as it was before issue 11's last round (``bot/ingest/pipeline.py``'s
``_route``, ``_join_stories``, ``_remember`` and ``_remember_stories``), kept frozen as the
definition the product's one-pass routing must equal: an article was built, then copied
when it was a near-copy, and copied again with its Routed when it joined a story; the
warm indexes learned the saved articles in two passes. Kept independent of the product on
purpose (only the indexes, the rules and the routing functions are shared), so a test can
compare the two on every corpus feed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.ingest import routing, rules
from bot.ingest.dedup import NO_FINGERPRINT, NearDuplicateIndex
from bot.ingest.stories import StoryIndex
from bot.types import Channel, Feed, FeedEntry, NewArticle, Routed

MAX_TITLE = 500


def route(
    feed: Feed,
    fresh: Sequence[FeedEntry],
    canonical: dict[str, str],
    channels: Sequence[Channel],
    now: float,
    prints: dict[str, tuple[str, int]],
    terms: dict[str, tuple[str, ...]],
    indexes: tuple[NearDuplicateIndex, StoryIndex],
) -> tuple[list[Routed], int]:
    """The previous ``_route`` then ``_join_stories``: what is routed, and how many
    near-copies."""
    near, stories = indexes
    to_post = rules.entries_to_post(feed, fresh)
    routed: list[Routed] = []
    duplicates = 0
    for entry in sorted(fresh, key=lambda e: e.published or 0.0):
        post = entry.guid in to_post
        article = _new_article(
            feed, entry, canonical.get(entry.guid, ""), now, post, prints[entry.guid]
        )
        story = near.find(article.simhash) if _dedupable(article) else None
        if story is not None:
            duplicates += 1
            article = replace(article, duplicate_of=story, post=False)
        targets = (
            routing.route(channels, feed, article.title, article.text, entry.tags)
            if article.post
            else ()
        )
        routed.append(Routed(article, *routing.by_digest(channels, targets)))
    return _join_stories(routed, terms, stories), duplicates


def remember(
    routed: Sequence[Routed],
    ids: Sequence[int],
    terms: dict[str, tuple[str, ...]],
    indexes: tuple[NearDuplicateIndex, StoryIndex],
) -> None:
    """The previous ``_remember`` then ``_remember_stories``."""
    near, stories = indexes
    for item, article_id in zip(routed, ids, strict=True):
        if _dedupable(item.article) and item.article.duplicate_of is None:
            near.add(item.article.simhash, article_id)
    for item, article_id in zip(routed, ids, strict=True):
        a = item.article
        story = next(s for s in (a.duplicate_of, a.story, article_id) if s is not None)
        stories.add(story, terms[a.guid], a.published)


def _join_stories(
    routed: Sequence[Routed], terms: dict[str, tuple[str, ...]], index: StoryIndex
) -> list[Routed]:
    joined = []
    for item in routed:
        a = item.article
        match = None if a.duplicate_of else index.find(terms[a.guid], a.published)
        joined.append(replace(item, article=replace(a, story=match.story_id)) if match else item)
    return joined


def _dedupable(article: NewArticle) -> bool:
    return article.simhash != NO_FINGERPRINT


def _title(entry: FeedEntry) -> str:
    return (entry.title or entry.text[:80] or "(untitled)").strip()[:MAX_TITLE]


def _new_article(
    feed: Feed,
    entry: FeedEntry,
    canonical: str,
    now: float,
    post: bool,
    prints: tuple[str, int],
) -> NewArticle:
    published = min(entry.published, now) if entry.published else now
    return NewArticle(
        feed_id=feed.id,
        guid=entry.guid,
        url=entry.url,
        canonical_url=canonical,
        title=_title(entry),
        text=entry.text,
        published=published,
        content_hash=prints[0],
        simhash=prints[1],
        post=post,
        image=entry.image,
        author=entry.author,
        tags=entry.tags,
    )

"""Small builders shared by the core tests."""

from __future__ import annotations

import hashlib

from bot.store.sqlite import FeedUpdate, Routed, SqliteStore
from bot.types import Channel, ChatRef, Feed, FeedOrigin, NewArticle, Subscription


async def make_feed(
    store: SqliteStore, url: str = "https://news.test/feed", now: float = 0.0
) -> Feed:
    """A config feed."""
    return await store.upsert_feed(
        url, name="test", origin=FeedOrigin.CONFIG, every=600.0, backfill=0, now=now
    )


async def make_channel(store: SqliteStore, chat: str, platform: str = "fake") -> Channel:
    """A channel taking every operator feed."""
    return await store.upsert_channel(
        ChatRef(platform, chat), origin=FeedOrigin.CONFIG, subscription=Subscription(), now=0.0
    )


def article(feed: Feed, n: int, text: str = "", title: str = "") -> NewArticle:
    """A new article numbered ``n``."""
    title = title or f"Story number {n}"
    text = text or f"Body of story {n}. It has a second sentence. And a third one."
    return NewArticle(
        feed_id=feed.id,
        guid=f"guid-{n}",
        url=f"https://news.test/{n}",
        canonical_url=f"https://news.test/{n}",
        title=title,
        text=text,
        published=1_800_000_000.0 + n,
        content_hash=hashlib.sha256(f"{title}\n{text}".encode()).hexdigest(),
        simhash=n,
        post=True,
    )


async def store_articles(
    store: SqliteStore, feed: Feed, channels: list[Channel], numbers: range, now: float
) -> list[int]:
    """Store articles routed to every given channel, as ingest does."""
    routed = [Routed(article(feed, n), tuple(c.id for c in channels)) for n in numbers]
    return await store.save_ingest(FeedUpdate(feed.id, now, now + 600), routed)

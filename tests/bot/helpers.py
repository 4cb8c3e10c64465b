"""Small builders shared by the core tests."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field

from bot.chat.service import Service
from bot.clock import ManualClock
from bot.delivery.compose import Composer, delivered
from bot.delivery.dispatcher import Dispatcher
from bot.digests.compose import DigestComposer
from bot.polls.closer import PollCloser
from bot.polls.lifecycle import Polls
from bot.ports import Fetcher
from bot.store.ports import Store
from bot.summaries import Summaries
from bot.types import (
    Channel,
    ChatRef,
    Feed,
    FeedOrigin,
    FeedUpdate,
    NewArticle,
    Routed,
    Subscription,
)
from summarizer.base import Summarizer
from tests.fakes.platform import FakePlatform
from tests.fakes.summarizer import FakeSummarizer

# What /summary must answer plainly: empty, symbols, query syntax, SQL, huge, RTL, emoji,
# control characters (the service and both stores are tested with every one)
HOSTILE_TOPICS = [
    "",
    "   ",
    "!!! ??? ...",
    '"',
    "*",
    "NEAR(",
    "venezuela NEAR( russia",
    "-",
    ":",
    "-:*",
    "a OR b",
    "title:venezuela",
    "'; DROP TABLE articles; --",
    "x" * 10_000,
    "oil " * 2_500,
    "فنزويلا روسيا",
    "🇻🇪🔥",
    "\x00\x1b[31m",
]


async def make_feed(store: Store, url: str = "https://news.test/feed", now: float = 0.0) -> Feed:
    """A config feed."""
    return await store.feeds.upsert(
        url, name="test", origin=FeedOrigin.CONFIG, every=600.0, backfill=0, now=now
    )


async def make_channel(store: Store, chat: str, platform: str = "fake") -> Channel:
    """A channel taking every operator feed."""
    return await store.channels.upsert(
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
    store: Store, feed: Feed, channels: list[Channel], numbers: range, now: float
) -> list[int]:
    """Store articles routed to every given channel, as ingest does."""
    routed = [Routed(article(feed, n), tuple(c.id for c in channels)) for n in numbers]
    return await store.articles.save_ingest(FeedUpdate(feed.id, now, now + 600), routed)


class NoFetcher:
    """A fetcher for tests that must never fetch."""

    async def fetch(self, request: object) -> object:
        raise AssertionError("no fetch expected")

    async def aclose(self) -> None:
        return None


@dataclass
class CoreParts:
    """The core's parts wired over one store, delivering to a fake platform (what the
    composition root does, minus settings, config and adapters)."""

    store: Store
    clock: ManualClock
    summaries: Summaries
    polls: Polls
    service: Service
    composer: Composer
    dispatcher: Dispatcher
    closer: PollCloser
    platform: FakePlatform = field(default_factory=FakePlatform)


def core(
    store: Store,
    clock: ManualClock,
    *,
    summarizer: Summarizer | None = None,
    platform: FakePlatform | None = None,
    fetcher: Fetcher | None = None,
) -> CoreParts:
    """Wire the core's parts for a component test."""
    platform = platform or FakePlatform()
    ready = asyncio.Event()
    summaries = Summaries(store.summaries, summarizer or FakeSummarizer(), clock)
    polls = Polls(store, clock, on_queued=ready.set)
    digests = DigestComposer(store, summaries, polls)
    composer = Composer(store.articles, store.stories, summaries, polls, digests)
    service = Service(
        store,
        summaries,
        polls,
        fetcher or NoFetcher(),  # type: ignore[arg-type]
        clock,
        preview=composer.preview,
    )
    platforms = {platform.name: platform}
    dispatcher = Dispatcher(store, platforms, clock, composer.compose, record=delivered, wake=ready)
    closer = PollCloser(store, polls, platforms, clock)
    return CoreParts(
        store, clock, summaries, polls, service, composer, dispatcher, closer, platform
    )

"""Store contract: feeds and their fetch state."""

from __future__ import annotations

from bot.store.ports import Store
from bot.types import Feed, FeedCounts, FeedOrigin, FeedUpdate
from tests.bot.helpers import make_channel


async def _feed(
    store: Store, url: str, origin: FeedOrigin = FeedOrigin.CONFIG, every: float = 600
) -> Feed:
    return await store.feeds.upsert(
        url, name="n", origin=origin, every=every, backfill=2, now=100.0
    )


async def test_upsert_creates_then_updates_settings_only(any_store: Store) -> None:
    """A second upsert of the same URL changes its settings and keeps its fetch state."""
    feed = await _feed(any_store, "https://a.test/rss")
    assert (feed.url, feed.name, feed.every, feed.backfill) == ("https://a.test/rss", "n", 600, 2)
    assert (feed.next_due, feed.failures, feed.fetched_once) == (0.0, 0, False)
    await any_store.articles.save_ingest(FeedUpdate(feed.id, 150.0, 900.0, '"e1"', "lm"), [])
    again = await any_store.feeds.upsert(
        feed.url, name="renamed", origin=FeedOrigin.CONFIG, every=60, backfill=0, now=200.0
    )
    assert again.id == feed.id
    assert (again.name, again.every, again.backfill) == ("renamed", 60, 0)
    assert (again.etag, again.last_modified, again.next_due) == ('"e1"', "lm", 900.0)
    assert again.fetched_once and again.last_ok_at == 150.0


async def test_chat_feed_named_by_operator_takes_operator_origin(any_store: Store) -> None:
    """A feed a chat added becomes the operator's once the config names it; never back."""
    chat = await _feed(any_store, "https://c.test/rss", FeedOrigin.CHAT)
    assert chat.origin is FeedOrigin.CHAT
    config = await _feed(any_store, chat.url, FeedOrigin.CONFIG)
    assert config.origin is FeedOrigin.CONFIG
    assert (await _feed(any_store, chat.url, FeedOrigin.CHAT)).origin is FeedOrigin.CONFIG


async def test_lookups_and_lists(any_store: Store) -> None:
    """get, by_url, all and active find feeds; unknown ones are None."""
    a = await _feed(any_store, "https://a.test/rss")
    b = await _feed(any_store, "https://b.test/rss")
    assert await any_store.feeds.get(a.id) == a
    assert await any_store.feeds.by_url(b.url) == b
    assert await any_store.feeds.get(999) is None
    assert await any_store.feeds.by_url("https://none.test/") is None
    await any_store.feeds.set_paused(a.id, True, "operator")
    assert [f.url for f in await any_store.feeds.all()] == [a.url, b.url]
    assert [f.url for f in await any_store.feeds.active()] == [b.url]
    assert await any_store.feeds.counts() == FeedCounts(total=2, paused=1)


async def test_due_and_next_due_skip_paused_feeds(any_store: Store) -> None:
    """Due feeds are the active ones whose time has come, most overdue first."""
    assert await any_store.feeds.next_due() is None
    a = await _feed(any_store, "https://a.test/rss")
    b = await _feed(any_store, "https://b.test/rss")
    c = await _feed(any_store, "https://c.test/rss")
    await any_store.feeds.record_not_modified(a.id, 0.0, 500.0)
    await any_store.feeds.record_not_modified(b.id, 0.0, 300.0)
    await any_store.feeds.set_paused(c.id, True, "stop")
    assert [f.id for f in await any_store.feeds.due(400.0)] == [b.id]
    assert [f.id for f in await any_store.feeds.due(600.0)] == [b.id, a.id]
    assert await any_store.feeds.next_due() == 300.0


async def test_failures_count_pause_and_resume(any_store: Store) -> None:
    """Failures count up with their reason; a pause stops the feed; resuming clears them
    and makes it due at once; a 304 makes it healthy."""
    feed = await _feed(any_store, "https://a.test/rss")
    await any_store.feeds.record_failure(feed.id, "HTTP 500", next_due=700.0, pause=False)
    await any_store.feeds.record_failure(feed.id, "HTTP 503", next_due=900.0, pause=True)
    failed = await any_store.feeds.get(feed.id)
    assert failed is not None
    assert (failed.failures, failed.last_error, failed.next_due, failed.paused) == (
        2,
        "HTTP 503",
        900.0,
        True,
    )
    await any_store.feeds.set_paused(feed.id, False, None)
    resumed = await any_store.feeds.get(feed.id)
    assert resumed is not None
    assert (resumed.failures, resumed.paused, resumed.next_due) == (0, False, 0.0)
    await any_store.feeds.record_failure(feed.id, "timeout", next_due=50.0, pause=False)
    await any_store.feeds.record_not_modified(feed.id, 60.0, 660.0)
    healthy = await any_store.feeds.get(feed.id)
    assert healthy is not None
    assert (healthy.failures, healthy.last_error, healthy.last_ok_at) == (0, None, 60.0)


async def test_remove_unsubscribes_and_pauses_and_upsert_brings_back(any_store: Store) -> None:
    """A removed feed leaves every subscription and is paused; adding it again resumes it."""
    feed = await _feed(any_store, "https://a.test/rss")
    channel = await make_channel(any_store, "c")
    assert await any_store.channels.subscribe(channel.id, feed.id)
    await any_store.feeds.remove(feed.id)
    removed = await any_store.feeds.get(feed.id)
    assert removed is not None and removed.paused and removed.last_error == "removed"
    reloaded = await any_store.channels.get(channel.id)
    assert reloaded is not None and feed.id not in reloaded.subscription.feed_ids
    back = await _feed(any_store, feed.url)
    assert not back.paused


async def test_pausing_keeps_the_failure_state(any_store: Store) -> None:
    """A pause keeps the failure count and schedule; with every feed paused nothing is due."""
    feed = await _feed(any_store, "https://a.test/rss")
    await any_store.feeds.record_failure(feed.id, "HTTP 500", next_due=700.0, pause=False)
    await any_store.feeds.set_paused(feed.id, True, "operator")
    paused = await any_store.feeds.get(feed.id)
    assert paused is not None
    assert (paused.failures, paused.next_due, paused.last_error) == (1, 700.0, "operator")
    assert await any_store.feeds.next_due() is None
    assert await any_store.feeds.due(10_000.0) == []

"""Store contract: several workers on one store (feed and outbox claims, heartbeats,
recovering what a dead worker held, locks)."""

from __future__ import annotations

import asyncio

from bot.store import open_store
from bot.store.ports import Store
from bot.types import FeedUpdate, OutboxState, PollOrigin
from summarizer.base import PollProposal
from tests.bot.helpers import make_channel, make_feed, store_articles

NOW = 1_000.0


async def test_a_claimed_feed_is_nobody_elses_until_its_fetch_is_recorded(
    any_store: Store,
) -> None:
    """Due feeds go to the first claimant only; recording the fetch frees the feed."""
    a = await make_feed(any_store)
    b = await make_feed(any_store, "https://b.test/rss")
    c = await make_feed(any_store, "https://c.test/rss")
    await any_store.feeds.record_not_modified(c.id, NOW, NOW + 600)
    assert [f.id for f in await any_store.feeds.claim_due(NOW, "w1", limit=1)] == [a.id]
    assert [f.id for f in await any_store.feeds.claim_due(NOW, "w2")] == [b.id]
    assert await any_store.feeds.claim_due(NOW, "w3") == []
    assert await any_store.feeds.next_due() == NOW + 600  # held feeds are not due
    await any_store.feeds.record_failure(a.id, "HTTP 500", next_due=NOW + 30, pause=False)
    await any_store.articles.save_ingest(FeedUpdate(b.id, NOW, NOW + 60), [])
    assert await any_store.feeds.next_due() == NOW + 30
    assert [f.id for f in await any_store.feeds.claim_due(NOW + 60, "w3")] == [a.id, b.id]


async def test_a_dead_workers_claims_come_back(any_store: Store) -> None:
    """Rows in flight and feeds held by a worker not seen for a while are freed; a live
    worker's are kept; a cleanly stopped worker is forgotten."""
    feed = await make_feed(any_store)
    live, dead = await make_channel(any_store, "live"), await make_channel(any_store, "dead")
    await store_articles(any_store, feed, [live, dead], range(1, 2), NOW)
    await any_store.workers.beat("w-live", NOW)
    await any_store.workers.beat("w-dead", NOW - 100)
    [mine] = await any_store.outbox.claim_due(
        NOW, 1, busy=[dead.id], platforms=["fake"], owner="w-live"
    )
    [theirs] = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"], owner="w-dead")
    await any_store.feeds.claim_due(NOW + 10_000, "w-dead")
    assert await any_store.workers.recover(NOW, dead_after=30) == 1
    states = {r.id: r.state for r in await any_store.outbox.rows()}
    assert states == {mine.id: OutboxState.SENDING, theirs.id: OutboxState.PENDING}
    assert [f.id for f in await any_store.feeds.claim_due(NOW + 10_000, "w-live")] == [feed.id]
    await any_store.workers.stop("w-live")
    assert await any_store.workers.recover(NOW, dead_after=30) == 1  # nobody alive now


async def test_a_worker_knows_what_it_holds(any_store: Store) -> None:
    """Leased feeds, rows in flight and locks are counted per worker."""
    feed = await make_feed(any_store)
    channel = await make_channel(any_store, "a")
    await store_articles(any_store, feed, [channel], range(1, 3), NOW)
    assert await any_store.workers.held("w1") == {"feeds": 0, "outbox": 0}
    await any_store.outbox.claim_due(NOW, 5, platforms=["fake"], owner="w1")
    await any_store.feeds.claim_due(NOW + 10_000, "w1")
    assert await any_store.workers.held("w1") == {"feeds": 1, "outbox": 1}
    assert await any_store.workers.held("w2") == {"feeds": 0, "outbox": 0}
    await any_store.locks.acquire("deliver:telegram")
    assert any_store.locks.held() == {"deliver:telegram"}
    await any_store.locks.release("deliver:telegram")
    assert any_store.locks.held() == frozenset()


async def test_recover_in_flight_frees_everything(any_store: Store) -> None:
    """A restart of the only process frees every claim, rows and feeds."""
    feed = await make_feed(any_store)
    channel = await make_channel(any_store, "a")
    await store_articles(any_store, feed, [channel], range(1, 2), NOW)
    await any_store.outbox.claim_due(NOW, 1, platforms=["fake"], owner="w1")
    await any_store.feeds.claim_due(NOW + 10_000, "w1")
    assert await any_store.outbox.recover_in_flight() == 1
    assert [f.id for f in await any_store.feeds.claim_due(NOW + 10_000, "w2")] == [feed.id]


async def test_locks_are_held_until_released(any_store: Store) -> None:
    """A worker holds a lock until it releases it; while it does, no other worker of a
    shared store gets it; when it closes, another one can."""
    assert await any_store.locks.acquire("gateway:telegram")
    assert await any_store.locks.acquire("gateway:telegram")  # already ours
    assert await any_store.locks.alive()
    if any_store.shared:
        other = await open_store(any_store.db.url)  # type: ignore[attr-defined]
        try:
            assert not await other.locks.acquire("gateway:telegram")
            assert await other.locks.acquire("gateway:discord")
            await any_store.locks.release("gateway:telegram")
            assert await other.locks.acquire("gateway:telegram")
            await any_store.locks.close()
            await other.locks.close()
            assert await any_store.locks.acquire("gateway:telegram")
        finally:
            await other.close()
    await any_store.locks.release("gateway:telegram")
    await any_store.locks.release("never-taken")
    assert await any_store.locks.acquire("gateway:telegram")


async def test_other_workers_hear_of_queued_posts_feeds_and_polls(any_store: Store) -> None:
    """A worker listening hears, from another worker sharing the store, that posts were
    queued, a feed was added and a poll opened; a store only one process uses needs none."""
    heard: dict[str, asyncio.Event] = {t: asyncio.Event() for t in ("outbox", "feeds", "polls")}
    for topic, event in heard.items():
        await any_store.changes.listen(topic, event.set)
    if not any_store.shared:
        return
    other = await open_store(any_store.db.url)  # type: ignore[attr-defined]
    try:
        feed = await make_feed(other)
        channel = await make_channel(other, "a")
        await store_articles(other, feed, [channel], range(1, 2), NOW)
        await other.polls.create(None, PollProposal("Q?", ("A", "B")), PollOrigin.CUSTOM, NOW, NOW)
        async with asyncio.timeout(5):
            for event in heard.values():
                await event.wait()
    finally:
        await other.close()


async def test_exclusive_sections_never_overlap(any_store: Store) -> None:
    """Blocks holding one section run one at a time, within a worker and across workers
    sharing the store, even when each waits on the database inside."""
    log: list[str] = []

    async def section(store: Store, n: int) -> None:
        async with store.locks.exclusive("ingest"):
            log.append(f"in {n}")
            await store.feeds.counts()  # a round trip: others run meanwhile
            await store.feeds.counts()
            log.append(f"out {n}")

    other = any_store
    if any_store.shared:
        other = await open_store(any_store.db.url)  # type: ignore[attr-defined]
    try:
        await asyncio.gather(*(section(any_store if n % 2 else other, n) for n in range(6)))
    finally:
        if other is not any_store:
            await other.close()
    assert len(log) == 12
    assert all(log[i].split()[1] == log[i + 1].split()[1] for i in range(0, 12, 2))

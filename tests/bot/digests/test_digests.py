"""Digests in the core: the scheduler queues a slot when it comes, the composer gathers
what was held, and the dispatcher sends it once with the rows it stands for."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.app.config import LoadedConfig, parse_config
from bot.app.config_sync import sync_config
from bot.clock import ManualClock
from bot.digests.compose import DIGEST_STORIES
from bot.digests.scheduler import DigestScheduler
from bot.store.ports import Store
from bot.types import (
    Channel,
    ChannelOptions,
    Digest,
    FeedOrigin,
    FeedUpdate,
    OutboxCounts,
    OutboxKind,
    OutboxState,
    PollPolicy,
    PollPost,
    Routed,
)
from tests.bot.helpers import article, core, make_channel, make_feed

START = 1_800_000_000.0  # 2027-01-15 08:00 UTC
HOUR = 3600.0


async def _digest_channel(store: Store, now: float, schedule: str = "every 1h") -> Channel:
    channel = await make_channel(store, "d")
    await store.channels.configure(channel.id, ChannelOptions((schedule,)), now)
    found = await store.channels.get(channel.id)
    assert found is not None
    return found


async def _hold(store: Store, channel: Channel, numbers: range, *, story: int = 0) -> list[int]:
    """Articles routed to the channel's digest (each its own story unless ``story``)."""
    feed = await make_feed(store)
    items = [article(feed, n) for n in numbers]
    routed = [Routed(replace(a, story=story or None), (), (channel.id,)) for a in items]
    return await store.articles.save_ingest(FeedUpdate(feed.id, START, START), routed)


async def test_the_scheduler_sleeps_until_the_local_slot_across_dst(store: Store) -> None:
    """Running, the scheduler sleeps until the next slot and queues the digest then, not
    before: on the night Berlin springs forward, 08:00 there is 06:00 UTC."""
    saturday_noon = datetime(2027, 3, 27, 12, tzinfo=UTC).timestamp()
    sunday_slot = datetime(2027, 3, 28, 6, tzinfo=UTC).timestamp()
    clock = ManualClock(saturday_noon)
    channel = await _digest_channel(store, clock.now(), "08:00 Europe/Berlin")
    await _hold(store, channel, range(1, 3))
    queued = asyncio.Event()
    scheduler = DigestScheduler(store, clock, on_queued=queued.set)
    assert await scheduler.next_slot() == sunday_slot
    task = asyncio.create_task(scheduler.run())
    try:
        await clock.sleeping_until(sunday_slot)
        await clock.advance(sunday_slot - 1 - clock.now())
        assert await store.outbox.counts(channel.id) == OutboxCounts(held=2)
        await clock.advance(1)
        await queued.wait()
    finally:
        task.cancel()
    [row] = await store.outbox.rows(channel.id, state=OutboxState.PENDING)
    assert row.kind is OutboxKind.DIGEST
    after = await store.channels.get(channel.id)
    assert after is not None and after.digest_last == sunday_slot


async def test_a_slot_with_nothing_held_passes_quietly(store: Store) -> None:
    """No article held: the slot is decided (not owed again later), nothing is queued."""
    clock = ManualClock(START + HOUR)
    channel = await _digest_channel(store, START)
    scheduler = DigestScheduler(store, clock)
    assert await scheduler.queue_due() == 0
    await _hold(store, channel, range(1, 2))
    assert await scheduler.queue_due() == 0  # the slot was decided already
    await clock.advance(HOUR)
    assert await scheduler.queue_due() == 1


async def test_a_digest_lists_the_best_covered_stories_and_sends_its_rows(store: Store) -> None:
    """The digest counts every story held, lists the first ``DIGEST_STORIES`` with their
    links, carries the top story's poll, and once sent its held rows are sent too and the
    poll follows under it."""
    clock = ManualClock(START + HOUR, autojump=True)
    parts = core(store, clock)
    channel = await _digest_channel(store, START)
    await store.channels.upsert(
        channel.ref,
        origin=FeedOrigin.CONFIG,
        subscription=channel.subscription,
        polls=PollPolicy.ALWAYS,
        now=START,
    )
    ids = await _hold(store, channel, range(1, DIGEST_STORIES + 6))
    covered = await _hold(store, channel, range(100, 103), story=ids[-1])  # three tellings
    assert await DigestScheduler(store, clock).queue_due() == 1
    await parts.dispatcher.drain()
    digest, poll = parts.platform.to("d")
    assert isinstance(digest, Digest) and isinstance(poll, PollPost)
    assert digest.text.startswith(f"{DIGEST_STORIES + 5} stories since the last digest.")
    assert len(digest.sources) == DIGEST_STORIES
    assert digest.sources[0].url == f"https://news.test/{DIGEST_STORIES + 5}"
    assert digest.article_id == ids[-1] and digest.poll is not None
    assert len(digest.rows) == DIGEST_STORIES + 5 + len(covered)
    counts = await store.outbox.counts(channel.id)
    assert (counts.held, counts.waiting) == (0, 0)


async def test_a_channel_that_stops_taking_digests_gets_what_was_held(
    store: Store, tmp_path: Path
) -> None:
    """When the config drops a channel's digest, what was held goes out in one last
    digest; after that the channel gets a post per article."""
    config = parse_config({"channels": [{"to": "console", "digest": "every 1h"}]})
    await sync_config(store, LoadedConfig(config, "test", tmp_path), START)
    [channel] = await store.channels.all()
    await _hold(store, channel, range(1, 3))
    plain = parse_config({"channels": [{"to": "console"}]})
    await sync_config(store, LoadedConfig(plain, "test", tmp_path), START + 60)
    [row] = await store.outbox.rows(channel.id, state=OutboxState.PENDING)
    [after] = await store.channels.all()
    assert row.kind is OutboxKind.DIGEST and after.options == ChannelOptions()

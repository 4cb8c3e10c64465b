"""Ingest against misbehaving feed servers (the fault server): every fault is a failure
recorded on its feed with a reason, bounded in time, logged as one line; healthy feeds are
not held up; a feed that recovers is read again."""

from __future__ import annotations

import logging

import pytest

from bot.clock import ManualClock
from bot.feeds.fetch import HttpFetcher
from bot.ingest.pipeline import Ingestor
from bot.store.sqlite import SqliteStore
from bot.types import FeedOrigin
from tests.bot.helpers import make_channel
from tests.fakes.http_server import (
    LocalServer,
    bomb,
    hang,
    rate_limited,
    redirect_loop,
    reset,
    server_error,
    slow_drip,
    wrong_length,
)

FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
    "<item><guid>g1</guid><title>Harbour strike ends</title>"
    "<link>https://news.test/g1</link><description>Ships sail again.</description></item>"
    "</channel></rss>"
)
FAULTS = {
    "hang": hang(),
    "drip": slow_drip(0.01),
    "reset": reset(),
    "bomb": bomb(),
    "short": wrong_length(b"<rss>", 10_000),
    "loop": redirect_loop(),
    "limited": rate_limited("900"),
    "broken": server_error(502),
}


async def _add(store: SqliteStore, url: str) -> None:
    await store.feeds.upsert(
        url, name=url.rsplit("/", 1)[1], origin=FeedOrigin.CONFIG, every=600, backfill=1, now=0
    )


async def test_every_fault_is_a_failure_on_its_feed_and_the_healthy_feed_goes_through(
    store: SqliteStore, clock: ManualClock, server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    """One pass over eight misbehaving feeds and a healthy one: the healthy feed's post is
    queued, each bad feed has one failure with its reason, a 429's Retry-After sets when
    it is tried again, and each failure is one WARNING line without a traceback."""
    caplog.set_level(logging.INFO)
    await make_channel(store, "a")
    for name, fault in FAULTS.items():
        await _add(store, server.faulty(f"/{name}", [fault]))
    await _add(store, server.route("/good", FEED, content_type="application/rss+xml"))
    async with HttpFetcher(allow_private_hosts=True, total_timeout=1.0) as fetcher:
        counts = await Ingestor(store, fetcher, clock).run(only_due=False)
    assert (counts.feeds, counts.failed, counts.queued_posts) == (9, 8, 1)
    feeds = {f.name: f for f in await store.feeds.all()}
    assert feeds["good"].failures == 0
    for name in FAULTS:
        assert feeds[name].failures == 1 and feeds[name].last_error, name
    assert feeds["limited"].next_due >= clock.now() + 900
    assert "more than 5 redirects" in (feeds["loop"].last_error or "")
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 8 and not [r for r in warnings if r.exc_info]


async def test_a_feed_behind_a_5xx_burst_is_read_once_it_recovers(
    store: SqliteStore, clock: ManualClock, server: LocalServer
) -> None:
    """Three 503s in a row count three failures with growing waits; the next fetch reads
    the feed, stores its article and clears the failures."""
    await make_channel(store, "a")
    await _add(store, server.faulty("/wire", [server_error(503)] * 3, then=FEED))
    async with HttpFetcher(allow_private_hosts=True, total_timeout=1.0) as fetcher:
        ingestor = Ingestor(store, fetcher, clock)
        waits = []
        for _ in range(4):
            before = clock.now()
            await ingestor.run(only_due=False)
            [feed] = await store.feeds.all()
            waits.append(feed.next_due - before)
            await clock.advance(feed.next_due - clock.now())
    assert feed.failures == 0 and feed.last_error is None
    assert await store.articles.count() == 1
    assert waits[0] < waits[1] < waits[2]

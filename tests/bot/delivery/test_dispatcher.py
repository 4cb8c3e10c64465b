"""The dispatcher and the durable outbox."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.clock import ManualClock
from bot.delivery import rules
from bot.delivery.dispatcher import Composer, Dispatcher, stop_delivering
from bot.errors import (
    ChatMigrated,
    ChatUnavailable,
    NotFound,
    RateLimited,
    StoreError,
    TransientDeliveryError,
)
from bot.store.ports import OutboxStore
from bot.store.sqlite import SqliteStore
from bot.types import (
    Channel,
    Delivered,
    FeedUpdate,
    Message,
    OutboxItem,
    OutboxKind,
    OutboxState,
    Reply,
    Routed,
    Sent,
)
from tests.bot.helpers import article, core, make_channel, make_feed, store_articles
from tests.fakes.platform import FakePlatform


async def _compose(item: OutboxItem, channel: Channel) -> Message:
    return Reply(f"article {item.article_id}")


def _dispatcher(
    store: SqliteStore, platform: FakePlatform, clock: ManualClock, compose: Composer = _compose
) -> Dispatcher:
    return Dispatcher(store, {platform.name: platform}, clock, compose)


async def test_each_post_is_sent_once_and_recorded(store: SqliteStore, clock: ManualClock) -> None:
    """Every (channel, article) row is delivered exactly once, with its message id stored."""
    feed = await make_feed(store)
    a, b = await make_channel(store, "a"), await make_channel(store, "b")
    await store_articles(store, feed, [a, b], range(3), clock.now())
    platform = FakePlatform()
    dispatcher = _dispatcher(store, platform, clock)
    assert await dispatcher.drain() == 6
    assert await dispatcher.drain() == 0
    assert [m.text for m in platform.to("a")] == ["article 1", "article 2", "article 3"]  # type: ignore[union-attr]
    rows = await store.outbox.rows()
    assert {r.state for r in rows} == {"sent"}
    assert all(r.message_id for r in rows)


async def test_same_article_twice_makes_one_row(store: SqliteStore, clock: ManualClock) -> None:
    """Enqueuing the same (channel, key) twice leaves one outbox row."""
    channel = await make_channel(store, "a")
    assert await store.outbox.enqueue(channel.id, OutboxKind.ARTICLE, "k1", "", clock.now())
    assert not await store.outbox.enqueue(channel.id, OutboxKind.ARTICLE, "k1", "", clock.now())
    assert len(await store.outbox.rows()) == 1


async def test_rate_limit_holds_only_that_chat(store: SqliteStore, clock: ManualClock) -> None:
    """A 429 holds its chat for retry_after; other chats keep receiving; nothing counts as a
    failed attempt."""
    feed = await make_feed(store)
    slow, fast = await make_channel(store, "slow"), await make_channel(store, "fast")
    await store_articles(store, feed, [slow, fast], range(2), clock.now())
    platform = FakePlatform(failures={"slow": [RateLimited(30.0)]})
    dispatcher = _dispatcher(store, platform, clock)
    await dispatcher.drain()
    assert len(platform.to("fast")) == 2
    assert platform.to("slow") == []
    await clock.advance(31)
    await dispatcher.drain()
    assert len(platform.to("slow")) == 2
    assert all(r.attempts == 0 for r in await store.outbox.rows())


async def test_forbidden_pauses_channel_with_reason(store: SqliteStore, clock: ManualClock) -> None:
    """403 pauses the channel with the platform's reason; its posts wait, none is lost."""
    feed = await make_feed(store)
    gone = await make_channel(store, "gone")
    await store_articles(store, feed, [gone], range(3), clock.now())
    platform = FakePlatform(failures={"gone": [ChatUnavailable("bot was kicked")]})
    await _dispatcher(store, platform, clock).drain()
    channel = await store.channels.get(gone.id)
    assert channel is not None and channel.paused_reason == "bot was kicked"
    assert platform.sent == []
    assert [r.state for r in await store.outbox.rows()] == ["pending"] * 3


async def test_transient_errors_retry_then_die(store: SqliteStore, clock: ManualClock) -> None:
    """Other errors retry with growing backoff and end in a dead state with the reason."""
    feed = await make_feed(store)
    flaky = await make_channel(store, "flaky")
    await store_articles(store, feed, [flaky], range(1), clock.now())
    platform = FakePlatform(failures={"flaky": [TransientDeliveryError("HTTP 502")] * 10})
    dispatcher = _dispatcher(store, platform, clock)
    for _ in range(10):
        await dispatcher.drain()
        await clock.advance(3600)
    row = (await store.outbox.rows())[0]
    assert row.state == "dead"
    assert row.last_error == "HTTP 502"
    assert row.attempts == 6


async def test_migration_moves_channel_and_resends(store: SqliteStore, clock: ManualClock) -> None:
    """A migrated chat gets the post at its new id."""
    feed = await make_feed(store)
    group = await make_channel(store, "-100")
    await store_articles(store, feed, [group], range(1), clock.now())
    platform = FakePlatform(failures={"-100": [ChatMigrated("-1009")]})
    await _dispatcher(store, platform, clock).drain()
    assert len(platform.to("-1009")) == 1
    channel = await store.channels.get(group.id)
    assert channel is not None and channel.ref.chat_id == "-1009"


async def test_in_flight_post_is_resent_after_crash(tmp_path: Path, clock: ManualClock) -> None:
    """A row claimed but not marked sent when the process died is sent on restart; sent rows
    are not."""
    db = tmp_path / "crash.db"
    store = await SqliteStore.open(db)
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(2), clock.now())
    claimed = await store.outbox.claim_due(clock.now(), 1, platforms=["fake"])
    await store.outbox.mark_sent(claimed[0].id, Delivered("m1"), clock.now())
    await store.outbox.claim_due(clock.now(), 1, platforms=["fake"])  # in flight at the "crash"
    await store.close()

    reopened = await SqliteStore.open(db)
    platform = FakePlatform()
    dispatcher = _dispatcher(reopened, platform, clock)
    await reopened.outbox.recover_in_flight()
    await dispatcher.drain()
    await reopened.close()
    assert [m.text for m in platform.to("a")] == ["article 2"]  # type: ignore[union-attr]


async def test_channels_of_missing_platform_wait(store: SqliteStore, clock: ManualClock) -> None:
    """Posts for a platform with no running adapter stay pending instead of failing."""
    feed = await make_feed(store)
    tg = await make_channel(store, "@news", platform="telegram")
    await store_articles(store, feed, [tg], range(1), clock.now())
    await _dispatcher(store, FakePlatform(), clock).drain()
    assert [r.state for r in await store.outbox.rows()] == ["pending"]


# -- every failure is a state with a reason ------------------------------------------------


class _BrokenCompose:
    """A composer that fails the first ``times`` calls with ``error``."""

    def __init__(self, error: Exception, times: int = 1_000) -> None:
        self.error, self.times, self.calls = error, times, 0

    async def __call__(self, item: OutboxItem, channel: Channel) -> Message:
        self.calls += 1
        if self.calls <= self.times:
            raise self.error
        return Reply(f"article {item.article_id}")


async def test_compose_bug_retries_with_reason_then_dies(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A compose that raises something unexpected never leaves the row in flight: it is
    retried with backoff, the reason recorded, and finally dead."""
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(1), clock.now())
    broken = _BrokenCompose(KeyError("headline"))
    dispatcher = _dispatcher(store, FakePlatform(), clock, broken)
    await dispatcher.drain()
    row = (await store.outbox.rows())[0]
    assert (row.state, row.attempts) == (OutboxState.PENDING, 1)
    assert row.last_error is not None and "KeyError" in row.last_error
    for _ in range(8):
        await clock.advance(3600)
        await dispatcher.drain()
    row = (await store.outbox.rows())[0]
    assert (row.state, row.attempts) == (OutboxState.DEAD, 6)
    assert row.last_error is not None and "cannot build the post" in row.last_error


async def test_store_hiccup_while_composing_is_retried(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A transient store error while building a post is retried, and the post goes out."""
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(1), clock.now())
    platform = FakePlatform()
    broken = _BrokenCompose(StoreError("locked", transient=True), 1)
    dispatcher = _dispatcher(store, platform, clock, broken)
    await dispatcher.drain()
    assert platform.sent == []
    await clock.advance(60)
    await dispatcher.drain()
    assert len(platform.sent) == 1
    row = (await store.outbox.rows())[0]
    assert (row.state, row.attempts) == (OutboxState.SENT, 1)


async def test_missing_article_is_dead_at_once(store: SqliteStore, clock: ManualClock) -> None:
    """A row whose article is gone cannot be built by any retry: dead with the reason."""
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(1), clock.now())
    dispatcher = _dispatcher(store, FakePlatform(), clock, _BrokenCompose(NotFound("gone")))
    await dispatcher.drain()
    row = (await store.outbox.rows())[0]
    assert (row.state, row.last_error) == (OutboxState.DEAD, "cannot build the post: gone")


class _FlakyOutbox:
    """The real outbox, except that ``method`` fails the first ``times`` calls."""

    def __init__(self, real: OutboxStore, times: int, error: StoreError, method: str) -> None:
        self._real, self.times, self.error, self.method = real, times, error, method

    def __getattr__(self, name: str) -> object:
        real = getattr(self._real, name)
        if name != self.method:
            return real

        async def flaky(*args: object, **kwargs: object) -> object:
            if self.times > 0:
                self.times -= 1
                raise self.error
            return await real(*args, **kwargs)

        return flaky


class _FlakyStore:
    """A store whose outbox fails a few times at one method."""

    def __init__(
        self,
        real: SqliteStore,
        times: int,
        error: StoreError | None = None,
        method: str = "mark_sent",
    ) -> None:
        self._real = real
        locked = StoreError("database is locked", transient=True)
        self.outbox = _FlakyOutbox(real.outbox, times, error or locked, method)

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


async def test_failing_record_after_send_is_retried_not_resent(store: SqliteStore) -> None:
    """When recording a sent post fails, it is retried (the post is not sent twice) and
    the poll the post opens is still queued and sent under it."""
    clock = ManualClock(autojump=True)  # the retries wait on the clock
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    text = "Russia sent planes to Venezuela.\n\nDo you think it is right or wrong to intervene?"
    await store.articles.save_ingest(
        FeedUpdate(feed.id, clock.now(), 0), [Routed(article(feed, 1, text), (channel.id,))]
    )
    flaky = _FlakyStore(store, times=2)
    parts = core(flaky, clock)  # type: ignore[arg-type]
    await parts.dispatcher.drain()
    sent = [m for _, m, _ in parts.platform.sent]
    assert [type(m).__name__ for m in sent] == ["Post", "PollPost"]
    assert {r.state for r in await store.outbox.rows()} == {OutboxState.SENT}


async def test_failing_followup_is_recorded_with_reason(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A bug in working out what follows a sent post keeps the post sent and says why."""
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(1), clock.now())

    def broken(channel: Channel, message: Message, sent: Sent, now: float) -> Delivered:
        raise RuntimeError("no poll for you")

    platform = FakePlatform()
    dispatcher = Dispatcher(store, {"fake": platform}, clock, _compose, record=broken)
    await dispatcher.drain()
    row = (await store.outbox.rows())[0]
    assert row.state is OutboxState.SENT and len(platform.sent) == 1
    assert row.last_error == "sent, but what follows it failed: no poll for you"


async def test_a_post_whose_poll_cannot_be_recorded_is_recorded_alone(
    store: SqliteStore, clock: ManualClock
) -> None:
    """When the store refuses what follows a sent post for good, the post is recorded as
    sent with the reason (never sent again), without stalling the chat."""
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    text = "Russia sent planes to Venezuela.\n\nDo you think it is right or wrong to intervene?"
    await store.articles.save_ingest(
        FeedUpdate(feed.id, clock.now(), 0), [Routed(article(feed, 1, text), (channel.id,))]
    )
    flaky = _FlakyStore(store, times=1, error=StoreError("UNIQUE constraint failed"))
    parts = core(flaky, clock)  # type: ignore[arg-type]
    await parts.dispatcher.drain()
    [row] = await store.outbox.rows()
    assert row.state is OutboxState.SENT
    assert row.last_error is not None and "UNIQUE constraint failed" in row.last_error
    assert [type(m).__name__ for _, m, _ in parts.platform.sent] == ["Post"]


async def test_a_failure_that_cannot_be_recorded_at_once_is_recorded_later(
    store: SqliteStore,
) -> None:
    """A locked store while recording a failed send is retried; the row gets its reason and
    the chat's later posts still go out."""
    clock = ManualClock(autojump=True)
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(2), clock.now())
    flaky = _FlakyStore(store, times=1, method="mark_retry")
    platform = FakePlatform(failures={"a": [TransientDeliveryError("HTTP 502")]})
    dispatcher = Dispatcher(flaky, {"fake": platform}, clock, _compose)  # type: ignore[arg-type]
    await dispatcher.drain()
    first, second = await store.outbox.rows()
    assert (first.state, first.last_error) == (OutboxState.PENDING, "HTTP 502")
    await clock.advance(60)
    await dispatcher.drain()
    assert [r.state for r in await store.outbox.rows()] == [OutboxState.SENT] * 2
    assert second.id in {r.id for r in await store.outbox.rows()}


async def test_migrating_onto_a_configured_chat_pauses_instead_of_looping(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A group that migrates to an id another channel already has is paused with the
    reason; the dispatcher does not retry it in a hot loop."""
    feed = await make_feed(store)
    group = await make_channel(store, "-100")
    await make_channel(store, "-1009")
    await store_articles(store, feed, [group], range(1), clock.now())
    platform = FakePlatform(failures={"-100": [ChatMigrated("-1009")] * 100})
    await _dispatcher(store, platform, clock).drain()
    paused = await store.channels.get(group.id)
    assert paused is not None and paused.paused_reason is not None
    assert "configured as another channel" in paused.paused_reason
    assert len(platform.failures["-100"]) == 99


async def test_a_platform_that_is_down_gets_nothing_until_it_is_back(
    store: SqliteStore, clock: ManualClock
) -> None:
    """While a platform's connection is down its posts wait without an attempt counted;
    once it is back they go out."""
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(2), clock.now())
    up = False
    platform = FakePlatform()
    dispatcher = Dispatcher(store, {"fake": platform}, clock, _compose, available=lambda name: up)
    assert await dispatcher.drain() == 0
    assert {(r.state, r.attempts) for r in await store.outbox.rows()} == {(OutboxState.PENDING, 0)}
    up = True
    assert await dispatcher.drain() == 2
    assert len(platform.sent) == 2


async def test_abandoned_posts_stay_in_flight_for_the_restart(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A shutdown out of time abandons the post in flight: its row stays in flight and is
    sent after the restart (the one repeat the outbox allows)."""
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(1), clock.now())
    started, hang = asyncio.Event(), asyncio.Event()

    async def slow(item: OutboxItem, channel: Channel) -> Message:
        started.set()
        await hang.wait()
        return Reply("never")

    dispatcher = _dispatcher(store, FakePlatform(), clock, slow)
    running = asyncio.create_task(dispatcher.run())
    await started.wait()
    await stop_delivering(dispatcher, running, grace=0.01)
    [row] = await store.outbox.rows()
    assert row.state is OutboxState.SENDING
    assert await store.outbox.recover_in_flight() == 1


# -- a chat waiting to retry costs nothing -------------------------------------------------


class _WatchedClock(ManualClock):
    """A manual clock that tells when someone starts waiting for a later time."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.waiting.set()
        await super().sleep(seconds)


class _CountingOutbox:
    """The real outbox, counting claims; ``spinning`` is set past ``limit`` of them."""

    def __init__(self, real: OutboxStore, limit: int) -> None:
        self._real, self._limit = real, limit
        self.claims = 0
        self.spinning = asyncio.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)

    async def claim_due(self, *args: object, **kwargs: object) -> list[OutboxItem]:
        self.claims += 1
        if self.claims > self._limit:
            self.spinning.set()
        return await self._real.claim_due(*args, **kwargs)  # type: ignore[arg-type]


class _CountingStore:
    """A store whose outbox counts claims."""

    def __init__(self, real: SqliteStore, limit: int) -> None:
        self._real = real
        self.outbox = _CountingOutbox(real.outbox, limit)

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


async def _parked_or_spinning(clock: _WatchedClock, outbox: _CountingOutbox) -> None:
    """Return once the dispatcher waits for a later time, or once it has claimed too often
    without time passing (a busy loop)."""
    waits = {
        asyncio.ensure_future(clock.waiting.wait()),
        asyncio.ensure_future(outbox.spinning.wait()),
    }
    _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    clock.waiting.clear()
    assert not outbox.spinning.is_set(), f"{outbox.claims} claims with no time passing"


async def test_a_chat_waiting_to_retry_sleeps_until_its_head_post_is_due(
    store: SqliteStore,
) -> None:
    """Three posts for one chat, the first refused with a 500: while it waits out its
    backoff the posts behind it cannot go, and the dispatcher sleeps until the retry
    instead of waking at once to claim nothing (a busy loop). Over the whole simulated
    wait it claims a handful of times, and then all three posts go out in order."""
    clock = _WatchedClock()
    feed = await make_feed(store)
    chat = await make_channel(store, "a")
    await store_articles(store, feed, [chat], range(3), clock.now())
    platform = FakePlatform(failures={"a": [TransientDeliveryError("HTTP 500")]})
    counting = _CountingStore(store, limit=50)
    dispatcher = Dispatcher(counting, {"fake": platform}, clock, _compose)  # type: ignore[arg-type]
    running = asyncio.create_task(dispatcher.run())
    await _parked_or_spinning(clock, counting.outbox)
    assert platform.sent == [] and counting.outbox.claims <= 3
    await clock.advance(rules.delivery_backoff(1))
    await _parked_or_spinning(clock, counting.outbox)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    assert [m.text for m in platform.to("a")] == ["article 1", "article 2", "article 3"]  # type: ignore[union-attr]
    assert counting.outbox.claims <= 8

"""The dispatcher and the durable outbox."""

from __future__ import annotations

from pathlib import Path

from bot.clock import ManualClock
from bot.delivery.dispatcher import Dispatcher
from bot.errors import ChatMigrated, ChatUnavailable, RateLimited, TransientDeliveryError
from bot.store.sqlite import SqliteStore
from bot.types import Channel, Message, OutboxItem, Reply
from tests.bot.helpers import make_channel, make_feed, store_articles
from tests.fakes.platform import FakePlatform


async def _compose(item: OutboxItem, channel: Channel) -> Message:
    return Reply(f"article {item.article_id}")


def _dispatcher(store: SqliteStore, platform: FakePlatform, clock: ManualClock) -> Dispatcher:
    return Dispatcher(store, {platform.name: platform}, clock, _compose)


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
    rows = await store.outbox_rows()
    assert {r["state"] for r in rows} == {"sent"}
    assert all(r["message_id"] for r in rows)


async def test_same_article_twice_makes_one_row(store: SqliteStore, clock: ManualClock) -> None:
    """Enqueuing the same (channel, key) twice leaves one outbox row."""
    channel = await make_channel(store, "a")
    assert await store.enqueue(channel.id, "reply", "k1", "{}", clock.now())
    assert not await store.enqueue(channel.id, "reply", "k1", "{}", clock.now())
    assert len(await store.outbox_rows()) == 1


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
    assert all(r["attempts"] == 0 for r in await store.outbox_rows())


async def test_forbidden_pauses_channel_with_reason(store: SqliteStore, clock: ManualClock) -> None:
    """403 pauses the channel with the platform's reason; its posts wait, none is lost."""
    feed = await make_feed(store)
    gone = await make_channel(store, "gone")
    await store_articles(store, feed, [gone], range(3), clock.now())
    platform = FakePlatform(failures={"gone": [ChatUnavailable("bot was kicked")]})
    await _dispatcher(store, platform, clock).drain()
    channel = await store.channel(gone.id)
    assert channel is not None and channel.paused_reason == "bot was kicked"
    assert platform.sent == []
    assert [r["state"] for r in await store.outbox_rows()] == ["pending"] * 3


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
    row = (await store.outbox_rows())[0]
    assert row["state"] == "dead"
    assert row["last_error"] == "HTTP 502"
    assert row["attempts"] == 6


async def test_migration_moves_channel_and_resends(store: SqliteStore, clock: ManualClock) -> None:
    """A migrated chat gets the post at its new id."""
    feed = await make_feed(store)
    group = await make_channel(store, "-100")
    await store_articles(store, feed, [group], range(1), clock.now())
    platform = FakePlatform(failures={"-100": [ChatMigrated("-1009")]})
    await _dispatcher(store, platform, clock).drain()
    assert len(platform.to("-1009")) == 1
    channel = await store.channel(group.id)
    assert channel is not None and channel.ref.chat_id == "-1009"


async def test_in_flight_post_is_resent_after_crash(tmp_path: Path, clock: ManualClock) -> None:
    """A row claimed but not marked sent when the process died is sent on restart; sent rows
    are not."""
    db = tmp_path / "crash.db"
    store = await SqliteStore.open(db)
    feed = await make_feed(store)
    channel = await make_channel(store, "a")
    await store_articles(store, feed, [channel], range(2), clock.now())
    claimed = await store.claim_due(clock.now(), 1, platforms=["fake"])
    await store.mark_sent(claimed[0].id, "m1", "", clock.now())
    await store.claim_due(clock.now(), 1, platforms=["fake"])  # in flight at the "crash"
    await store.close()

    reopened = await SqliteStore.open(db)
    platform = FakePlatform()
    dispatcher = _dispatcher(reopened, platform, clock)
    await dispatcher.recover()
    await dispatcher.drain()
    await reopened.close()
    assert [m.text for m in platform.to("a")] == ["article 2"]  # type: ignore[union-attr]


async def test_channels_of_missing_platform_wait(store: SqliteStore, clock: ManualClock) -> None:
    """Posts for a platform with no running adapter stay pending instead of failing."""
    feed = await make_feed(store)
    tg = await make_channel(store, "@news", platform="telegram")
    await store_articles(store, feed, [tg], range(1), clock.now())
    await _dispatcher(store, FakePlatform(), clock).drain()
    assert [r["state"] for r in await store.outbox_rows()] == ["pending"]

"""Store contract: channels and subscriptions."""

from __future__ import annotations

from bot.store.ports import Store
from bot.types import ChatRef, FeedOrigin, OutboxKind, PollPolicy, StoryMode, Subscription
from tests.bot.helpers import make_feed

REF = ChatRef("telegram", "-100")


async def test_upsert_creates_and_replaces_subscription(any_store: Store) -> None:
    """A channel is created once; an upsert with a subscription replaces its feeds,
    keywords and poll settings; one without leaves them."""
    a = await make_feed(any_store)
    b = await make_feed(any_store, "https://b.test/rss")
    sub = Subscription(all_feeds=False, feed_ids=frozenset({a.id}), include=("oil",))
    channel = await any_store.channels.upsert(
        REF,
        origin=FeedOrigin.CONFIG,
        subscription=sub,
        polls=PollPolicy.NEVER,
        poll_duration=7200,
        now=0,
    )
    assert (channel.ref, channel.subscription, channel.polls, channel.poll_duration) == (
        REF,
        sub,
        PollPolicy.NEVER,
        7200,
    )
    same = await any_store.channels.upsert(REF, origin=FeedOrigin.CHAT, now=5)
    assert same == channel
    new_sub = Subscription(all_feeds=True, feed_ids=frozenset({b.id}), exclude=("sport",))
    replaced = await any_store.channels.upsert(
        REF, origin=FeedOrigin.CONFIG, subscription=new_sub, now=9
    )
    assert (replaced.id, replaced.subscription, replaced.polls) == (
        channel.id,
        new_sub,
        PollPolicy.AUTO,
    )


async def test_lookups_subscribe_and_unsubscribe(any_store: Store) -> None:
    """get, by_ref and all find channels; subscribe and unsubscribe say whether they
    changed anything."""
    feed = await make_feed(any_store)
    one = await any_store.channels.upsert(REF, origin=FeedOrigin.CHAT, now=0)
    two = await any_store.channels.upsert(ChatRef("console"), origin=FeedOrigin.CONFIG, now=0)
    assert await any_store.channels.get(one.id) == one
    assert await any_store.channels.by_ref(ChatRef("console")) == two
    assert await any_store.channels.get(999) is None
    assert await any_store.channels.by_ref(ChatRef("discord", "1")) is None
    assert await any_store.channels.subscribe(one.id, feed.id)
    assert not await any_store.channels.subscribe(one.id, feed.id)
    channels = await any_store.channels.all()
    assert [c.id for c in channels] == [one.id, two.id]
    assert channels[0].subscription.feed_ids == {feed.id}
    assert channels[1].subscription.feed_ids == frozenset()
    assert await any_store.channels.unsubscribe(one.id, feed.id)
    assert not await any_store.channels.unsubscribe(one.id, feed.id)


async def test_pause_hold_and_move(any_store: Store) -> None:
    """A pause keeps its reason until resumed; a hold sets the time before which nothing
    is sent; a move follows the chat to its new id unless that id is taken."""
    channel = await any_store.channels.upsert(REF, origin=FeedOrigin.CONFIG, now=0)
    await any_store.channels.set_paused(channel.id, "kicked")
    await any_store.channels.hold_until(channel.id, 500.0)
    held = await any_store.channels.get(channel.id)
    assert held is not None and (held.paused_reason, held.not_before) == ("kicked", 500.0)
    await any_store.channels.set_paused(channel.id, None)
    new = ChatRef("telegram", "-1009")
    await any_store.channels.move(REF, new)
    moved = await any_store.channels.by_ref(new)
    assert moved is not None and moved.id == channel.id and moved.paused_reason is None
    other = await any_store.channels.upsert(REF, origin=FeedOrigin.CONFIG, now=0)
    await any_store.channels.move(REF, new)  # the new id is taken: nothing changes
    assert (await any_store.channels.by_ref(REF)) == other


async def test_a_moved_channel_keeps_its_outbox_and_feeds(any_store: Store) -> None:
    """Moving a chat carries its subscription and its queued posts; moving a chat that is
    not there, or onto one that is, says no."""
    feed = await make_feed(any_store)
    channel = await any_store.channels.upsert(REF, origin=FeedOrigin.CHAT, now=0)
    await any_store.channels.subscribe(channel.id, feed.id)
    await any_store.outbox.enqueue(channel.id, OutboxKind.ARTICLE, "k", "", 0)
    new = ChatRef("telegram", "-1009")
    assert await any_store.channels.move(REF, new)
    moved = await any_store.channels.by_ref(new)
    assert moved is not None and moved.subscription.feed_ids == {feed.id}
    assert [r.channel_id for r in await any_store.outbox.rows()] == [moved.id]
    assert not await any_store.channels.move(REF, ChatRef("telegram", "-1"))
    await any_store.channels.upsert(REF, origin=FeedOrigin.CHAT, now=0)
    assert not await any_store.channels.move(REF, new)


async def test_stories_setting_is_kept_and_replaced_with_the_subscription(any_store: Store) -> None:
    """A channel made from a chat takes stories in threads; the config's setting replaces
    it with the subscription, and an upsert without a subscription leaves it."""
    made = await any_store.channels.upsert(REF, origin=FeedOrigin.CHAT, now=0)
    assert made.stories is StoryMode.THREAD
    configured = await any_store.channels.upsert(
        REF, origin=FeedOrigin.CONFIG, subscription=Subscription(), stories=StoryMode.FIRST, now=1
    )
    assert configured.stories is StoryMode.FIRST
    again = await any_store.channels.upsert(REF, origin=FeedOrigin.CHAT, now=2)
    assert again.stories is StoryMode.FIRST
    assert (await any_store.channels.all())[0].stories is StoryMode.FIRST


async def test_a_forum_topic_is_a_channel_of_its_own(any_store: Store) -> None:
    """A chat and two of its forum topics are three channels, each found by its own ref."""
    topic_a, topic_b = ChatRef("telegram", "-100", "42"), ChatRef("telegram", "-100", "7")
    chat = await any_store.channels.upsert(REF, origin=FeedOrigin.CONFIG, now=0)
    a = await any_store.channels.upsert(topic_a, origin=FeedOrigin.CONFIG, now=0)
    b = await any_store.channels.upsert(topic_b, origin=FeedOrigin.CONFIG, now=0)
    assert len({chat.id, a.id, b.id}) == 3
    assert (a.ref, b.ref) == (topic_a, topic_b)
    assert await any_store.channels.by_ref(topic_a) == a
    assert [c.ref for c in await any_store.channels.all()] == [REF, topic_a, topic_b]

"""Store contract: what chats have been told of stories, and skipped outbox rows."""

from __future__ import annotations

from bot.store.ports import Store
from bot.types import ChatRef, Delivered, OutboxCounts, OutboxState, StoryAsk, StoryTold
from tests.bot.helpers import make_channel, make_feed, store_articles

NOW = 1_000.0


async def test_a_storys_first_sent_post_is_its_post_and_later_ones_add_what_they_told(
    any_store: Store,
) -> None:
    """The first sent message of a story in a channel is recorded as the story's post;
    a later one replaces the sentences told and, when it opened one, the thread, and the
    post's message id stays."""
    feed = await make_feed(any_store)
    a, b = await make_channel(any_store, "a"), await make_channel(any_store, "b")
    first, _, _ = await store_articles(any_store, feed, [a], range(1, 4), NOW)
    assert await any_store.stories.post(a.id, first) is None
    rows = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    told = StoryTold(first, ("One.", "Two."))
    await any_store.outbox.mark_sent(rows[0].id, Delivered("m1", story=told), NOW)
    post = await any_store.stories.post(a.id, first)
    assert post is not None
    assert (post.message_id, post.thread, post.told) == ("m1", "", ("One.", "Two."))
    [update] = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    more = StoryTold(first, ("One.", "Two.", "Three."), thread="t9")
    await any_store.outbox.mark_sent(update.id, Delivered("m2", story=more), NOW + 1)
    [last] = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    again = StoryTold(first, ("One.", "Two.", "Three.", "Four."))
    await any_store.outbox.mark_sent(last.id, Delivered("m3", story=again), NOW + 2)
    post = await any_store.stories.post(a.id, first)
    assert post is not None
    assert (post.message_id, post.thread, post.told) == ("m1", "t9", again.told)
    assert await any_store.stories.post(b.id, first) is None  # another chat: nothing told


async def test_what_summary_showed_is_kept_per_chat_and_story(any_store: Store) -> None:
    """Each chat (a topic is a chat of its own) keeps the last /summary of each story;
    a later one replaces it."""
    feed = await make_feed(any_store)
    one, two = await store_articles(any_store, feed, [], range(1, 3), NOW)
    group, topic = ChatRef("telegram", "-100"), ChatRef("telegram", "-100", "42")
    await any_store.stories.record_ask(group, one, StoryAsk(one, ("Said.",)), NOW)
    assert await any_store.stories.asked(group, one) == StoryAsk(one, ("Said.",))
    assert await any_store.stories.asked(topic, one) is None
    assert await any_store.stories.asked(group, two) is None
    await any_store.stories.record_ask(group, one, StoryAsk(two, ("Said.", "Then.")), NOW + 5)
    assert await any_store.stories.asked(group, one) == StoryAsk(two, ("Said.", "Then."))


async def test_a_skipped_row_is_final_and_lets_the_next_one_through(any_store: Store) -> None:
    """A skipped row keeps its reason, is never claimed again, counts as neither sent,
    waiting nor failed, and the channel's next row becomes its head."""
    feed = await make_feed(any_store)
    channel = await make_channel(any_store, "a")
    await store_articles(any_store, feed, [channel], range(1, 3), NOW)
    [head] = await any_store.outbox.claim_due(NOW, 5, platforms=["fake"])
    await any_store.outbox.mark_skipped(head.id, "told already")
    [after] = await any_store.outbox.claim_due(NOW, 5, platforms=["fake"])
    assert after.id > head.id
    rows = {r.id: r for r in await any_store.outbox.rows(channel.id)}
    assert (rows[head.id].state, rows[head.id].last_error) == (OutboxState.SKIPPED, "told already")
    assert await any_store.outbox.counts(channel.id) == OutboxCounts(waiting=1, skipped=1)
    await any_store.outbox.mark_sent(after.id, Delivered("m"), NOW)
    assert await any_store.outbox.claim_due(NOW, 5, platforms=["fake"]) == []

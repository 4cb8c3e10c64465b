"""Stories in chats: a story's later articles become updates in reply to its post, or
separate posts, or nothing, by the channel's ``stories`` setting; one poll per story."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.chat.stories import told_after, untold
from bot.clock import ManualClock
from bot.delivery.stories import Telling, sources_so_far, telling
from bot.store.sqlite import SqliteStore
from bot.types import (
    Channel,
    ChatRef,
    Feed,
    FeedOrigin,
    FeedUpdate,
    OutboxState,
    PollPolicy,
    PollPost,
    Post,
    Routed,
    StoryMode,
    StoryPost,
    StoryUpdate,
    Subscription,
)
from tests.bot.helpers import article, core, make_feed

FIRST = "Rescuers reached the flooded valley town of Arles on Monday. Roads remain closed."
SECOND = (
    "Rescuers reached the flooded valley town of Arles on Monday. "
    "Three bridges collapsed overnight, officials said."
)
THIRD = "Rescuers reached the flooded valley town of Arles on Monday. Roads remain closed."


async def _channel(
    store: SqliteStore, chat: str, mode: StoryMode, polls: PollPolicy = PollPolicy.NEVER
) -> Channel:
    return await store.channels.upsert(
        ChatRef("fake", chat),
        origin=FeedOrigin.CONFIG,
        subscription=Subscription(),
        polls=polls,
        stories=mode,
        now=0.0,
    )


async def _tell(
    store: SqliteStore, feed: Feed, n: int, text: str, story: int | None, to: list[Channel]
) -> int:
    """Store article ``n`` of ``feed`` (joining ``story``) routed to the channels."""
    new = replace(article(feed, n, text=text, title=f"Floods, take {n}"), story=story)
    routed = Routed(new, tuple(c.id for c in to))
    [stored] = await store.articles.save_ingest(FeedUpdate(feed.id, 0.0, 600.0), [routed])
    return stored


async def _story(
    store: SqliteStore, feeds: list[Feed], channels: list[Channel], texts: list[str]
) -> list[int]:
    """One story told by each feed in turn (the first starts it, the others join it)."""
    ids: list[int] = []
    for n, (feed, text) in enumerate(zip(feeds, texts, strict=True), start=1):
        ids.append(await _tell(store, feed, n, text, ids[0] if ids else None, channels))
    return ids


async def _feeds(store: SqliteStore, count: int) -> list[Feed]:
    return [await make_feed(store, f"https://outlet{n}.test/rss") for n in range(count)]


async def test_later_articles_of_a_story_are_updates_in_reply_with_only_what_is_new(
    store: SqliteStore, clock: ManualClock
) -> None:
    """With threads (the default), a story's first article is a full post; the next ones
    are updates replying to it, carrying only sentences the chat was not told yet and the
    number of sources so far; never a second full post."""
    parts = core(store, clock)
    channel = await _channel(store, "group", StoryMode.THREAD)
    feeds = await _feeds(store, 3)
    await _story(store, feeds, [channel], [FIRST, SECOND, THIRD])
    assert await parts.dispatcher.drain() == 3
    post, update, repeat = parts.platform.to("group")
    assert isinstance(post, Post) and isinstance(update, StoryUpdate)
    assert isinstance(repeat, StoryUpdate)
    assert update.reply_to == repeat.reply_to == "fake-1"  # the post's message id
    assert update.new == ("Three bridges collapsed overnight, officials said.",)
    assert (update.sources, repeat.sources) == (2, 3)
    assert repeat.new == ()  # everything it says was told already
    assert update.story_title == "Floods, take 1"


async def test_the_story_post_survives_a_restart(store: SqliteStore, clock: ManualClock) -> None:
    """What a chat was told of a story is in the store: after a restart (new core parts on
    the same store) a later article still replies to the story's post."""
    channel = await _channel(store, "group", StoryMode.THREAD)
    feeds = await _feeds(store, 2)
    first, _ = await _story(store, feeds[:1], [channel], [FIRST]), None
    await core(store, clock).dispatcher.drain()
    later = core(store, clock)
    new = replace(article(feeds[1], 2, text=SECOND), story=first[0])
    from bot.types import Routed

    await store.articles.save_ingest(
        FeedUpdate(feeds[1].id, 0.0, 600.0), [Routed(new, (channel.id,))]
    )
    await later.dispatcher.drain()
    [update] = later.platform.to("group")
    assert isinstance(update, StoryUpdate) and update.reply_to == "fake-1"


async def test_first_posts_only_the_first_article_and_skips_the_rest(
    store: SqliteStore, clock: ManualClock
) -> None:
    """With ``first`` a chat gets only its first article of a story; the other rows end
    skipped with the reason, never sent."""
    parts = core(store, clock)
    channel = await _channel(store, "quiet", StoryMode.FIRST)
    await _story(store, await _feeds(store, 2), [channel], [FIRST, SECOND])
    await parts.dispatcher.drain()
    assert [type(m) for m in parts.platform.to("quiet")] == [Post]
    states = [r.state for r in await store.outbox.rows(channel.id)]
    assert states == [OutboxState.SENT, OutboxState.SKIPPED]
    assert "story" in ((await store.outbox.rows(channel.id))[1].last_error or "")


async def test_separate_posts_every_article_but_polls_once_per_story(
    store: SqliteStore, clock: ManualClock
) -> None:
    """With ``separate`` every article is a full post, but only the story's first post in
    the chat carries a poll."""
    parts = core(store, clock)
    channel = await _channel(store, "all", StoryMode.SEPARATE, PollPolicy.ALWAYS)
    await _story(store, await _feeds(store, 2), [channel], [FIRST, SECOND])
    await parts.dispatcher.drain()
    sent = parts.platform.to("all")
    assert [type(m) for m in sent] == [Post, PollPost, Post]
    assert isinstance(sent[0], Post) and sent[0].poll is not None
    assert isinstance(sent[2], Post) and sent[2].poll is None


async def test_a_story_has_one_reader_poll_whichever_article_opens_it(
    store: SqliteStore, clock: ManualClock
) -> None:
    """Two chats whose first post of a story is a different article run one reader poll
    between them: the story's."""
    parts = core(store, clock)
    feeds = await _feeds(store, 2)
    a = await _channel(store, "a", StoryMode.THREAD, PollPolicy.ALWAYS)
    b = await _channel(store, "b", StoryMode.THREAD, PollPolicy.ALWAYS)
    first = (await _story(store, feeds[:1], [a], [FIRST]))[0]
    new = replace(article(feeds[1], 2, text=SECOND), story=first)
    from bot.types import Routed

    await store.articles.save_ingest(
        FeedUpdate(feeds[1].id, 0.0, 600.0), [Routed(new, (a.id, b.id))]
    )
    await parts.dispatcher.drain()
    polls_a = [m for m in parts.platform.to("a") if isinstance(m, PollPost)]
    polls_b = [m for m in parts.platform.to("b") if isinstance(m, PollPost)]
    assert len(polls_a) == len(polls_b) == 1
    assert polls_a[0].poll_id == polls_b[0].poll_id
    poll = await store.polls.get(polls_a[0].poll_id)
    assert poll is not None and poll.article_id == first
    assert len(await store.polls.platform_polls(poll.id)) == 2


@pytest.mark.parametrize(
    ("mode", "post", "step"),
    [
        (StoryMode.THREAD, None, Telling.POST),
        (StoryMode.SEPARATE, None, Telling.POST),
        (StoryMode.FIRST, None, Telling.POST),
        (StoryMode.THREAD, StoryPost(1, 1, "m"), Telling.UPDATE),
        (StoryMode.SEPARATE, StoryPost(1, 1, "m"), Telling.POST),
        (StoryMode.FIRST, StoryPost(1, 1, "m"), Telling.SKIP),
    ],
)
def test_what_an_article_becomes(mode: StoryMode, post: StoryPost | None, step: Telling) -> None:
    """A story new to a chat is a full post; after that the setting decides."""
    assert telling(mode, post) is step


def test_untold_drops_repeats_of_what_was_told_and_of_each_other() -> None:
    """A sentence that says again what a told one said is not new; nor is one repeating
    another new one; the others keep their order."""
    told = ["Rescuers reached the flooded valley town of Arles on Monday."]
    sentences = [
        "On Monday rescuers reached the flooded valley town of Arles.",
        "Three bridges collapsed overnight.",
        "Overnight, three bridges collapsed.",
        "The mayor asked for army help.",
    ]
    assert untold(sentences, told) == (
        "Three bridges collapsed overnight.",
        "The mayor asked for army help.",
    )


def test_told_after_keeps_order_drops_exact_repeats_and_is_bounded() -> None:
    """What a chat was told grows in order without exact repeats, keeping the latest."""
    assert told_after(("a", "b"), ("b", "c", "c")) == ("a", "b", "c")
    many = told_after((), tuple(str(n) for n in range(500)))
    assert len(many) == 200 and many[-1] == "499"


async def test_sources_count_outlets_up_to_the_article(store: SqliteStore) -> None:
    """Sources so far are the distinct feeds of the story's articles up to this one."""
    feeds = await _feeds(store, 2)
    ids = await _story(store, [feeds[0], feeds[1], feeds[0]], [], [FIRST, SECOND, THIRD])
    story = (await store.articles.story_sources([ids[0]]))[ids[0]]
    assert [sources_so_far(story, i) for i in ids] == [1, 2, 2]


async def test_a_story_post_in_flight_at_a_crash_is_sent_again_then_replied_to(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A story's first post in flight at a crash is sent again after the restart (the one
    repeat the outbox allows) and becomes the story's post; the next article replies to
    it, it is not a second full post."""
    store = await SqliteStore.open(tmp_path / "crash.db")
    channel = await _channel(store, "group", StoryMode.THREAD)
    await _story(store, await _feeds(store, 2), [channel], [FIRST, SECOND])
    await store.outbox.claim_due(clock.now(), 1, platforms=["fake"])  # in flight at the crash
    await store.close()
    store = await SqliteStore.open(tmp_path / "crash.db")
    try:
        assert await store.outbox.recover_in_flight() == 1
        parts = core(store, clock)
        await parts.dispatcher.drain()
        post, update = parts.platform.to("group")
    finally:
        await store.close()
    assert isinstance(post, Post) and isinstance(update, StoryUpdate)
    assert update.reply_to == "fake-1"

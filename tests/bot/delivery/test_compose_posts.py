"""Composing posts people want: the article's image unless the channel turns images off,
the channel's template filled in its timezone, story updates text only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.clock import ManualClock
from bot.store.sqlite import SqliteStore
from bot.types import ChannelOptions, FeedUpdate, Piece, Routed
from tests.bot.helpers import article, core, make_channel, make_feed

PUBLISHED = datetime(2026, 11, 28, 13, 5, tzinfo=UTC).timestamp()
TEMPLATE = "{title} ({sources}) {published}\n{author} · {tags}"


async def _stored(store: SqliteStore) -> int:
    feed = await make_feed(store)
    rich = replace(
        article(feed, 1),
        image="https://img.test/1.jpg",
        author="Ada",
        tags=("Ports",),
        published=PUBLISHED,
    )
    [article_id] = await store.articles.save_ingest(
        FeedUpdate(feed.id, PUBLISHED, PUBLISHED + 600), [Routed(rich, ())]
    )
    return article_id


async def test_a_post_carries_the_image_unless_the_channel_turns_images_off(
    store: SqliteStore, clock: ManualClock
) -> None:
    """images = true (the default) gives the post its article's image; false none."""
    parts = core(store, clock)
    stored = await store.articles.get(await _stored(store))
    assert stored is not None
    channel = await make_channel(store, "a")
    with_image = await parts.composer.post_for(stored, channel)
    no_images = replace(channel, options=ChannelOptions(images=False))
    without = await parts.composer.post_for(stored, no_images)
    assert (with_image.image, without.image, with_image.layout) == (
        "https://img.test/1.jpg",
        "",
        (),
    )


async def test_a_template_is_filled_in_the_channels_timezone(
    store: SqliteStore, clock: ManualClock
) -> None:
    """The channel's template becomes the post's layout, {published} in its timezone
    (else its digest's zone), {sources} the story's sources so far."""
    parts = core(store, clock)
    stored = await store.articles.get(await _stored(store))
    assert stored is not None
    channel = await make_channel(store, "a")
    berlin = replace(channel, options=ChannelOptions(template=TEMPLATE, timezone="Europe/Berlin"))
    tokyo_digest = replace(
        channel, options=ChannelOptions(("08:00 Asia/Tokyo",), template="{published}")
    )
    post = await parts.composer.post_for(stored, berlin)
    assert post.layout == (
        Piece("Story number 1", "title"),
        Piece(" ("),
        Piece("1", "sources"),
        Piece(") "),
        Piece("2026-11-28 14:05", "published"),
        Piece("\n"),
        Piece("Ada", "author"),
        Piece(" · "),
        Piece("Ports", "tags"),
    )
    tokyo = await parts.composer.post_for(stored, tokyo_digest)
    assert tokyo.layout == (Piece("2026-11-28 22:05", "published"),)


async def test_a_template_that_fills_in_blank_gives_the_standard_post(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A template whose values are all empty for an article ({author} of an article with
    none) gives the standard layout, never a blank post a platform would refuse."""
    parts = core(store, clock)
    feed = await make_feed(store)
    [plain_id] = await store.articles.save_ingest(
        FeedUpdate(feed.id, PUBLISHED, PUBLISHED + 600), [Routed(article(feed, 2), ())]
    )
    plain = await store.articles.get(plain_id)
    assert plain is not None and plain.author == ""
    channel = await make_channel(store, "a")
    blank = replace(channel, options=ChannelOptions(template=" {author} \n"))
    post = await parts.composer.post_for(plain, blank)
    assert (post.layout, post.title) == ((), plain.title)

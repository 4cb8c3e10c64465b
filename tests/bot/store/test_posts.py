"""Store contract: what posts people want need kept, an article's image, author and tags,
and a channel's images, template and timezone settings."""

from __future__ import annotations

from dataclasses import replace

from bot.store.ports import Store
from bot.types import ChannelOptions, FeedUpdate, Routed
from tests.bot.helpers import article, make_channel, make_feed

NOW = 1_800_000_000.0


async def test_an_articles_image_author_and_tags_are_kept(any_store: Store) -> None:
    """An article's image, author and tags read back from every query that gives
    articles; an article without them reads back empty."""
    feed = await make_feed(any_store)
    channel = await make_channel(any_store, "a")
    rich = replace(
        article(feed, 1),
        image="https://img.test/1.jpg",
        author="Ada Lovelace",
        tags=("Energy", "Oil & gas"),
    )
    ids = await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW + 600),
        [Routed(rich, (channel.id,)), Routed(article(feed, 2), ())],
    )
    got = await any_store.articles.get(ids[0])
    plain = await any_store.articles.get(ids[1])
    assert got is not None and plain is not None
    assert (got.image, got.author, got.tags) == (
        "https://img.test/1.jpg",
        "Ada Lovelace",
        ("Energy", "Oil & gas"),
    )
    assert (plain.image, plain.author, plain.tags) == ("", "", ())
    latest = {a.id: a for a in await any_store.articles.latest(5)}
    assert latest[ids[0]] == got
    sources = await any_store.articles.story_sources([ids[0]])
    assert sources[ids[0]] == [got]


async def test_a_channels_images_template_and_timezone_are_kept(any_store: Store) -> None:
    """configure stores images, template and timezone with the other options; a new
    channel has images on, no template and no timezone."""
    channel = await make_channel(any_store, "a")
    assert (channel.options.images, channel.options.template, channel.options.timezone) == (
        True,
        "",
        "",
    )
    options = ChannelOptions(
        images=False, template="{title}\n{{literal}}\n{url}", timezone="Europe/Berlin"
    )
    await any_store.channels.configure(channel.id, options, NOW)
    found = await any_store.channels.get(channel.id)
    assert found is not None
    assert found.options == options

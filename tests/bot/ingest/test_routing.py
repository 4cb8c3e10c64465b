"""Routing: what a channel gets by its feeds and keywords."""

from __future__ import annotations

from bot.ingest import routing
from bot.types import Channel, ChatRef, Feed, FeedOrigin, Subscription


def _feed(**kw: object) -> Feed:
    base: dict[str, object] = dict(
        id=1, url="u", name="n", every=600.0, backfill=0, origin=FeedOrigin.CONFIG
    )
    base.update(kw)
    return Feed(**base)  # type: ignore[arg-type]


def test_keywords_include_and_exclude_whole_words() -> None:
    """Include words must appear as words; an exclude word vetoes."""
    include, exclude = routing.split_keywords(["Venezuela", "-sports", " ", "-", "oil price"])
    sub = Subscription(include=include, exclude=exclude)
    channel = Channel(1, ChatRef("telegram", "@x"), sub)
    feed = _feed()
    assert routing.channel_wants(channel, feed, "Venezuela talks", "")
    assert not routing.channel_wants(channel, feed, "Venezuelan sports", "venezuela")
    assert not routing.channel_wants(channel, feed, "Venezuelans", "")
    assert routing.channel_wants(channel, feed, "Markets", "the oil price rose")


def test_chat_feeds_go_only_to_their_subscribers() -> None:
    """A feed a chat user added reaches only channels subscribed to it."""
    chat_feed = _feed(id=7, origin=FeedOrigin.CHAT)
    everything = Channel(1, ChatRef("console"), Subscription(all_feeds=True))
    subscriber = Channel(2, ChatRef("telegram", "1"), Subscription(False, frozenset({7})))
    assert routing.route([everything, subscriber], chat_feed, "t", "x") == (2,)

"""Bring the store in line with the operator's config file at start-up."""

from __future__ import annotations

from bot.app.config import LoadedConfig, resolve_feed_url
from bot.ingest.routing import split_keywords
from bot.store.ports import Store
from bot.types import Channel, ChannelOptions, FeedOrigin, Subscription

REMOVED = "removed from the config file"


async def sync_config(store: Store, loaded: LoadedConfig, now: float) -> None:
    """Upsert the config's feeds and channels; pause config feeds no longer listed.

    Channels named in the config get exactly the subscription the config gives them.
    """
    ids_by_name: dict[str, int] = {}
    listed: set[str] = set()
    for fc in loaded.config.feeds:
        url = resolve_feed_url(fc.url, loaded.base_dir)
        feed = await store.feeds.upsert(
            url,
            name=fc.name,
            origin=FeedOrigin.CONFIG,
            every=fc.every,
            backfill=fc.backfill,
            now=now,
        )
        listed.add(url)
        ids_by_name[fc.url] = feed.id
        if fc.name:
            ids_by_name[fc.name] = feed.id
    for feed in await store.feeds.all():
        if feed.origin == FeedOrigin.CONFIG and feed.url not in listed and not feed.paused:
            await store.feeds.set_paused(feed.id, True, REMOVED)
    for cc in loaded.config.channels:
        include, exclude = split_keywords(cc.keywords)
        subscription = Subscription(
            all_feeds=cc.feeds is None,
            feed_ids=frozenset(ids_by_name[name] for name in cc.feeds or []),
            include=include,
            exclude=exclude,
            patterns=cc.patterns,
        )
        channel = await store.channels.upsert(
            cc.ref,
            origin=FeedOrigin.CONFIG,
            subscription=subscription,
            polls=cc.polls,
            poll_duration=cc.poll_duration,
            stories=cc.stories,
            now=now,
        )
        await _configure(store, channel, cc.options, now)


async def _configure(store: Store, channel: Channel, options: ChannelOptions, now: float) -> None:
    """Set a channel's digest and languages. A channel that stops taking digests gets one
    last digest now with what was held for it, then a post per article."""
    if channel.options.digest and not options.digest:
        await store.outbox.queue_digest(channel.id, now, now)
    await store.channels.configure(channel.id, options, now)

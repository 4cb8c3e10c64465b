"""``newsbrief preview``: what a channel would get for an article, shown as the platform is
sent it, without sending anything or touching the outbox.

It takes the delivery path: the composer builds the message (the channel's language,
template, images, story rules and poll) and the platform's own pure renderer lays it out
(the registry's ``preview``), so the preview is what the platform receives.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot import i18n
from bot.app.actions import PAGE_MAX_BYTES
from bot.app.platforms import render_preview
from bot.app.root import Runtime
from bot.app.settings import Settings
from bot.errors import ConfigError, NotFound, UserInputError
from bot.feeds.extract import extract_article
from bot.feeds.netguard import is_web_url
from bot.ingest.routing import verdicts
from bot.ports import FetchRequest
from bot.types import Article, Channel, ChatRef, Post, Skip, StoryUpdate

LOOKBACK = 200  # the latest stories searched for one the channel takes


@dataclass(frozen=True)
class Preview:
    """A channel's message for one article, and the platform's rendering of it."""

    channel: ChatRef
    article: Article
    message: Post | StoryUpdate | Skip
    rendered: str  # Bot API requests or Discord payloads as JSON; the console's text


async def preview(
    settings: Settings, to: str, *, article_id: int | None = None, url: str | None = None
) -> Preview:
    """What the channel configured as ``to`` would get for an article: the stored one
    ``article_id``, the page at ``url`` (fetched and summarized, not stored), or by
    default the latest stored article the channel takes.

    Raises:
        UserInputError: ``to`` is not a chat, ``url`` not an http(s) URL, or the page
            has no article.
        NotFound: no channel posts to ``to``, no such article, or none the channel takes.
        FeedError: the page could not be fetched.
    """
    async with Runtime.build(settings, serving=False) as runtime:
        channel = await _channel(runtime, to)
        if url is not None:
            article = await _page_article(runtime, url)
        elif article_id is not None:
            article = await _stored(runtime, article_id)
        else:
            article = await _latest(runtime, channel)
        message = await runtime.composer.preview(article, channel)
        with i18n.using(i18n.channel_locale(channel)):  # as the dispatcher sends it
            rendered = "" if isinstance(message, Skip) else render_preview(channel.ref, message)
        return Preview(channel.ref, article, message, rendered)


async def _channel(runtime: Runtime, to: str) -> Channel:
    try:
        ref = ChatRef.parse(to)
    except ConfigError as e:
        raise UserInputError(str(e)) from e
    channel = await runtime.store.channels.by_ref(ref)
    if channel is None:
        known = ", ".join(str(c.ref) for c in await runtime.store.channels.all()) or "none"
        raise NotFound(f"no channel posts to {to!r} (channels: {known})")
    return channel


async def _stored(runtime: Runtime, article_id: int) -> Article:
    article = await runtime.store.articles.get(article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    return article


async def _latest(runtime: Runtime, channel: Channel) -> Article:
    """The latest stored story that the channel's feeds and filters take."""
    feeds = {feed.id: feed for feed in await runtime.store.feeds.all()}
    recent = await runtime.store.articles.latest(LOOKBACK)
    for article, refused in verdicts(channel, recent, feeds):
        if refused is None:
            return article
    raise NotFound(f"none of the {len(recent)} latest articles would go to {channel.ref}")


async def _page_article(runtime: Runtime, url: str) -> Article:
    """A page that is not stored, as an article (id 0, its own story)."""
    if not is_web_url(url):
        raise UserInputError("--url takes an http(s) URL")
    page = await runtime.fetcher.fetch(FetchRequest(url, PAGE_MAX_BYTES, trusted=True))
    extracted = await asyncio.to_thread(extract_article, page.body, page.url)
    if extracted is None:
        raise UserInputError("no article text found on that page")
    title = extracted.title or page.url
    return Article(
        id=0,
        feed_id=0,
        guid=page.url,
        url=page.url,
        canonical_url=page.url,
        title=title,
        text=extracted.text,
        published=runtime.clock.now(),
        story_id=0,
        content_hash=hashlib.sha256(f"{title}\n{extracted.text}".encode()).hexdigest(),
        feed_name=urlsplit(page.url).hostname or "",
        image=extracted.image,
        author=extracted.author,
    )

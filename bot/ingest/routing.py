"""Routing: which channels get a new article (their feeds, then their keywords and their
regular-expression filters), and whether now or in their next digest. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from bot.ingest import filters
from bot.types import Article, Channel, Feed, FeedOrigin

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def split_keywords(keywords: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``["venezuela", "-sports"]`` → (include, exclude), lowercased, blanks dropped."""
    include: list[str] = []
    exclude: list[str] = []
    for raw in keywords:
        word = raw.strip().lower()
        if word.startswith("-") and word[1:].strip():
            exclude.append(word[1:].strip())
        elif word and word != "-":
            include.append(word)
    return tuple(include), tuple(exclude)


def _has_phrase(words: Sequence[str], joined: str, phrase: str) -> bool:
    parts = _WORD_RE.findall(phrase.lower())
    if not parts:
        return False
    if len(parts) == 1:
        return parts[0] in words
    return f" {' '.join(parts)} " in joined


def follows_feed(channel: Channel, feed: Feed) -> bool:
    """Does the channel's subscription take this feed (listed, or every operator feed)?"""
    sub = channel.subscription
    return feed.id in sub.feed_ids or (sub.all_feeds and feed.origin != FeedOrigin.CHAT)


def channel_wants(
    channel: Channel, feed: Feed, title: str, text: str, tags: Sequence[str] = ()
) -> bool:
    """Does this channel's subscription take this article? (feeds, keywords, filters)."""
    return why_not(channel, feed, title, text, tags) is None


def why_not(
    channel: Channel, feed: Feed, title: str, text: str, tags: Sequence[str] = ()
) -> str | None:
    """Which part of the channel's subscription refuses the article: ``"feeds"`` (not a
    feed it follows), ``"keywords"``, ``"include"`` or ``"exclude"`` (its regular
    expressions); None when the channel takes it."""
    if not follows_feed(channel, feed):
        return "feeds"
    if not _keywords_pass(channel, title, text):
        return "keywords"
    return filters.refusal(channel.filters, title, text, tags)


def _keywords_pass(channel: Channel, title: str, text: str) -> bool:
    sub = channel.subscription
    if not sub.include and not sub.exclude:
        return True
    words = _WORD_RE.findall(f"{title}\n{text}".lower())
    word_set, joined = set(words), f" {' '.join(words)} "
    if any(_has_phrase(list(word_set), joined, w) for w in sub.exclude):
        return False
    return not sub.include or any(_has_phrase(list(word_set), joined, w) for w in sub.include)


def verdicts(
    channel: Channel, articles: Iterable[Article], feeds: Mapping[int, Feed]
) -> list[tuple[Article, str | None]]:
    """Each article with what refuses it in ``channel`` (see :func:`why_not`; None: the
    channel takes it); an article of a feed no longer known is refused by ``"feeds"``."""
    judged: list[tuple[Article, str | None]] = []
    for article in articles:
        feed = feeds.get(article.feed_id)
        reason = "feeds" if feed is None else why_not(channel, feed, *_fields(article))
        judged.append((article, reason))
    return judged


def _fields(article: Article) -> tuple[str, str, Sequence[str]]:
    return article.title, article.text, article.tags


def route(
    channels: Sequence[Channel], feed: Feed, title: str, text: str, tags: Sequence[str] = ()
) -> tuple[int, ...]:
    """The ids of the channels that get a new article of ``feed``."""
    return tuple(c.id for c in channels if channel_wants(c, feed, title, text, tags))


def by_digest(
    channels: Sequence[Channel], channel_ids: Sequence[int]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Split the channels an article goes to into those that get it now and those whose
    next digest gathers it (a channel with a digest schedule gets no post per article)."""
    if not channel_ids:
        return (), ()
    digests = {c.id for c in channels if c.options.digest}
    now = tuple(i for i in channel_ids if i not in digests)
    return now, tuple(i for i in channel_ids if i in digests)

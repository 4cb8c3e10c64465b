"""Composing: the message an outbox row stands for, made at delivery time (so articles
never posted cost no summary), in the channel's language."""

from __future__ import annotations

from bot import i18n
from bot.digests.compose import DigestComposer
from bot.errors import NotFound
from bot.polls.lifecycle import Polls
from bot.store.ports import ArticleStore
from bot.summaries import Summaries
from bot.types import Article, Channel, Message, OutboxItem, OutboxKind, Post


def channel_locale(channel: Channel) -> str:
    """The language of the bot's own words in a channel's posts (poll options, results,
    digests): its ``locale``, else its summaries' ``language``, else English."""
    return i18n.negotiate(channel.options.locale, channel.options.language)


class Composer:
    """Builds posts from articles and their cached summaries, poll messages and digests."""

    def __init__(
        self,
        articles: ArticleStore,
        summaries: Summaries,
        polls: Polls,
        digests: DigestComposer,
    ) -> None:
        self._articles = articles
        self._summaries = summaries
        self._polls = polls
        self._digests = digests

    async def compose(self, item: OutboxItem, channel: Channel) -> Message:
        """The message for ``item`` in ``channel``.

        Raises:
            NotFound: the row's article or poll no longer exists.
            StoreError: the store failed (worth a retry).
        """
        with i18n.using(channel_locale(channel)):
            return await self._compose(item, channel)

    async def _compose(self, item: OutboxItem, channel: Channel) -> Message:
        if item.kind in (OutboxKind.POLL, OutboxKind.RESULTS):
            return await self._polls.compose(item)
        if item.kind is OutboxKind.DIGEST:
            return await self._digests.compose(item, channel)
        article = await self._articles.get(item.article_id or 0)
        if article is None:
            raise NotFound(f"article {item.article_id} is gone")
        return await self.post_for(article, channel)

    async def post_for(self, article: Article, channel: Channel) -> Post:
        """The summary post for one article (in the channel's language when the
        summarizer can write one), with the reader poll the channel's policy gives."""
        summary = await self._summaries.for_article(article, channel.options.language)
        poll = self._polls.proposal_for(channel, article.text, article.title, summary.poll)
        return Post(
            title=article.title,
            summary=summary.text,
            url=article.url,
            source=article.feed_name,
            published=article.published,
            article_id=article.id,
            poll=poll,
        )

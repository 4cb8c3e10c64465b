"""Composing: the message an outbox row stands for, made at delivery time (so articles
never posted cost no summary), in the channel's language, and what a sent message leaves
behind.

An article row becomes a full post, an update to its story's post in that chat, or nothing,
by the channel's ``stories`` setting and what the chat has been told of the story
(:mod:`bot.delivery.stories`).
"""

from __future__ import annotations

from dataclasses import replace

from bot import i18n
from bot.chat import template
from bot.chat.stories import told_after, untold
from bot.delivery.stories import Telling, sources_so_far, story_title, telling
from bot.digests.compose import DigestComposer
from bot.errors import NotFound
from bot.polls.lifecycle import Polls
from bot.store.ports import ArticleStore, StoryStore, poll_of
from bot.summaries import Summaries
from bot.types import (
    Article,
    Channel,
    ChannelOptions,
    Delivered,
    Digest,
    Message,
    OpenPoll,
    OutboxItem,
    OutboxKind,
    Piece,
    PollPost,
    Post,
    ResultsPost,
    Sent,
    Skip,
    StoryPost,
    StoryTold,
    StoryUpdate,
)
from summarizer.base import Summary

Layout = tuple[Piece, ...]
TOLD_ALREADY = "this chat has a post for the story already (stories = first)"


def delivered(channel: Channel, message: Message, sent: Sent, now: float) -> Delivered:
    """What a sent message leaves behind: a post (or a digest) with a poll opens its
    story's poll (closing after the channel's poll duration); a platform poll is
    remembered for its reader poll; a post or update records what it told the channel of
    its story; a digest sends the held rows it gathered."""
    opens = None
    if isinstance(message, Post | Digest) and message.poll is not None and message.article_id:
        story = message.article_id
        if isinstance(message, Post) and message.story is not None:
            story = message.story.story_id
        opens = OpenPoll(story, message.poll, now + channel.poll_duration)
    poll_id = message.poll_id if isinstance(message, PollPost) else None
    told = message.story if isinstance(message, Post | StoryUpdate) else None
    if told is not None and sent.thread:
        told = replace(told, thread=sent.thread)
    rows = message.rows if isinstance(message, Digest) else ()
    return Delivered(
        sent.message_id,
        sent.poll_id,
        opens_poll=opens,
        poll_id=poll_id,
        story=told,
        digested=rows,
    )


class Composer:
    """Builds posts and story updates from articles and their cached summaries, poll
    messages and digests."""

    def __init__(
        self,
        articles: ArticleStore,
        stories: StoryStore,
        summaries: Summaries,
        polls: Polls,
        digests: DigestComposer,
    ) -> None:
        self._articles = articles
        self._stories = stories
        self._summaries = summaries
        self._polls = polls
        self._digests = digests

    async def compose(self, item: OutboxItem, channel: Channel) -> Message | Skip:
        """The message for ``item`` in ``channel``, or a reason not to send it.

        Raises:
            NotFound: the row's article or poll no longer exists.
            StoreError: the store failed (worth a retry).
        """
        with i18n.using(i18n.channel_locale(channel)):
            return await self._compose(item, channel)

    async def _compose(self, item: OutboxItem, channel: Channel) -> Message | Skip:
        if item.kind in (OutboxKind.POLL, OutboxKind.RESULTS):
            return await self._poll_message(item, channel)
        if item.kind is OutboxKind.DIGEST:
            return await self._digests.compose(item, channel)
        article = await self._articles.get(item.article_id or 0)
        if article is None:
            raise NotFound(f"article {item.article_id} is gone")
        return await self.article_message(article, channel)

    async def article_message(
        self, article: Article, channel: Channel
    ) -> Post | StoryUpdate | Skip:
        """What ``channel`` gets for ``article``: a full post when its story is new there,
        else what the channel's ``stories`` setting says."""
        told = await self._stories.post(channel.id, article.story_id)
        step = telling(channel.stories, told)
        if step is Telling.SKIP:
            return Skip(TOLD_ALREADY)
        if told is not None and step is Telling.UPDATE:
            return await self._update(article, channel, told)
        post = await self.post_for(article, channel, polled=told is None)
        if told is None or post.story is None:
            return post
        return replace(post, story=replace(post.story, told=told_after(told.told, post.story.told)))

    async def preview(self, article: Article, channel: Channel) -> Post | StoryUpdate | Skip:
        """What ``channel`` gets, or got, for ``article``: a story's first article is its
        full post (as it was sent, whether or not it has been); a later one is what
        :meth:`article_message` decides now."""
        with i18n.using(i18n.channel_locale(channel)):
            if article.id == article.story_id:
                return await self.post_for(article, channel)
            return await self.article_message(article, channel)

    async def post_for(self, article: Article, channel: Channel, *, polled: bool = True) -> Post:
        """The full post for one article (in the channel's language when the summarizer
        can write one), with the reader poll the channel's policy gives (``polled``: the
        post may carry one at all)."""
        summary = await self._summaries.for_article(article, channel.options.language)
        poll = None
        if polled:
            poll = self._polls.proposal_for(channel, article.text, article.title, summary.poll)
        options = channel.options
        return Post(
            title=article.title,
            summary=summary.text,
            url=article.url,
            source=article.feed_name,
            published=article.published,
            article_id=article.id,
            poll=poll,
            story=StoryTold(article.story_id, _sentences(summary)),
            image=article.image if options.images else "",
            layout=await self._layout(article, summary.text, options),
        )

    async def _layout(self, article: Article, summary: str, options: ChannelOptions) -> Layout:
        """The channel's template filled in for the article; empty (the standard layout)
        without a template, or when the filled template would show nothing (``{author}``
        of an article without one): a post is never blank."""
        if not options.template:
            return ()
        sources = 1
        if template.uses(options.template, "sources"):
            story = await self._articles.story_sources([article.story_id])
            sources = sources_so_far(story.get(article.story_id, [article]), article.id)
        zone = template.channel_zone(options)
        layout = template.fill(
            options.template, template.post_values(article, summary, sources, zone)
        )
        return layout if "".join(p.text for p in layout).strip() else ()

    async def _update(self, article: Article, channel: Channel, told: StoryPost) -> StoryUpdate:
        summary = await self._summaries.for_article(article, channel.options.language)
        new = untold(_sentences(summary), told.told)
        story = (await self._articles.story_sources([article.story_id])).get(article.story_id, [])
        return StoryUpdate(
            title=article.title,
            new=new,
            url=article.url,
            source=article.feed_name,
            published=article.published,
            sources=sources_so_far(story, article.id),
            reply_to=told.message_id,
            story=StoryTold(article.story_id, told_after(told.told, new)),
            thread=told.thread,
            story_title=story_title(story, article.story_id, article.title),
        )

    async def _poll_message(self, item: OutboxItem, channel: Channel) -> Message | Skip:
        """A poll or its results, in the thread of the story's post where there is one."""
        poll = await self._polls.poll(poll_of(item.payload))
        told = await self._stories.post(channel.id, poll.article_id) if poll.article_id else None
        message = await self._polls.compose(item, poll)
        if told is not None and told.thread and isinstance(message, PollPost | ResultsPost):
            return replace(message, thread=told.thread)
        return message


def _sentences(summary: Summary) -> tuple[str, ...]:
    return summary.sentences or ((summary.text,) if summary.text.strip() else ())

"""The service API adapters call: chat commands and platform events, in core types only."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeAlias

from bot import i18n
from bot.chat import commands, filtering
from bot.chat.stories import answer_text, pick_sources, story_answer, told_after
from bot.chat.topics import Cited, RankedStory, TopicAnswer, rank_stories, topic_terms
from bot.errors import BlockedURL, FeedError, NewsbriefError, NotFound, UserInputError
from bot.feeds.netguard import check_url, local_path
from bot.feeds.parse import read_feed
from bot.health import AdapterState, AdapterStatus, Health
from bot.i18n import _, ngettext
from bot.ingest.routing import follows_feed, verdicts
from bot.polls.lifecycle import Polls
from bot.ports import Clock, Fetcher, FetchRequest
from bot.store.ports import Store, story_of
from bot.summaries import Summaries
from bot.types import (
    CONSOLE,
    Article,
    Channel,
    ChatRef,
    Command,
    Feed,
    FeedOrigin,
    OutboxState,
    PollCounts,
    Post,
    Reply,
    Source,
    Story,
    StoryAsk,
    Subscription,
    VoteEvent,
)

log = logging.getLogger(__name__)
# what a channel would get for an article (the composer's preview): a post, or not one
Previewer: TypeAlias = Callable[[Article, Channel], Awaitable[object]]

TOPIC_STORIES = 5
TOPIC_HITS = 50
TOPIC_DAYS = 7.0
LATEST_COUNT = 5
PREVIEW_ARTICLES = 20  # /preview shows which of the latest this many the filters pass
PREVIEW_TITLE_CHARS = 120
SUBSCRIBE_MAX_BYTES = 10 * 1024 * 1024
_NUMBER = re.compile(r"[0-9]{1,9}")  # a list position a reader types


class Service:
    """Implements :class:`bot.ports.Core` over the store, summaries and fetcher."""

    def __init__(
        self,
        store: Store,
        summaries: Summaries,
        polls: Polls,
        fetcher: Fetcher,
        clock: Clock,
        *,
        health: Health | None = None,
        on_feeds_changed: Callable[[], None] = lambda: None,
        preview: Previewer | None = None,
    ) -> None:
        self._store = store
        self._polls = polls
        self._summaries = summaries
        self._fetcher = fetcher
        self._clock = clock
        self._health = health or Health()
        self._on_feeds_changed = on_feeds_changed
        self._preview = preview
        self._handlers: dict[str, Callable[[Command], Awaitable[Reply]]] = {
            "summary": self._cmd_summary,
            "latest": self._cmd_latest,
            "subscribe": self._cmd_subscribe,
            "unsubscribe": self._cmd_unsubscribe,
            "feeds": self._cmd_feeds,
            "poll": self._cmd_poll,
            "results": self._cmd_results,
            "status": self._cmd_status,
            "help": self._cmd_help,
            "filter": self._cmd_filter,
            "preview": self._cmd_preview,
        }

    # -- the Core protocol ---------------------------------------------------------------

    async def handle(self, command: Command) -> Reply:
        """Answer a chat command, in the chat's locale (its channel's ``locale``, else the
        user's platform language, else English); user errors become a clear Reply, never
        an exception."""
        with i18n.using(await self._locale(command)):
            return await self._handle(command)

    async def _locale(self, command: Command) -> str:
        try:
            channel = await self._store.channels.by_ref(command.chat)
        except NewsbriefError:  # the command itself will meet the failing store
            channel = None
        chosen = channel.options.locale if channel is not None else ""
        return i18n.negotiate(chosen, command.locale)

    async def _handle(self, command: Command) -> Reply:
        spec = commands.find(command.name)
        handler = self._handlers.get(spec.name) if spec else None
        if spec is None or handler is None:
            return Reply(
                _("I don't know /{command}. Try /help.").format(command=command.name[:40]),
                ok=False,
            )
        if spec.admin_only and not command.is_admin:
            return Reply(_("Only an admin of this chat can do that."), ok=False)
        try:
            return await handler(command)
        except UserInputError as e:
            return Reply(str(e), ok=False)
        except NewsbriefError as e:
            log.warning("/%s in %s failed: %s", command.name, command.chat, e)
            return Reply(_("Sorry, that failed: {error}").format(error=e), ok=False)

    async def chat_membership(self, chat: ChatRef, active: bool, reason: str) -> None:
        """Pause a channel when the bot is removed; resume it when added back."""
        channel = await self._store.channels.by_ref(chat)
        if channel is not None:
            await self._store.channels.set_paused(channel.id, None if active else reason)

    async def chat_migrated(self, old: ChatRef, new: ChatRef) -> None:
        """Follow a chat to its new id."""
        await self._store.channels.move(old, new)

    async def record_vote(self, vote: VoteEvent) -> None:
        """A reader voted, changed or retracted a vote."""
        await self._polls.record_vote(vote)

    async def record_counts(self, counts: PollCounts) -> None:
        """A counts-only platform poll reported its counts."""
        await self._polls.record_counts(counts)

    # -- topic summaries -----------------------------------------------------------------

    async def topic(
        self,
        topic: str,
        days: float = TOPIC_DAYS,
        chat: ChatRef = CONSOLE,
        *,
        language: str = "",
    ) -> TopicAnswer:
        """The best-matching recent story on a topic, summarized across its sources (every
        sentence citing them; written in ``language`` when the summarizer can, empty: the
        articles' own), with what is new since ``chat`` last asked about it, a timeline
        when it spans days, and the other matching stories; remembers what the chat was
        shown.

        Raises:
            UserInputError: the topic cannot be searched (empty, too long, only symbols).
            NotFound: nothing recent matches; the message suggests what is in the news.
        """
        terms = topic_terms(topic)
        now = self._clock.now()
        ranked = await self._ranked(topic, terms, now - days * 86400.0, now)
        story, *others = await self._stories(ranked)
        sources = pick_sources(story.articles)
        summary = await self._summaries.for_topic(" ".join(terms), sources, language)
        ask = await self._store.stories.asked(chat, story.id)
        answer = story_answer(topic.strip(), story, sources, summary, ask, others)
        await self._remember_ask(chat, story, ask, answer.sentences, now)
        return answer

    async def _ranked(
        self, topic: str, terms: list[str], since: float, now: float
    ) -> list[RankedStory]:
        """The stories matching the terms best (all terms, else any), best first.

        Raises:
            NotFound: none matches; the message suggests what is in the news.
        """
        search = self._store.articles.search
        hits = await search(terms, any_term=False, limit=TOPIC_HITS, since=since)
        if not hits:
            hits = await search(terms, any_term=True, limit=TOPIC_HITS, since=since)
        if not hits:
            raise NotFound(await self._no_match(topic, since))
        return rank_stories(
            [(h.article.story_id, h.article.id, h.score, h.article.published) for h in hits],
            now,
            TOPIC_STORIES,
        )

    async def _stories(self, ranked: Sequence[RankedStory]) -> list[Story]:
        """The ranked stories with all their articles, best first.

        Raises:
            NotFound: the best one is gone (removed between the search and now).
        """
        found = await self._store.articles.story_sources(r.story_id for r in ranked)
        stories = [story_of(r.story_id, found[r.story_id]) for r in ranked if found.get(r.story_id)]
        if not stories or stories[0].id != ranked[0].story_id:
            raise NotFound("That story is gone. Try again.")
        return stories

    async def _remember_ask(
        self,
        chat: ChatRef,
        story: Story,
        ask: StoryAsk | None,
        sentences: Sequence[Cited],
        now: float,
    ) -> None:
        """What this answer showed the chat of the story, for its next ``/summary``."""
        shown = told_after(ask.shown if ask else (), [s.text for s in sentences])
        latest = max(a.id for a in story.articles)
        await self._store.stories.record_ask(chat, story.id, StoryAsk(latest, shown), now)

    async def _no_match(self, topic: str, since: float) -> str:
        titles = await self._store.articles.recent_story_titles(since, 3)
        shown = topic.strip()[:60]
        if not titles:
            return _(
                "Nothing in the news about “{topic}” yet, and no recent stories at all."
            ).format(topic=shown)
        listing = "; ".join(t[:80] for t in titles)
        return _("Nothing recent about “{topic}”. In the news now: {titles}").format(
            topic=shown, titles=listing
        )

    # -- commands ------------------------------------------------------------------------

    async def _cmd_summary(self, command: Command) -> Reply:
        channel = await self._store.channels.by_ref(command.chat)
        language = channel.options.language if channel is not None else ""
        answer = await self.topic(command.args, chat=command.chat, language=language)
        return summary_reply(answer)

    async def _cmd_latest(self, command: Command) -> Reply:
        channel = await self._seen_from(command.chat)
        feeds = await self._listed_feeds(command.chat, channel)
        articles = await self._store.articles.latest(LATEST_COUNT, [f.id for f in feeds])
        if not articles:
            return Reply(_("No stories yet. An admin can /subscribe <feed url> to follow a feed."))
        sources = tuple(Source(a.title, a.url, a.feed_name) for a in articles)
        return Reply(_("The newest stories:"), sources, title=_("Latest"))

    async def _seen_from(self, chat: ChatRef) -> Channel | None:
        """The channel a chat's read-only commands are about: its own, or, in a forum topic
        that has none, the chat's."""
        channel = await self._store.channels.by_ref(chat)
        if channel is None and chat.thread:
            return await self._store.channels.by_ref(chat.without_thread)
        return channel

    async def _listed_feeds(self, chat: ChatRef, channel: Channel | None) -> list[Feed]:
        """The feeds a chat sees: its subscription; the operator's console sees them all."""
        feeds = await self._store.feeds.all()
        if chat == CONSOLE:
            return feeds
        if channel is None:
            return []
        return [f for f in feeds if follows_feed(channel, f)]

    async def _cmd_subscribe(self, command: Command) -> Reply:
        url = command.args.strip()
        if not url or " " in url:
            raise UserInputError(
                _("Usage: /subscribe <feed url>, for example https://example.org/rss")
            )
        if len(url) > commands.MAX_URL_CHARS:
            raise UserInputError(_("That URL is too long."))
        check_url(url, trusted=False, allow_private=False)
        title = await self._verify_feed(url)
        now = self._clock.now()
        existing = await self._store.feeds.by_url(url)
        feed = existing or await self._store.feeds.upsert(
            url, name="", origin=FeedOrigin.CHAT, every=15 * 60.0, backfill=0, now=now
        )
        channel = await self._ensure_channel(command.chat)
        added = await self._store.channels.subscribe(channel.id, feed.id)
        self._on_feeds_changed()
        label = title or feed.label
        if not added:
            return Reply(_("This chat already follows {feed}.").format(feed=label))
        return Reply(_("Subscribed to {feed}. New stories will be posted here.").format(feed=label))

    async def _verify_feed(self, url: str) -> str:
        try:
            result = await self._fetcher.fetch(
                FetchRequest(url=url, max_bytes=SUBSCRIBE_MAX_BYTES, trusted=False)
            )
            parsed = await asyncio.to_thread(read_feed, result.body, result.url)
        except FeedError as e:
            raise UserInputError(_("I can't follow that: {reason}").format(reason=e.reason)) from e
        return parsed.title

    async def _ensure_channel(self, chat: ChatRef) -> Channel:
        channel = await self._store.channels.by_ref(chat)
        if channel is not None:
            return channel
        return await self._store.channels.upsert(
            chat,
            origin=FeedOrigin.CHAT,
            subscription=Subscription(all_feeds=False),
            now=self._clock.now(),
        )

    async def _cmd_unsubscribe(self, command: Command) -> Reply:
        channel = await self._store.channels.by_ref(command.chat)
        feeds = await self._listed_feeds(command.chat, channel)
        feed = _pick_feed(feeds, command.args.strip())
        if channel is None or not await self._store.channels.unsubscribe(channel.id, feed.id):
            if channel is not None and channel.subscription.all_feeds:
                raise UserInputError(
                    _("{feed} comes from the operator's config; ask them to change it.").format(
                        feed=feed.label
                    )
                )
            raise NotFound(_("This chat does not follow {feed}.").format(feed=feed.label))
        return Reply(_("Unsubscribed from {feed}.").format(feed=feed.label))

    async def _cmd_feeds(self, command: Command) -> Reply:
        channel = await self._seen_from(command.chat)
        feeds = await self._listed_feeds(command.chat, channel)
        if not feeds:
            return Reply(_("This chat follows no feeds yet. An admin can /subscribe <feed url>."))
        lines = [f"{i}. {_feed_line(f)}" for i, f in enumerate(feeds, start=1)]
        return Reply("\n".join(lines), title=_("Feeds"))

    async def _cmd_poll(self, command: Command) -> Reply:
        channel = await self._ensure_channel(command.chat)
        latest_id = await self._store.outbox.latest_sent_article(channel.id)
        latest = await self._store.articles.get(latest_id) if latest_id else None
        return await self._polls.start_poll(channel, command.args, latest)

    async def _cmd_results(self, command: Command) -> Reply:
        channel = await self._seen_from(command.chat)
        return await self._polls.results(channel, command.args)

    async def _cmd_status(self, command: Command) -> Reply:
        channel = await self._seen_from(command.chat)
        counts = await self._store.outbox.counts(channel.id if channel else None)
        feeds = await self._listed_feeds(command.chat, channel)
        lines = [_channel_state(channel), *self._summaries_lines(channel)]
        lines.append(
            _("Posts: {sent} sent, {waiting} waiting, {dead} failed for good.").format(
                sent=counts.sent, waiting=counts.waiting, dead=counts.dead
            )
        )
        lines += _skipped_lines(counts.skipped)
        lines += _digest_lines(channel, counts.held)
        lines += [_adapter_line(a) for a in self._health.adapters() if not a.healthy]
        lines += [
            _("Feed {state}").format(state=_feed_line(f)) for f in feeds if f.paused or f.failures
        ]
        healthy = sum(1 for f in feeds if not f.paused and not f.failures)
        articles = await self._store.articles.count()
        lines.append(
            _("{healthy} of {total} feeds healthy; {articles} articles stored.").format(
                healthy=healthy, total=len(feeds), articles=articles
            )
        )
        if channel is not None:
            lines += await self._dead_reasons(channel.id)
        return Reply("\n".join(lines), title=_("Status"))

    def _summaries_lines(self, channel: Channel | None) -> list[str]:
        lines = [_("Summaries: {summarizer}.").format(summarizer=self._summaries.key)]
        language = channel.options.language if channel is not None else ""
        if not language:
            return lines
        if self._summaries.writes_languages:
            return [*lines, _("Summaries are written in {language}.").format(language=language)]
        note = _(
            "Summaries keep each article's own language: writing them in {language} needs an "
            "LLM (OPENAI_API_KEY)."
        )
        return [*lines, note.format(language=language)]

    async def _dead_reasons(self, channel_id: int) -> list[str]:
        dead = await self._store.outbox.rows(channel_id, state=OutboxState.DEAD, limit=3)
        return [
            _("Post {number} failed: {reason}").format(number=r.id, reason=r.last_error)
            for r in dead
        ]

    async def _cmd_help(self, command: Command) -> Reply:
        return Reply(commands.help_text(), title="newsbrief")

    async def _cmd_filter(self, command: Command) -> Reply:
        edit = filtering.parse_edit(command.args)
        channel = await self._store.channels.by_ref(command.chat)
        if edit is None:
            return Reply(filtering.describe(channel), title=_("Filters"))
        channel = channel or await self._ensure_channel(command.chat)
        changed = filtering.apply_edit(channel.chat_filters, edit)
        await self._store.channels.set_chat_filters(channel.id, changed)
        channel = await self._store.channels.get(channel.id)
        note = _("Filters changed; they apply to articles from the next fetch on.")
        return Reply(f"{note}\n\n{filtering.describe(channel)}", title=_("Filters"))

    async def _cmd_preview(self, command: Command) -> Reply:
        """How the latest article the chat takes would look there (the post, sent after
        the reply), and which of the last ``PREVIEW_ARTICLES`` its filters pass."""
        channel = await self._seen_from(command.chat)
        if channel is None:
            return Reply(
                _("This chat is not a channel: it gets no posts, so there is nothing to preview."),
                ok=False,
            )
        # the operator's feeds and the chat's own: another chat's /subscribe'd feeds (which
        # may be private) are none of this chat's business
        feeds = {
            feed.id: feed
            for feed in await self._store.feeds.all()
            if feed.origin != FeedOrigin.CHAT or follows_feed(channel, feed)
        }
        recent = await self._store.articles.latest(PREVIEW_ARTICLES, feeds)
        judged = verdicts(channel, recent, feeds)
        lines = [_verdict_line(article.title, refused) for article, refused in judged]
        passing = next((a for a, refused in judged if refused is None), None)
        post = None
        if passing is not None and self._preview is not None:
            message = await self._preview(passing, channel)
            post = message if isinstance(message, Post) else None
        head = _("How the latest article would look here follows.") if post else ""
        if not judged:
            head = _("No articles are stored yet.")
        elif passing is None:
            head = _("None of the latest articles pass this chat's filters.")
        text = "\n".join([head, "", *lines] if head else lines)
        locale = i18n.channel_locale(channel)  # the post speaks as the dispatcher sends it
        return Reply(text, title=_("Preview"), post=post, post_locale=locale)


def _verdict_line(title: str, refused: str | None) -> str:
    """``✓ title`` for an article the channel takes, ``✗ title (filtered by …)`` else."""
    title = " ".join(title.split())[:PREVIEW_TITLE_CHARS]
    if refused is None:
        return f"✓ {title}"
    return f"✗ {title} " + _("(filtered by: {filter})").format(filter=_refusal_name(refused))


def _refusal_name(refused: str) -> str:
    names = {
        "feeds": _("feeds"),
        "keywords": _("keywords"),
        "include": _("include patterns"),
        "exclude": _("exclude patterns"),
    }
    return names.get(refused, refused)


def summary_reply(answer: TopicAnswer) -> Reply:
    """What ``/summary`` answers in chat (and ``newsbrief summary`` prints)."""
    title = _("Summary: {topic}").format(topic=answer.topic)
    return Reply(answer_text(answer), answer.sources, title=title)


def _skipped_lines(skipped: int) -> list[str]:
    if not skipped:
        return []
    line = ngettext(
        "{count} post left unsent on purpose (its story had a post here, or its poll closed).",
        "{count} posts left unsent on purpose (their story had a post here, or their poll closed).",
        skipped,
    )
    return [line.format(count=skipped)]


def _digest_lines(channel: Channel | None, held: int) -> list[str]:
    if channel is None or not channel.options.digest:
        return []
    times = ", ".join(channel.options.digest)
    waiting = ngettext(
        "{count} article waits for it.", "{count} articles wait for it.", held
    ).format(count=held)
    return [_("This chat gets a digest at {times}.").format(times=times) + " " + waiting]


def _pick_feed(feeds: list[Feed], wanted: str) -> Feed:
    if not wanted:
        raise UserInputError(_("Usage: /unsubscribe <feed>: its number in /feeds, name or URL."))
    if _NUMBER.fullmatch(wanted) and 1 <= int(wanted) <= len(feeds):
        return feeds[int(wanted) - 1]
    for feed in feeds:
        if wanted in (feed.url, feed.name) or wanted.lower() == feed.title.lower():
            return feed
    raise NotFound(
        _("This chat follows no feed called “{feed}”. See /feeds.").format(feed=wanted[:80])
    )


def _feed_line(feed: Feed) -> str:
    state = _("ok")
    if feed.paused:
        reason = _shown_error(feed) or _("by the operator")
        state = _("paused: {reason}").format(reason=reason)
    elif feed.failures:
        state = _("failing ({count} in a row): {reason}").format(
            count=feed.failures, reason=_shown_error(feed)
        )
    elif not feed.fetched_once:
        state = _("not fetched yet")
    return f"{feed.label} ({state})"


def _shown_error(feed: Feed) -> str | None:
    """A feed's last error as a chat may see it. An error about a local file can quote
    the file (a parser shows what it found), so a chat only learns that the file failed;
    the operator reads the whole reason in ``newsbrief feeds list``."""
    if feed.last_error is None or not _is_local(feed.url):
        return feed.last_error
    if feed.paused and feed.failures == 0:  # paused by the operator, with their reason
        return feed.last_error
    return _("the operator's local feed file could not be read as a feed")


def _is_local(url: str) -> bool:
    try:
        return local_path(url) is not None
    except BlockedURL:
        return True  # a file:// URL naming another host: a file all the same


def _adapter_line(status: AdapterStatus) -> str:
    name = status.platform.capitalize()
    if status.state is AdapterState.STOPPED:
        return _("{platform} is disconnected for good: {reason}").format(
            platform=name, reason=status.reason
        )
    if status.state is AdapterState.RESTARTING:
        return _("{platform} is reconnecting (restart {count}): {reason}").format(
            platform=name, count=status.restarts, reason=status.reason
        )
    return _("{platform} is {state}.").format(platform=name, state=status.state.value)


def _channel_state(channel: Channel | None) -> str:
    if channel is None:
        return _("This chat receives no posts.")
    if channel.paused_reason:
        return _("Posting to this chat is paused: {reason}").format(reason=channel.paused_reason)
    return _("Posting to this chat is active.")

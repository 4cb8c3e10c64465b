"""A channel's digest post, made at delivery time from the article rows held for it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.digests import rules
from bot.i18n import _, ngettext
from bot.polls.lifecycle import Polls
from bot.store.ports import Store, digest_slot
from bot.summaries import Summaries
from bot.types import Article, Channel, Digest, OutboxItem, Source, Summary

DIGEST_STORIES = 20  # stories listed in one digest; the others are counted
HELD_PER_DIGEST = 500  # held rows one digest gathers; any beyond wait for the next
SUMMARIES_AT_ONCE = 4  # summaries made at once for one digest


class DigestComposer:
    """Builds a channel's digest: its held articles' stories, ranked, each in one line
    with its link, and the poll of the most-covered story."""

    def __init__(self, store: Store, summaries: Summaries, polls: Polls) -> None:
        self._store = store
        self._summaries = summaries
        self._polls = polls

    async def compose(self, item: OutboxItem, channel: Channel) -> Digest:
        """The digest ``item`` (a ``digest`` row) stands for, in ``channel``.

        Raises:
            ValueError: the row's payload names no slot.
            StoreError: the store failed (worth a retry).
        """
        title = _title(channel, digest_slot(item.payload))
        held = await self._store.outbox.held_articles(channel.id, HELD_PER_DIGEST)
        rows = tuple(row for row, _article in held)
        articles = await self._articles([article_id for _row, article_id in held])
        stories = await self._store.articles.story_sources({a.story_id for a in articles})
        ranked = rules.gather(articles, stories)
        if not ranked:
            return Digest(_("Nothing new since the last digest."), title=title, rows=rows)
        shown = ranked[:DIGEST_STORIES]
        summaries = await self._summarized([s.lead for s in shown], channel.options.language)
        top, top_summary = shown[0].lead, summaries[0]
        return Digest(
            _text(len(ranked), shown, summaries),
            tuple(_source(story, stories.get(story.lead.story_id, [])) for story in shown),
            title=title,
            rows=rows,
            article_id=top.id,
            poll=self._polls.proposal_for(channel, top.text, top.title, top_summary.poll),
        )

    async def _articles(self, ids: Sequence[int]) -> list[Article]:
        found = [await self._store.articles.get(article_id) for article_id in ids]
        return [a for a in found if a is not None]

    async def _summarized(self, leads: Sequence[Article], language: str) -> list[Summary]:
        slots = asyncio.Semaphore(SUMMARIES_AT_ONCE)

        async def one(article: Article) -> Summary:
            async with slots:
                return await self._summaries.for_article(article, language)

        return list(await asyncio.gather(*(one(a) for a in leads)))


def _title(channel: Channel, slot: float) -> str:
    zone = rules.zone_of(rules.parse_schedule(channel.options.digest))
    when = rules.local_time(slot, zone)
    return _("Digest · {time}").format(time=when if zone == "UTC" else f"{when} ({zone})")


def _text(count: int, shown: Sequence[rules.DigestStory], summaries: Sequence[Summary]) -> str:
    intro = ngettext(
        "{count} story since the last digest.", "{count} stories since the last digest.", count
    ).format(count=count)
    if count > len(shown):
        intro += " " + _("The {shown} told by the most sources:").format(shown=len(shown))
    lines = [f"{rules.one_line(summary)} [{n}]" for n, summary in enumerate(summaries, start=1)]
    return "\n".join([intro, *lines])


def _source(story: rules.DigestStory, tellings: Sequence[Article]) -> Source:
    outlets = list(dict.fromkeys(a.feed_name for a in tellings if a.feed_name))
    shown = ", ".join(outlets[:3]) + (f" +{len(outlets) - 3}" if len(outlets) > 3 else "")
    return Source(story.lead.title, story.lead.url, shown or story.lead.feed_name)

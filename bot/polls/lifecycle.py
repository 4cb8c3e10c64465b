"""The reader-poll lifecycle: open a poll under a post, record votes, close on time on
every platform, post the results with a chart."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence

from bot.errors import DeliveryError, NotFound, UserInputError
from bot.polls.chart import render_chart
from bot.polls.rules import Tally, choose_poll, parse_custom_poll, results_text, tally
from bot.ports import Clock, Platform
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.polls import PollPostRow, PollRepo, PollRow
from bot.types import (
    Channel,
    Message,
    OutboxItem,
    PollCounts,
    PollPolicy,
    PollPost,
    Post,
    Reply,
    ResultsPost,
    Sent,
    VoteEvent,
)
from summarizer.base import PollProposal

log = logging.getLogger(__name__)


def _post_counts(
    post: PollPostRow, votes: Sequence[tuple[int, ...]]
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Which numbers count for one platform poll: its per-user votes, or its platform counts
    (never both). Final counts read back at close win when they show votes we missed."""
    if votes:
        if post.final_counts is not None and sum(post.final_counts) > len(votes):
            return [], [post.final_counts]
        return list(votes), []
    counts = post.final_counts if post.final_counts is not None else post.counts
    return [], [counts] if counts is not None else []


class Polls:
    """Reader polls over the store; platforms are attached once the adapters exist."""

    def __init__(self, store: SqliteStore, clock: Clock) -> None:
        self._store = store
        self._repo = PollRepo(store)
        self._clock = clock
        self._platforms: dict[str, Platform] = {}
        self.changed = asyncio.Event()
        self.recorded = asyncio.Event()  # set after each vote or count is stored

    def attach(self, platforms: Mapping[str, Platform]) -> None:
        """The platforms polls are closed on."""
        self._platforms = dict(platforms)

    # -- posting ---------------------------------------------------------------------------

    @staticmethod
    def proposal_for(
        channel: Channel, text: str, title: str, llm: PollProposal | None
    ) -> PollProposal | None:
        """The poll a post to ``channel`` carries, by the channel's policy."""
        return choose_poll(channel.polls, text, llm, title)

    async def after_sent(
        self, item: OutboxItem, channel: Channel, message: Message, sent: Sent
    ) -> None:
        """Dispatcher hook: queue the poll under an article post; remember platform polls."""
        if isinstance(message, Post) and message.poll is not None and message.article_id:
            close_at = self._clock.now() + channel.poll_duration
            poll_id = await self._repo.create(
                message.article_id, message.poll, "article", close_at, self._clock.now()
            )
            await self._queue_poll(channel, poll_id)
        elif isinstance(message, PollPost):
            await self._repo.add_post(
                message.poll_id,
                channel.id,
                channel.ref.platform,
                sent.poll_id or sent.message_id,
                sent.message_id,
            )

    async def _queue_poll(self, channel: Channel, poll_id: int) -> None:
        payload = json.dumps({"poll_id": poll_id})
        await self._store.enqueue(channel.id, "poll", f"poll:{poll_id}", payload, self._clock.now())
        self.changed.set()

    async def compose(self, item: OutboxItem) -> Message:
        """The message of a 'poll' or 'results' outbox row.

        Raises:
            NotFound: the poll is gone.
        """
        poll = await self._poll(json.loads(item.payload)["poll_id"])
        if item.kind == "poll":
            return PollPost(poll.question, poll.options, poll.close_at, poll.id)
        t = await self.tally(poll)
        png = await asyncio.to_thread(render_chart, t)
        return ResultsPost(Reply(results_text(t), title="Poll results"), png)

    async def _poll(self, poll_id: int) -> PollRow:
        poll = await self._repo.get(poll_id)
        if poll is None:
            raise NotFound(f"There is no poll {poll_id}.")
        return poll

    # -- votes ------------------------------------------------------------------------------

    async def record_vote(self, vote: VoteEvent) -> None:
        """Upsert, replace or retract one reader's vote; repeats change nothing."""
        post = await self._repo.post_by_platform_id(vote.platform, vote.platform_poll_id)
        if post is None:
            log.debug("vote for unknown %s poll %s ignored", vote.platform, vote.platform_poll_id)
            return
        poll = await self._poll(post.poll_id)
        if poll.closed:
            log.info("vote on closed poll %d ignored", poll.id)
            return
        valid = tuple(sorted({i for i in vote.option_ids if 0 <= i < len(poll.options)}))
        await self._repo.set_vote(post, vote.user, valid)
        self.recorded.set()

    async def record_counts(self, counts: PollCounts) -> None:
        """Store a counts-only platform poll's latest counts."""
        post = await self._repo.post_by_platform_id(counts.platform, counts.platform_poll_id)
        if post is None:
            log.warning(
                "counts for unknown %s poll %s ignored", counts.platform, counts.platform_poll_id
            )
            return
        await self._repo.set_counts(post.id, counts.counts, final=False)
        self.recorded.set()

    async def tally(self, poll: PollRow) -> Tally:
        """Results summed over every platform poll."""
        votes = await self._repo.votes(poll.id)
        all_votes: list[tuple[int, ...]] = []
        all_counts: list[tuple[int, ...]] = []
        for post in await self._repo.posts(poll.id):
            v, c = _post_counts(post, votes.get(post.id, []))
            all_votes += v
            all_counts += c
        return tally(poll.question, poll.options, all_votes, all_counts, poll.closed)

    # -- closing ----------------------------------------------------------------------------

    async def close_due(self) -> int:
        """Close every poll past its close time on every platform, then queue the results
        once per chat. Returns the number of polls closed."""
        closed = 0
        for poll_id in await self._repo.due(self._clock.now()):
            await self._close_everywhere(poll_id)
            if await self._repo.mark_closed(poll_id, self._clock.now()):
                closed += 1
                await self._queue_results(poll_id)
        return closed

    async def next_close(self) -> float | None:
        """When the next open poll closes."""
        return await self._repo.next_close()

    async def _close_everywhere(self, poll_id: int) -> None:
        for post in await self._repo.posts(poll_id):
            if post.closed:
                continue
            channel = await self._store.channel(post.channel_id)
            platform = self._platforms.get(post.platform)
            if channel is None or platform is None:
                log.warning(
                    "%s poll %s not closed there: no adapter running",
                    post.platform,
                    post.platform_poll_id,
                )
                await self._repo.mark_post_closed(post.id)
                continue
            await self._close_one(platform, channel, post)

    async def _close_one(self, platform: Platform, channel: Channel, post: PollPostRow) -> None:
        try:
            final = await platform.close_poll(channel.ref, post.message_id)
        except DeliveryError as e:
            log.warning(
                "closing poll in %s failed (%s); closing with what was recorded",
                channel.ref,
                e.reason,
            )
            final = None
        if final is not None:
            await self._repo.set_counts(post.id, tuple(final), final=True)
        await self._repo.mark_post_closed(post.id)

    async def _queue_results(self, poll_id: int) -> None:
        payload = json.dumps({"poll_id": poll_id})
        for post in await self._repo.posts(poll_id):
            await self._store.enqueue(
                post.channel_id, "results", f"results:{poll_id}", payload, self._clock.now()
            )
        self.changed.set()

    # -- commands ---------------------------------------------------------------------------

    async def start_poll(self, channel: Channel, args: str, latest: Post | None) -> Reply:
        """``/poll`` (for the chat's latest post) or ``/poll Q? | A | B`` (custom)."""
        article_id: int | None = None
        if args.strip():
            proposal: PollProposal | None = parse_custom_poll(args)
        elif latest is None or latest.article_id is None:
            raise UserInputError(
                "No post in this chat to poll about yet. Try /poll Question? | A | B"
            )
        else:
            proposal = choose_poll(PollPolicy.ALWAYS, "", None, latest.title)
            article_id = latest.article_id
        if proposal is None:  # ALWAYS gives a poll; kept for the type checker
            raise UserInputError("No poll could be made for that post.")
        now = self._clock.now()
        poll_id = await self._repo.create(
            article_id,
            proposal,
            "custom" if article_id is None else "chat",
            now + channel.poll_duration,
            now,
        )
        await self._queue_poll(channel, poll_id)
        return Reply(f"Poll {poll_id} posted: {proposal.question}")

    async def results(self, channel: Channel | None, args: str) -> Reply:
        """``/results [poll number]``: counts, percentages, voters, open or closed."""
        wanted = args.strip()
        if wanted and not wanted.isdigit():
            raise UserInputError("Usage: /results [poll number]")
        poll_id = int(wanted) if wanted else None
        if poll_id is None and channel is not None:
            poll_id = await self._repo.latest_for_channel(channel.id)
        if poll_id is None:
            raise NotFound("No poll has run in this chat yet.")
        t = await self.tally(await self._poll(poll_id))
        return Reply(results_text(t), title=f"Poll {poll_id}")

"""The reader-poll lifecycle: open a poll under a post, record votes, tally across every
platform, answer ``/poll`` and ``/results``. Closing on the platforms is the
:mod:`closer <bot.polls.closer>`'s."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence

from bot.errors import NotFound, UserInputError
from bot.i18n import _
from bot.metrics import Metrics, NoMetrics
from bot.polls.chart import render_chart
from bot.polls.rules import Tally, choose_poll, parse_custom_poll, results_text, tally
from bot.ports import Clock
from bot.store.ports import Store, poll_row
from bot.types import (
    Article,
    Channel,
    Message,
    OutboxItem,
    OutboxKind,
    PlatformPoll,
    Poll,
    PollCounts,
    PollOrigin,
    PollPolicy,
    PollPost,
    Reply,
    ResultsPost,
    Skip,
    VoteEvent,
)
from summarizer.base import PollProposal

log = logging.getLogger(__name__)

_POLL_NUMBER = re.compile(r"[0-9]{1,12}")  # what /results takes: a poll number, not 10**30
HOLD_VOTES_FOR = 24 * 3600.0  # how long a vote waits for its platform poll to be recorded


def _poll_ref(vote: VoteEvent) -> tuple[str, str]:
    return vote.platform, vote.platform_poll_id[:40]


def _counted(
    platform_poll: PlatformPoll, votes: Sequence[tuple[int, ...]]
) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    """Which numbers count for one platform poll: its per-user votes, or its platform counts
    (never both). Final counts read back at close win when they show votes we missed."""
    final = platform_poll.final_counts
    if votes:
        if final is not None and sum(final) > len(votes):
            return [], [final]
        return list(votes), []
    counts = final if final is not None else platform_poll.counts
    return [], [counts] if counts is not None else []


class Polls:
    """Reader polls over the store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        on_queued: Callable[[], None] = lambda: None,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics or NoMetrics()
        self._clock = clock
        self._on_queued = on_queued  # wakes the dispatcher
        self.changed = asyncio.Event()  # set when a poll was opened or queued
        self.recorded = asyncio.Event()  # set after each vote or count is stored

    @staticmethod
    def proposal_for(
        channel: Channel, text: str, title: str, llm: PollProposal | None
    ) -> PollProposal | None:
        """The poll a post to ``channel`` carries, by the channel's policy. A channel with
        a language of its own takes the LLM's poll, written in it, before the question the
        article asks in its own language."""
        if channel.options.language and llm is not None:
            text = ""
        return choose_poll(channel.polls, text, llm, title)

    async def compose(self, item: OutboxItem, poll: Poll) -> Message | Skip:
        """The message of a poll or results outbox row for ``poll`` (the poll its payload
        names); a poll that closed before it could be posted is not posted."""
        if item.kind is OutboxKind.POLL:
            if poll.closed:
                return Skip(f"poll {poll.id} closed before it could be posted here")
            return PollPost(poll.question, poll.options, poll.close_at, poll.id)
        t = await self.tally(poll)
        png = await asyncio.to_thread(render_chart, t)
        return ResultsPost(Reply(results_text(t), title=_("Poll results")), png)

    async def poll(self, poll_id: int) -> Poll:
        """One poll.

        Raises:
            NotFound: there is no such poll.
        """
        poll = await self._store.polls.get(poll_id)
        if poll is None:
            raise NotFound(_("There is no poll {number}.").format(number=poll_id))
        return poll

    async def queue(self, channel_id: int, kind: OutboxKind, poll_id: int) -> None:
        """Queue a poll (or its results) for a channel, once."""
        key, payload = poll_row(kind, poll_id)
        await self._store.outbox.enqueue(channel_id, kind, key, payload, self._clock.now())
        self.changed.set()
        self._on_queued()

    # -- votes ------------------------------------------------------------------------------

    async def record_vote(self, vote: VoteEvent) -> None:
        """Upsert, replace or retract one reader's vote; repeats change nothing. A vote for
        a platform poll not recorded yet (it can arrive before the send that opened the
        poll is recorded) is held and counted once the poll is recorded."""
        platform_poll = await self._platform_poll_or_hold(vote)
        if platform_poll is None:
            log.debug("vote for %s poll %s held until the poll is recorded", *_poll_ref(vote))
            self.recorded.set()
            return
        poll = await self.poll(platform_poll.poll_id)
        if poll.closed:
            log.info("vote on closed poll %d ignored", poll.id)
            return
        valid = tuple(sorted({i for i in vote.option_ids if 0 <= i < len(poll.options)}))
        await self._store.polls.set_vote(platform_poll, vote.user, valid)
        self._metrics.inc("newsbrief_poll_votes_total", platform=vote.platform)
        self.recorded.set()

    async def _platform_poll_or_hold(self, vote: VoteEvent) -> PlatformPoll | None:
        """The platform poll the vote is for, or None after holding the vote for it."""
        polls = self._store.polls
        found = await polls.platform_poll(vote.platform, vote.platform_poll_id)
        if found is not None:
            return found
        now = self._clock.now()
        return await polls.hold_vote(
            vote.platform,
            vote.platform_poll_id,
            vote.user,
            vote.option_ids,
            now,
            forget_before=now - HOLD_VOTES_FOR,
        )

    async def record_counts(self, counts: PollCounts) -> None:
        """Store a counts-only platform poll's latest counts."""
        polls = self._store.polls
        platform_poll = await polls.platform_poll(counts.platform, counts.platform_poll_id)
        if platform_poll is None:
            log.warning(
                "counts for unknown %s poll %s ignored", counts.platform, counts.platform_poll_id
            )
            return
        await polls.set_counts(platform_poll.id, counts.counts, final=False)
        self.recorded.set()

    async def tally(self, poll: Poll) -> Tally:
        """Results summed over every platform poll."""
        votes = await self._store.polls.votes(poll.id)
        all_votes: list[tuple[int, ...]] = []
        all_counts: list[tuple[int, ...]] = []
        for platform_poll in await self._store.polls.platform_polls(poll.id):
            v, c = _counted(platform_poll, votes.get(platform_poll.id, []))
            all_votes += v
            all_counts += c
        return tally(poll.question, poll.options, all_votes, all_counts, poll.closed)

    # -- commands ---------------------------------------------------------------------------

    async def start_poll(self, channel: Channel, args: str, latest: Article | None) -> Reply:
        """``/poll`` (for the chat's latest post) or ``/poll Q? | A | B`` (custom).

        Raises:
            UserInputError: a malformed custom poll, or no post to poll about.
        """
        proposal, article_id = self._proposal(args, latest)
        now = self._clock.now()
        origin = PollOrigin.CUSTOM if article_id is None else PollOrigin.CHAT
        poll_id = await self._store.polls.create(
            article_id, proposal, origin, now + channel.poll_duration, now
        )
        await self.queue(channel.id, OutboxKind.POLL, poll_id)
        return Reply(
            _("Poll {number} posted: {question}").format(number=poll_id, question=proposal.question)
        )

    @staticmethod
    def _proposal(args: str, latest: Article | None) -> tuple[PollProposal, int | None]:
        if args.strip():
            return parse_custom_poll(args), None
        if latest is None:
            raise UserInputError(
                _("No post in this chat to poll about yet. Try /poll Question? | A | B")
            )
        proposal = choose_poll(PollPolicy.ALWAYS, "", None, latest.title)
        if proposal is None:  # ALWAYS gives a poll; kept for the type checker
            raise UserInputError(_("No poll could be made for that post."))
        return proposal, latest.id

    async def results(self, channel: Channel | None, args: str) -> Reply:
        """``/results [poll number]``: counts, percentages, voters, open or closed.

        Raises:
            UserInputError: the argument is not a poll number.
            NotFound: no such poll, or none ran in this chat.
        """
        wanted = args.strip()
        if wanted and not _POLL_NUMBER.fullmatch(wanted):
            raise UserInputError(_("Usage: /results [poll number]"))
        poll_id = int(wanted) if wanted else None
        if poll_id is None and channel is not None:
            poll_id = await self._store.polls.latest_for_channel(channel.id)
        if poll_id is None:
            raise NotFound(_("No poll has run in this chat yet."))
        t = await self.tally(await self.poll(poll_id))
        return Reply(results_text(t), title=_("Poll {number}").format(number=poll_id))

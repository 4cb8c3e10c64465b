"""Reader polls: proposals (pure), integrity of votes, closing after restart, the chart."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.service import Service
from bot.clock import ManualClock
from bot.errors import UserInputError
from bot.polls.chart import HEIGHT_PX, WIDTH_PX, build_figure, render_chart
from bot.polls.rules import (
    choose_poll,
    parse_custom_poll,
    propose_from_article,
    results_text,
    tally,
    valid_proposal,
)
from bot.store.sqlite import SqliteStore
from bot.types import (
    ChatRef,
    Command,
    FeedOrigin,
    FeedUpdate,
    Message,
    PollCounts,
    PollPolicy,
    PollPost,
    ResultsPost,
    Routed,
    Sent,
    Subscription,
    VoteEvent,
)
from summarizer.base import PollProposal
from tests.bot.helpers import CoreParts, article, core, make_feed
from tests.conftest import corpus_or_skip
from tests.fakes.platform import FakePlatform

SEED_QUESTION = (
    "Do you think it is right or wrong for the Trump administration to be so involved in Venezuela?"
)


def test_seed_article_gives_right_wrong_not_sure() -> None:
    """The article newsbrief was specified from yields its own question, Right/Wrong/Not sure."""
    text = corpus_or_skip("seed", "russia-venezuela.txt").read_text(encoding="utf-8")
    proposal = propose_from_article(text)
    assert proposal == PollProposal(SEED_QUESTION, ("Right", "Wrong", "Not sure"))


@pytest.mark.parametrize(
    ("ending", "options"),
    [
        ("Should schools ban phones for the whole day?", ("Yes", "No", "Not sure")),
        ("Would you rather take the bus or the train?", ("The bus", "The train", "Not sure")),
        ("Will prices rise or fall?", ("Rise", "Fall", "Not sure")),
    ],
)
def test_question_forms(ending: str, options: tuple[str, ...]) -> None:
    """Yes/no and A-or-B questions at the end of an article give matching options."""
    proposal = propose_from_article(f"Some news happened today.\n\n{ending}")
    assert proposal is not None and proposal.options == options


def test_no_reader_question_no_poll_in_auto() -> None:
    """No question to readers and no LLM proposal: no poll in auto; one in always."""
    text = "The council met. Why? Nobody knows, the mayor said."
    assert choose_poll(PollPolicy.AUTO, text, None, "Council") is None
    assert choose_poll(PollPolicy.ALWAYS, text, None, "Council") is not None
    assert choose_poll(PollPolicy.NEVER, f"x\n\n{SEED_QUESTION}", None, "t") is None


def test_llm_proposal_used_when_valid() -> None:
    """An LLM poll is used in auto when the article asks nothing; one with a link is not."""
    good = PollProposal("Is this plan fair?", ("Yes", "No"))
    bad = PollProposal("Vote at https://evil.example", ("Yes", "No"))
    assert choose_poll(PollPolicy.AUTO, "x", good, "t") == good
    assert choose_poll(PollPolicy.AUTO, "x", bad, "t") is None


def test_custom_poll_parsing() -> None:
    """/poll Question? | A | B parses; junk gets a usage message."""
    assert parse_custom_poll("Tea or coffee? | Tea | Coffee").options == ("Tea", "Coffee")
    for junk in ("", "Only a question?", "Q? | one", "Q? | a | a", "Q? | " + "x" * 60 + " | b"):
        with pytest.raises(UserInputError):
            parse_custom_poll(junk)


@given(st.text(max_size=400), st.lists(st.text(max_size=80), max_size=12))
def test_valid_proposal_always_fits_both_platforms(question: str, options: list[str]) -> None:
    """Whatever comes in, a proposal that passes fits Telegram's and Discord's limits."""
    proposal = valid_proposal(PollProposal(question, tuple(options)))
    if proposal is not None:
        assert 0 < len(proposal.question) <= 300
        assert 2 <= len(proposal.options) <= 10
        assert all(0 < len(o) <= 55 for o in proposal.options)


def test_tally_and_text() -> None:
    """Votes and counts-only polls add up; the text shows counts and percentages."""
    t = tally("Q?", ["Yes", "No"], [(0,), (1,), (0,)], [(1, 0)], closed=True)
    assert t.counts == (3, 1) and t.total == 4
    text = results_text(t)
    assert "75.0%" in text and "4 votes · poll closed" in text


def test_chart_has_one_bar_per_option() -> None:
    """The chart PNG decodes at the expected size and the figure has one bar per option."""
    from matplotlib.image import imread

    t = tally("Right or wrong?", ["Right", "Wrong", "Not sure"], [(0,), (0,), (1,)], [], True)
    figure = build_figure(t)
    bars = figure.axes[0].patches
    assert len(bars) == 3
    assert [bar.get_width() for bar in bars] == [2, 1, 0]
    image = imread(io.BytesIO(render_chart(t)), format="png")
    assert image.shape[:2] == (HEIGHT_PX, WIDTH_PX)


# -- the lifecycle through the service and the dispatcher ----------------------------------

GROUP = ChatRef("fake", "group")
CHANNEL = ChatRef("fake", "channel")


async def _setup(
    store: SqliteStore, clock: ManualClock, platform: FakePlatform | None = None
) -> CoreParts:
    feed = await make_feed(store)
    channels = [
        await store.channels.upsert(
            ref,
            origin=FeedOrigin.CONFIG,
            subscription=Subscription(),
            polls=PollPolicy.AUTO,
            poll_duration=3600,
            now=clock.now(),
        )
        for ref in (GROUP, CHANNEL)
    ]
    text = f"Russia sent planes to Venezuela. The US objected.\n\n{SEED_QUESTION}"
    routed = [Routed(article(feed, 1, text, "Planes in Venezuela"), tuple(c.id for c in channels))]
    await store.articles.save_ingest(FeedUpdate(feed.id, clock.now(), 0), routed)
    return core(store, clock, platform=platform)


def _poll_ids(platform: FakePlatform) -> dict[str, str]:
    ids = {}
    for index, (chat, message, _) in enumerate(platform.sent, start=1):
        if isinstance(message, PollPost):
            ids[chat.chat_id] = f"poll-fake-{index}"
    return ids


async def test_post_carries_poll_and_votes_are_counted_once(
    store: SqliteStore, clock: ManualClock
) -> None:
    """The seed-like post gets its poll in both chats; votes, changes, retractions and
    duplicate deliveries count once; a counts-only chat adds its counts."""
    parts = await _setup(store, clock)
    service, platform = parts.service, parts.platform
    await parts.dispatcher.drain()
    polls = [m for _, m, _ in platform.sent if isinstance(m, PollPost)]
    assert [p.options for p in polls] == [("Right", "Wrong", "Not sure")] * 2
    ids = _poll_ids(platform)
    for vote in [
        VoteEvent("fake", ids["group"], "alice", (0,)),
        VoteEvent("fake", ids["group"], "alice", (0,)),  # duplicate delivery
        VoteEvent("fake", ids["group"], "bob", (0,)),
        VoteEvent("fake", ids["group"], "bob", (1,)),  # changed
        VoteEvent("fake", ids["group"], "carol", (2,)),
        VoteEvent("fake", ids["group"], "carol", ()),  # retracted
    ]:
        await service.record_vote(vote)
    await service.record_counts(PollCounts("fake", ids["channel"], (4, 0, 1)))
    await service.record_counts(PollCounts("fake", ids["channel"], (5, 0, 1)))  # latest wins
    reply = await service.handle(Command("results", "", GROUP, "x", False))
    assert "6  " in reply.text or " 6 " in reply.text
    assert "8 votes · poll open" in reply.text


class _VotesBeforeTheAnswer(FakePlatform):
    """A platform that delivers readers' votes on a poll before its send has returned,
    as Telegram can: the votes reach the core before the poll is recorded."""

    voters: tuple[str, ...] = ()
    service: Service | None = None

    async def send(self, chat: ChatRef, message: Message, nonce: str) -> Sent:
        sent = await super().send(chat, message, nonce)
        if isinstance(message, PollPost) and chat == GROUP and self.service is not None:
            for voter in self.voters:
                await self.service.record_vote(VoteEvent("fake", sent.poll_id, voter, (1,)))
        return sent


async def test_votes_that_race_the_poll_being_recorded_all_count(
    store: SqliteStore, clock: ManualClock
) -> None:
    """Twenty votes delivered before the poll's send is recorded are held, then counted
    when the poll is recorded: none is lost."""
    racing = _VotesBeforeTheAnswer()
    racing.voters = tuple(f"reader{i}" for i in range(20))
    parts = await _setup(store, clock, platform=racing)
    racing.service = parts.service
    await parts.dispatcher.drain()
    reply = await parts.service.handle(Command("results", "", GROUP, "x", False))
    assert "20 votes · poll open" in reply.text


async def test_poll_closes_after_restart_and_results_post_once(
    tmp_path: Path, clock: ManualClock
) -> None:
    """A poll open at shutdown is closed on every platform after restart and its results
    (text and chart) are posted once per chat."""
    db = tmp_path / "polls.db"
    store = await SqliteStore.open(db)
    parts = await _setup(store, clock)
    await parts.dispatcher.drain()
    ids = _poll_ids(parts.platform)
    await parts.service.record_vote(VoteEvent("fake", ids["group"], "alice", (1,)))
    await store.close()

    await clock.advance(7200)
    store = await SqliteStore.open(db)
    after = core(store, clock)
    assert await after.closer.close_due() == 1
    assert await after.closer.close_due() == 0
    await after.dispatcher.drain()
    await after.dispatcher.drain()
    assert len(after.platform.closed) == 2
    results = [m for _, m, _ in after.platform.sent if isinstance(m, ResultsPost)]
    assert len(results) == 2
    assert results[0].chart_png.startswith(b"\x89PNG")
    assert "1 vote · poll closed" in results[0].reply.text
    await store.close()


async def test_custom_poll_needs_admin_and_valid_form(
    store: SqliteStore, clock: ManualClock
) -> None:
    """/poll by a non-admin is refused; a junk custom poll gets usage; a good one is queued."""
    parts = await _setup(store, clock)
    service, platform, dispatcher = parts.service, parts.platform, parts.dispatcher
    assert not (await service.handle(Command("poll", "Q? | A | B", GROUP, "u", False))).ok
    assert not (await service.handle(Command("poll", "Q? | A", GROUP, "u", True))).ok
    reply = await service.handle(Command("poll", "Tea or coffee? | Tea | Coffee", GROUP, "u", True))
    assert reply.ok
    await dispatcher.drain()
    custom = [m for c, m, _ in platform.sent if isinstance(m, PollPost) and c == GROUP]
    assert "Tea or coffee?" in [p.question for p in custom]


_PARTS = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="|"), max_size=70)


@settings(deadline=None)  # a busy CI machine must not fail a pure property
@given(st.one_of(st.text(max_size=600), st.lists(_PARTS, max_size=12).map(" | ".join)))
def test_any_custom_poll_argument_is_a_poll_of_its_parts_or_a_usage_line(args: str) -> None:
    """/poll with any text: a UserInputError saying what a poll needs, or a poll whose
    question and options are exactly the text's |-separated parts, within both platforms'
    limits."""
    try:
        proposal = parse_custom_poll(args)
    except UserInputError as e:
        assert 0 < len(str(e)) <= 200
        return
    assert [proposal.question, *proposal.options] == [p.strip() for p in args.split("|")]
    assert len(proposal.question) <= 300 and 2 <= len(proposal.options) <= 10
    assert all(0 < len(o) <= 55 for o in proposal.options)

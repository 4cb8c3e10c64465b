"""Store contract: reader polls, platform polls and votes."""

from __future__ import annotations

from bot.store.ports import Store
from bot.types import Delivered, OutboxKind, PollOrigin
from summarizer.base import PollProposal
from tests.bot.helpers import make_channel, make_feed, store_articles

NOW = 1_000.0
PROPOSAL = PollProposal("Tea or coffee?", ("Tea", "Coffee", "Not sure"))


async def _article(store: Store) -> int:
    feed = await make_feed(store)
    [article_id] = await store_articles(store, feed, [], range(1, 2), NOW)
    return article_id


async def test_one_poll_per_article_and_custom_polls(any_store: Store) -> None:
    """An article's poll is created once whatever is asked later; a poll without an
    article is new each time; a poll reads back with its options."""
    article_id = await _article(any_store)
    first = await any_store.polls.create(article_id, PROPOSAL, PollOrigin.ARTICLE, NOW + 60, NOW)
    other = PollProposal("Other?", ("A", "B"))
    assert await any_store.polls.create(article_id, other, PollOrigin.CHAT, NOW, NOW) == first
    custom = await any_store.polls.create(None, other, PollOrigin.CUSTOM, NOW + 10, NOW)
    assert custom != first
    poll = await any_store.polls.get(first)
    assert poll is not None
    assert (poll.article_id, poll.question, poll.options, poll.close_at, poll.closed) == (
        article_id,
        PROPOSAL.question,
        PROPOSAL.options,
        NOW + 60,
        False,
    )
    assert await any_store.polls.get(999) is None


async def test_platform_polls_votes_and_counts(any_store: Store) -> None:
    """Platform polls are found by platform id; a vote per (poll, platform, user) is
    replaced or retracted; counts keep the latest, final counts close the poll there."""
    a, b = await make_channel(any_store, "a"), await make_channel(any_store, "b")
    poll_id = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 60, NOW)
    await any_store.polls.add_platform_poll(poll_id, a.id, "fake", "pa", "ma")
    await any_store.polls.add_platform_poll(poll_id, a.id, "fake", "pa2", "ma2")  # once per chat
    await any_store.polls.add_platform_poll(poll_id, b.id, "fake", "pb", "mb")
    pa = await any_store.polls.platform_poll("fake", "pa")
    pb = await any_store.polls.platform_poll("fake", "pb")
    assert pa is not None and pb is not None
    assert (pa.poll_id, pa.channel_id, pa.message_id, pa.closed) == (poll_id, a.id, "ma", False)
    assert await any_store.polls.platform_poll("fake", "pa2") is None
    assert [p.id for p in await any_store.polls.platform_polls(poll_id)] == [pa.id, pb.id]
    await any_store.polls.set_vote(pa, "alice", (0,))
    await any_store.polls.set_vote(pa, "alice", (1,))  # changed
    await any_store.polls.set_vote(pa, "bob", (0,))
    await any_store.polls.set_vote(pa, "carol", (2,))
    await any_store.polls.set_vote(pa, "carol", ())  # retracted
    assert {k: sorted(v) for k, v in (await any_store.polls.votes(poll_id)).items()} == {
        pa.id: [(0,), (1,)]
    }
    await any_store.polls.set_counts(pb.id, (1, 2, 0), final=False)
    await any_store.polls.set_counts(pb.id, (3, 2, 0), final=False)
    await any_store.polls.set_counts(pb.id, (4, 2, 1), final=True)
    counted = await any_store.polls.platform_poll("fake", "pb")
    assert counted is not None
    assert (counted.counts, counted.final_counts, counted.closed) == ((3, 2, 0), (4, 2, 1), True)
    await any_store.polls.mark_platform_poll_closed(pa.id)
    closed = await any_store.polls.platform_poll("fake", "pa")
    assert closed is not None and closed.closed


async def test_due_next_close_and_closing_once(any_store: Store) -> None:
    """Due polls are the open ones past their time; a poll is closed once."""
    assert await any_store.polls.next_close() is None
    early = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 10, NOW)
    late = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 99, NOW)
    assert await any_store.polls.next_close() == NOW + 10
    assert await any_store.polls.due(NOW + 50) == [early]
    assert await any_store.polls.mark_closed(early, NOW + 50)
    assert not await any_store.polls.mark_closed(early, NOW + 51)
    closed = await any_store.polls.get(early)
    assert closed is not None and closed.closed_at == NOW + 50
    assert await any_store.polls.due(NOW + 100) == [late]
    assert await any_store.polls.next_close() == NOW + 99


async def test_sent_poll_row_records_its_platform_poll(any_store: Store) -> None:
    """Marking a poll row sent remembers the platform poll for its reader poll, in the
    same step; the channel's latest poll is then that one."""
    channel = await make_channel(any_store, "a")
    poll_id = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 60, NOW)
    assert await any_store.polls.latest_for_channel(channel.id) is None
    await any_store.outbox.enqueue(channel.id, OutboxKind.POLL, "poll:x", "{}", NOW)
    [item] = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    await any_store.outbox.mark_sent(item.id, Delivered("m9", "p9", poll_id=poll_id), NOW)
    recorded = await any_store.polls.platform_poll("fake", "p9")
    assert recorded is not None
    assert (recorded.poll_id, recorded.channel_id, recorded.message_id) == (
        poll_id,
        channel.id,
        "m9",
    )
    assert await any_store.polls.latest_for_channel(channel.id) == poll_id


async def test_one_vote_per_reader_across_a_platforms_polls(any_store: Store) -> None:
    """A reader voting in two chats of one platform on the same reader poll counts once
    (the latest vote); a retraction anywhere removes it."""
    a, b = await make_channel(any_store, "a"), await make_channel(any_store, "b")
    poll_id = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 60, NOW)
    await any_store.polls.add_platform_poll(poll_id, a.id, "fake", "pa", "ma")
    await any_store.polls.add_platform_poll(poll_id, b.id, "fake", "pb", "mb")
    await any_store.polls.add_platform_poll(poll_id, b.id, "other", "pa", "mc")  # taken
    pa = await any_store.polls.platform_poll("fake", "pa")
    pb = await any_store.polls.platform_poll("fake", "pb")
    assert pa is not None and pb is not None
    await any_store.polls.set_vote(pa, "alice", (0,))
    await any_store.polls.set_vote(pb, "alice", (1,))
    assert dict(await any_store.polls.votes(poll_id)) == {pb.id: [(1,)]}
    await any_store.polls.set_vote(pa, "alice", ())
    assert dict(await any_store.polls.votes(poll_id)) == {}


async def test_due_polls_earliest_first(any_store: Store) -> None:
    """Due polls come earliest close first."""
    late = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 30, NOW)
    early = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 10, NOW)
    assert await any_store.polls.due(NOW + 60) == [early, late]


async def test_votes_held_before_the_platform_poll_is_recorded_are_attached(
    any_store: Store,
) -> None:
    """Votes for a platform poll not recorded yet are held (the latest per user, a
    retraction included) and become votes when it is recorded; options the poll does not
    have are dropped."""
    channel = await make_channel(any_store, "a")
    poll_id = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 60, NOW)
    polls = any_store.polls
    for user, options in [("alice", (0,)), ("alice", (1,)), ("bob", (2, 7)), ("carol", (0,))]:
        assert await polls.hold_vote("fake", "p1", user, options, NOW, forget_before=0) is None
    assert await polls.hold_vote("fake", "p1", "carol", (), NOW, forget_before=0) is None
    assert dict(await polls.votes(poll_id)) == {}
    await polls.add_platform_poll(poll_id, channel.id, "fake", "p1", "m1")
    recorded = await polls.platform_poll("fake", "p1")
    assert recorded is not None
    assert {k: sorted(v) for k, v in (await polls.votes(poll_id)).items()} == {
        recorded.id: [(1,), (2,)]
    }


async def test_a_vote_for_a_recorded_platform_poll_is_not_held(any_store: Store) -> None:
    """Once the platform poll is recorded, hold_vote holds nothing and returns it, so the
    caller records the vote; recording the poll again attaches nothing twice."""
    channel = await make_channel(any_store, "a")
    poll_id = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 60, NOW)
    await any_store.polls.add_platform_poll(poll_id, channel.id, "fake", "p1", "m1")
    found = await any_store.polls.hold_vote("fake", "p1", "alice", (0,), NOW, forget_before=0)
    assert found is not None and found.poll_id == poll_id
    await any_store.polls.add_platform_poll(poll_id, channel.id, "fake", "p1", "m1")
    assert dict(await any_store.polls.votes(poll_id)) == {}


async def test_held_votes_attach_when_the_poll_row_is_marked_sent(any_store: Store) -> None:
    """A poll row marked sent records its platform poll and the votes held for it in the
    same step; votes held for another platform or poll id stay held."""
    channel = await make_channel(any_store, "a")
    poll_id = await any_store.polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 60, NOW)
    await any_store.polls.hold_vote("fake", "p9", "alice", (0,), NOW, forget_before=0)
    await any_store.polls.hold_vote("other", "p9", "bob", (1,), NOW, forget_before=0)
    await any_store.outbox.enqueue(channel.id, OutboxKind.POLL, "poll:x", "{}", NOW)
    [item] = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    await any_store.outbox.mark_sent(item.id, Delivered("m9", "p9", poll_id=poll_id), NOW)
    recorded = await any_store.polls.platform_poll("fake", "p9")
    assert recorded is not None
    assert dict(await any_store.polls.votes(poll_id)) == {recorded.id: [(0,)]}


async def test_old_held_votes_are_forgotten_and_closed_polls_take_none(any_store: Store) -> None:
    """Held votes received before ``forget_before`` are forgotten; a closed poll takes no
    held vote; a recent held vote still counts."""
    channel = await make_channel(any_store, "a")
    polls = any_store.polls
    first, second, closed = [
        await polls.create(None, PROPOSAL, PollOrigin.CUSTOM, NOW + 60, NOW) for _ in range(3)
    ]
    await polls.hold_vote("fake", "old", "alice", (0,), NOW, forget_before=0)
    await polls.hold_vote("fake", "late", "bob", (0,), NOW + 100, forget_before=NOW + 50)
    await polls.hold_vote("fake", "new", "carol", (1,), NOW + 100, forget_before=NOW + 50)
    await polls.mark_closed(closed, NOW + 100)
    await polls.add_platform_poll(first, channel.id, "fake", "old", "m1")
    await polls.add_platform_poll(closed, channel.id, "fake", "late", "m2")
    await polls.add_platform_poll(second, channel.id, "fake", "new", "m3")
    assert dict(await polls.votes(first)) == {}
    assert dict(await polls.votes(closed)) == {}
    assert [v for v in (await polls.votes(second)).values()] == [[(1,)]]

"""Store contract: the durable outbox."""

from __future__ import annotations

from bot.store.ports import Store, poll_of
from bot.types import (
    Channel,
    Delivered,
    OpenPoll,
    OutboxCounts,
    OutboxKind,
    OutboxState,
)
from summarizer.base import PollProposal
from tests.bot.helpers import make_channel, make_feed, store_articles

NOW = 1_000.0
PROPOSAL = PollProposal("Right or wrong?", ("Right", "Wrong"))


async def _setup(store: Store, chats: tuple[str, ...] = ("a",), articles: int = 3) -> list[Channel]:
    feed = await make_feed(store)
    channels = [await make_channel(store, chat) for chat in chats]
    await store_articles(store, feed, channels, range(1, articles + 1), NOW)
    return channels


async def test_enqueue_once_per_key(any_store: Store) -> None:
    """A (channel, key) pair is queued once, ever."""
    [channel] = await _setup(any_store, articles=0)
    assert await any_store.outbox.enqueue(channel.id, OutboxKind.ARTICLE, "k", "", NOW)
    assert not await any_store.outbox.enqueue(channel.id, OutboxKind.ARTICLE, "k", "x", NOW)
    assert len(await any_store.outbox.rows()) == 1


async def test_claim_takes_each_channels_head_in_order(any_store: Store) -> None:
    """Each channel's oldest row is claimed, one in flight per channel; the next comes
    only once the head is sent."""
    a, b = await _setup(any_store, ("a", "b"))
    first = await any_store.outbox.claim_due(NOW, 10, platforms=["fake"])
    assert sorted(i.channel_id for i in first) == [a.id, b.id]
    assert {i.article_id for i in first} == {(await any_store.articles.latest(3))[-1].id}
    assert await any_store.outbox.claim_due(NOW, 10, platforms=["fake"]) == []
    await any_store.outbox.mark_sent(first[0].id, Delivered("m1"), NOW)
    [second] = await any_store.outbox.claim_due(NOW, 10, platforms=["fake"])
    assert second.channel_id == first[0].channel_id and second.id > first[0].id


async def test_claim_skips_paused_held_busy_and_other_platforms(any_store: Store) -> None:
    """Paused, held and busy channels and channels of other platforms are not claimed."""
    paused, held, busy, free = await _setup(any_store, ("p", "h", "b", "f"), articles=1)
    await any_store.channels.set_paused(paused.id, "kicked")
    await any_store.channels.hold_until(held.id, NOW + 60)
    claimed = await any_store.outbox.claim_due(NOW, 10, busy=[busy.id], platforms=["fake"])
    assert [i.channel_id for i in claimed] == [free.id]
    assert await any_store.outbox.claim_due(NOW, 10, platforms=["telegram"]) == []
    later = await any_store.outbox.claim_due(NOW + 60, 10, platforms=["fake"])
    assert sorted(i.channel_id for i in later) == sorted([held.id, busy.id])


async def test_poll_row_jumps_the_queue(any_store: Store) -> None:
    """A poll row is its channel's head, so it sits right under the post it belongs to."""
    [channel] = await _setup(any_store)
    [post] = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    opening = OpenPoll(post.article_id or 0, PROPOSAL, NOW + 3600)
    await any_store.outbox.mark_sent(post.id, Delivered("m1", opens_poll=opening), NOW)
    [head] = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    assert head.kind is OutboxKind.POLL and head.channel_id == channel.id
    poll = await any_store.polls.get(poll_of(head.payload))
    assert poll is not None and poll.article_id == post.article_id
    assert (poll.question, poll.options, poll.close_at) == (
        PROPOSAL.question,
        PROPOSAL.options,
        NOW + 3600,
    )


async def test_next_due_looks_only_at_rows_it_could_claim(any_store: Store) -> None:
    """The next due time is that of a head row: a later row due earlier behind a head
    that waits does not count, and a channel in flight or paused has none."""
    a, b = await _setup(any_store, ("a", "b"), articles=2)
    assert await any_store.outbox.next_due(["fake"]) == NOW
    heads = await any_store.outbox.claim_due(NOW, 10, platforms=["fake"])
    assert await any_store.outbox.next_due(["fake"]) is None  # both heads in flight
    for item in heads:
        await any_store.outbox.mark_retry(item.id, "HTTP 500", NOW + 300, True)
    assert await any_store.outbox.next_due(["fake"]) == NOW + 300
    await any_store.channels.hold_until(a.id, NOW + 900)
    await any_store.channels.set_paused(b.id, "kicked")
    assert await any_store.outbox.next_due(["fake"]) == NOW + 900
    assert await any_store.outbox.next_due(["telegram"]) is None


async def test_retry_dead_and_sent_states(any_store: Store) -> None:
    """A retry is pending again with its reason (counted or not); dead counts an attempt
    and keeps its reason; sent keeps the platform's ids and a note if any."""
    await _setup(any_store, ("a", "b", "c"), articles=1)
    one, two, three = await any_store.outbox.claim_due(NOW, 10, platforms=["fake"])
    await any_store.outbox.mark_retry(one.id, "429", NOW + 30, False)
    await any_store.outbox.mark_retry(two.id, "HTTP 502", NOW + 15, True)
    await any_store.outbox.mark_dead(two.id, "HTTP 502 again")
    await any_store.outbox.mark_sent(three.id, Delivered("m3", "p3", note="heads-up"), NOW)
    rows = {r.id: r for r in await any_store.outbox.rows()}
    assert (rows[one.id].state, rows[one.id].attempts, rows[one.id].last_error) == (
        OutboxState.PENDING,
        0,
        "429",
    )
    assert (rows[two.id].state, rows[two.id].attempts, rows[two.id].last_error) == (
        OutboxState.DEAD,
        2,
        "HTTP 502 again",
    )
    sent = rows[three.id]
    assert (sent.state, sent.message_id, sent.platform_poll_id, sent.last_error) == (
        OutboxState.SENT,
        "m3",
        "p3",
        "heads-up",
    )


async def test_recover_puts_in_flight_rows_back(any_store: Store) -> None:
    """After a crash, rows in flight are pending again; sent rows stay sent."""
    await _setup(any_store, ("a", "b"), articles=1)
    one, two = await any_store.outbox.claim_due(NOW, 10, platforms=["fake"])
    await any_store.outbox.mark_sent(one.id, Delivered("m1"), NOW)
    assert await any_store.outbox.recover_in_flight() == 1
    states = {r.id: r.state for r in await any_store.outbox.rows()}
    assert states == {one.id: OutboxState.SENT, two.id: OutboxState.PENDING}


async def test_rows_counts_and_latest_sent_article(any_store: Store) -> None:
    """Rows filter by channel and state in the store, newest ``limit`` still oldest
    first; counts group waiting (pending and in flight), sent and dead."""
    a, b = await _setup(any_store, ("a", "b"))
    assert await any_store.outbox.latest_sent_article(a.id) is None
    items = await any_store.outbox.claim_due(NOW, 10, platforms=["fake"])
    item_a = next(i for i in items if i.channel_id == a.id)
    await any_store.outbox.mark_sent(item_a.id, Delivered("m"), NOW)
    assert await any_store.outbox.latest_sent_article(a.id) == item_a.article_id
    for _ in range(2):
        [head] = await any_store.outbox.claim_due(NOW, 1, busy=[b.id], platforms=["fake"])
        await any_store.outbox.mark_dead(head.id, f"dead {head.id}")
    dead = await any_store.outbox.rows(a.id, state=OutboxState.DEAD)
    assert [r.last_error for r in dead] == [f"dead {r.id}" for r in dead] and len(dead) == 2
    newest = await any_store.outbox.rows(a.id, state=OutboxState.DEAD, limit=1)
    assert [r.id for r in newest] == [dead[-1].id]
    assert [r.channel_id for r in await any_store.outbox.rows(b.id)] == [b.id] * 3
    assert await any_store.outbox.counts(a.id) == OutboxCounts(waiting=0, sent=1, dead=2)
    assert await any_store.outbox.counts() == OutboxCounts(waiting=3, sent=1, dead=2)


async def test_a_channel_with_a_row_in_flight_gets_nothing_more(any_store: Store) -> None:
    """While a channel has a row in flight nothing else of it is claimed or due, not even
    a poll row queued meanwhile."""
    [channel] = await _setup(any_store, articles=1)
    [item] = await any_store.outbox.claim_due(NOW, 5, platforms=["fake"])
    await any_store.outbox.enqueue(channel.id, OutboxKind.POLL, "poll:1", "{}", NOW)
    assert await any_store.outbox.claim_due(NOW, 5, platforms=["fake"]) == []
    assert await any_store.outbox.next_due(["fake"]) is None
    await any_store.outbox.mark_sent(item.id, Delivered("m"), NOW)
    [poll] = await any_store.outbox.claim_due(NOW, 5, platforms=["fake"])
    assert poll.kind is OutboxKind.POLL


async def test_a_head_not_yet_due_holds_back_its_channel(any_store: Store) -> None:
    """Rows wait behind their channel's head until it is due; due heads are claimed the
    earliest first, at most ``limit`` of them."""
    a, b, c = await _setup(any_store, ("a", "b", "c"), articles=2)
    heads = await any_store.outbox.claim_due(NOW, 5, platforms=["fake"])
    by_channel = {i.channel_id: i for i in heads}
    await any_store.outbox.mark_retry(by_channel[a.id].id, "later", NOW + 100, True)
    await any_store.outbox.mark_retry(by_channel[b.id].id, "soon", NOW + 50, True)
    await any_store.outbox.mark_retry(by_channel[c.id].id, "sooner", NOW + 20, True)
    assert await any_store.outbox.claim_due(NOW + 10, 5, platforms=["fake"]) == []
    claimed = await any_store.outbox.claim_due(NOW + 200, 2, platforms=["fake"])
    assert [i.channel_id for i in claimed] == [c.id, b.id]
    assert [i.id for i in claimed] == [by_channel[c.id].id, by_channel[b.id].id]


async def test_a_key_is_queued_once_ever(any_store: Store) -> None:
    """A (channel, key) pair sent or dead is never queued again."""
    [channel] = await _setup(any_store, articles=0)
    await any_store.outbox.enqueue(channel.id, OutboxKind.ARTICLE, "k1", "", NOW)
    await any_store.outbox.enqueue(channel.id, OutboxKind.ARTICLE, "k2", "", NOW)
    (one,) = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    await any_store.outbox.mark_sent(one.id, Delivered("m"), NOW)
    (two,) = await any_store.outbox.claim_due(NOW, 1, platforms=["fake"])
    await any_store.outbox.mark_dead(two.id, "gone")
    for key in ("k1", "k2"):
        assert not await any_store.outbox.enqueue(channel.id, OutboxKind.ARTICLE, key, "", NOW)
    assert len(await any_store.outbox.rows()) == 2


async def test_one_poll_per_article_whatever_the_channel(any_store: Store) -> None:
    """The same article's post sent in two channels opens one reader poll, queued in each;
    recording a sent row again, or an unknown row, changes nothing."""
    a, b = await _setup(any_store, ("a", "b"), articles=1)
    items = await any_store.outbox.claim_due(NOW, 5, platforms=["fake"])
    for item in items:
        opening = OpenPoll(item.article_id or 0, PROPOSAL, NOW + 60)
        await any_store.outbox.mark_sent(item.id, Delivered("m", opens_poll=opening), NOW)
        await any_store.outbox.mark_sent(item.id, Delivered("m", opens_poll=opening), NOW)
    await any_store.outbox.mark_sent(9999, Delivered("x"), NOW)
    polls = await any_store.outbox.claim_due(NOW, 5, platforms=["fake"])
    assert sorted(p.channel_id for p in polls) == [a.id, b.id]
    assert {poll_of(p.payload) for p in polls} == {poll_of(polls[0].payload)}
    assert len(await any_store.outbox.rows()) == 4


async def test_state_counts_by_platform(any_store: Store) -> None:
    """Rows are counted per platform and state; claimed rows carry when they were queued."""
    await _setup(any_store, ("a", "b"), articles=2)
    items = await any_store.outbox.claim_due(NOW + 5, 5, platforms=["fake"])
    assert {i.created_at for i in items} == {NOW}
    await any_store.outbox.mark_sent(items[0].id, Delivered("m"), NOW)
    assert await any_store.outbox.state_counts() == {
        ("fake", OutboxState.PENDING): 2,
        ("fake", OutboxState.SENDING): 1,
        ("fake", OutboxState.SENT): 1,
    }

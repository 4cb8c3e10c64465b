"""Store contract: channel filters, digest settings, held article rows and digest rows."""

from __future__ import annotations

from bot.store.ports import Store, digest_row, digest_slot
from bot.types import (
    ChannelOptions,
    ChatRef,
    Delivered,
    FeedOrigin,
    FeedUpdate,
    Filters,
    OpenPoll,
    OutboxCounts,
    OutboxKind,
    OutboxState,
    Routed,
    Subscription,
)
from summarizer.base import PollProposal
from tests.bot.helpers import article, make_channel, make_feed

NOW = 1_000.0
REF = ChatRef("fake", "d")


async def test_patterns_options_and_chat_filters_are_kept_apart(any_store: Store) -> None:
    """The operator's patterns come with the subscription, the chat's with
    set_chat_filters, the digest and languages with configure; a new subscription
    replaces only the operator's patterns."""
    sub = Subscription(patterns=Filters(("(?i)oil",), ("sport",)))
    channel = await any_store.channels.upsert(
        REF, origin=FeedOrigin.CONFIG, subscription=sub, now=0
    )
    options = ChannelOptions(("08:00 Europe/Berlin",), "de", "fr")
    await any_store.channels.configure(channel.id, options, NOW)
    await any_store.channels.set_chat_filters(channel.id, Filters(("gas",), ()))
    await any_store.channels.upsert(
        REF, origin=FeedOrigin.CONFIG, subscription=Subscription(), now=5
    )
    found = await any_store.channels.get(channel.id)
    assert found is not None
    assert found.subscription.patterns == Filters()
    assert found.chat_filters == Filters(("gas",), ())
    assert found.filters == Filters(("gas",), ())
    assert (found.options, found.digest_last) == (options, NOW)


async def test_a_changed_digest_schedule_restarts_its_clock(any_store: Store) -> None:
    """configure sets the last digest slot to now only when the schedule changes."""
    channel = await make_channel(any_store, "d")
    daily = ChannelOptions(("08:00",))
    await any_store.channels.configure(channel.id, daily, NOW)
    await any_store.channels.configure(channel.id, ChannelOptions(("08:00",), "de"), NOW + 50)
    same = await any_store.channels.get(channel.id)
    await any_store.channels.configure(channel.id, ChannelOptions(("every 6h",)), NOW + 90)
    changed = await any_store.channels.get(channel.id)
    assert same is not None and changed is not None
    assert (same.digest_last, same.options.language) == (NOW, "de")
    assert changed.digest_last == NOW + 90


async def _held(store: Store, numbers: range) -> tuple[int, int, list[int]]:
    """A digest channel and a plain channel, both routed the same articles."""
    feed = await make_feed(store)
    digest = await make_channel(store, "digest")
    plain = await make_channel(store, "plain")
    routed = [Routed(article(feed, n), (plain.id,), (digest.id,)) for n in numbers]
    ids = await store.articles.save_ingest(FeedUpdate(feed.id, NOW, NOW + 600), routed)
    return digest.id, plain.id, ids


async def test_digest_rows_are_held_not_claimed(any_store: Store) -> None:
    """Rows for a digest channel are held: never claimed, not due, counted as held."""
    digest, plain, ids = await _held(any_store, range(1, 4))
    assert await any_store.outbox.next_due(["fake"]) == NOW  # the plain channel's row
    claimed = await any_store.outbox.claim_due(NOW, 10, platforms=["fake"])
    assert [i.channel_id for i in claimed] == [plain]
    assert await any_store.outbox.counts(digest) == OutboxCounts(held=3)
    assert [a for _, a in await any_store.outbox.held_articles(digest, 2)] == ids[:2]
    assert await any_store.outbox.held_articles(plain, 10) == []


async def test_a_slot_is_queued_once_and_only_with_something_held(any_store: Store) -> None:
    """queue_digest decides each slot once: it records the slot and queues one row, only
    when articles are held; the same or an earlier slot changes nothing."""
    digest, plain, _ = await _held(any_store, range(1, 3))
    assert await any_store.outbox.queue_digest(digest, NOW + 100, NOW + 101)
    assert not await any_store.outbox.queue_digest(digest, NOW + 100, NOW + 102)
    assert not await any_store.outbox.queue_digest(plain, NOW + 100, NOW + 101)
    assert not await any_store.outbox.queue_digest(digest, NOW + 50, NOW + 103)
    channel = await any_store.channels.get(digest)
    quiet = await any_store.channels.get(plain)
    assert channel is not None and quiet is not None
    assert (channel.digest_last, quiet.digest_last) == (NOW + 100, NOW + 100)
    [row] = await any_store.outbox.rows(digest, state=OutboxState.PENDING)
    assert row.kind is OutboxKind.DIGEST
    [item] = [
        i
        for i in await any_store.outbox.claim_due(NOW + 200, 10, platforms=["fake"])
        if i.channel_id == digest
    ]
    assert digest_slot(item.payload) == NOW + 100
    assert digest_row(NOW + 100) == (f"digest:{NOW + 100:.0f}", item.payload)


async def test_a_sent_digest_sends_the_rows_it_gathered_and_opens_its_poll(
    any_store: Store,
) -> None:
    """mark_sent of a digest sends the held rows it names (of its own channel only) with
    its message id, and queues the top story's poll under it."""
    digest, plain, ids = await _held(any_store, range(1, 4))
    await any_store.outbox.queue_digest(digest, NOW + 100, NOW + 100)
    [item] = [
        i
        for i in await any_store.outbox.claim_due(NOW + 100, 10, platforms=["fake"])
        if i.channel_id == digest
    ]
    gathered = tuple(r for r, _ in await any_store.outbox.held_articles(digest, 2))
    plain_rows = tuple(r.id for r in await any_store.outbox.rows(plain))
    opens = OpenPoll(ids[0], PollProposal("Good or bad?", ("Good", "Bad")), NOW + 999)
    delivered = Delivered("m9", opens_poll=opens, digested=gathered + plain_rows)
    await any_store.outbox.mark_sent(item.id, delivered, NOW + 101)
    assert await any_store.outbox.counts(digest) == OutboxCounts(waiting=1, sent=3, held=1)
    sent = await any_store.outbox.rows(digest, state=OutboxState.SENT)
    assert {r.message_id for r in sent} == {"m9"}
    assert await any_store.outbox.counts(plain) == OutboxCounts(waiting=3)
    [poll] = await any_store.outbox.rows(digest, state=OutboxState.PENDING)
    assert poll.kind is OutboxKind.POLL

"""Store contract: whole tables row for row (what ``db copy`` relies on)."""

from __future__ import annotations

from bot.store.ports import Store
from bot.store.tables import TABLES
from bot.types import (
    ChannelOptions,
    ChatRef,
    Delivered,
    FeedUpdate,
    Filters,
    OpenPoll,
    OutboxState,
    Routed,
    StoryAsk,
    StoryTold,
)
from summarizer.base import PollProposal
from tests.bot.helpers import article, make_channel, make_feed, store_articles

NOW = 1_000.0


async def populate(store: Store) -> None:
    """At least one row in every table, in every outbox state, through the port."""
    feed = await make_feed(store)
    await store.feeds.record_failure(feed.id, "HTTP 500", next_due=NOW + 60, pause=False)
    a, b = await make_channel(store, "a"), await make_channel(store, "b")
    await store.channels.subscribe(a.id, feed.id)
    await store.channels.set_paused(b.id, "kicked")
    await store_articles(store, feed, [a, b], range(1, 5), NOW)
    first, *_ = await store.outbox.claim_due(NOW, 1, platforms=["fake"])
    opening = OpenPoll(first.article_id or 0, PollProposal("Q?", ("Yes", "No")), NOW + 60)
    told = StoryTold(first.article_id or 0, ("One.",))
    await store.outbox.mark_sent(first.id, Delivered("m1", opens_poll=opening, story=told), NOW)
    [poll_row] = await store.outbox.claim_due(NOW, 1, platforms=["fake"])
    await store.outbox.mark_sent(poll_row.id, Delivered("m2", "p2", poll_id=1), NOW)
    [dead] = await store.outbox.claim_due(NOW, 1, platforms=["fake"])
    await store.outbox.mark_dead(dead.id, "HTTP 400")
    [skipped] = await store.outbox.claim_due(NOW, 1, platforms=["fake"])
    await store.outbox.mark_skipped(skipped.id, "told already")
    await store.outbox.claim_due(NOW, 1, platforms=["fake"])  # left in flight
    platform_poll = await store.polls.platform_poll("fake", "p2")
    assert platform_poll is not None
    await store.polls.set_vote(platform_poll, "alice", (1,))
    await store.polls.set_counts(platform_poll.id, (0, 1), final=True)
    held = await store.polls.hold_vote("fake", "p-later", "bob", (0,), NOW, forget_before=0)
    assert held is None  # kept until that platform poll is recorded
    digest = await make_channel(store, "digest")  # filters, a digest, held rows
    await store.channels.configure(digest.id, ChannelOptions(("08:00",), "de", "de"), NOW)
    await store.channels.set_chat_filters(digest.id, Filters(("oil",), ("sport",)))
    routed = [Routed(article(feed, 9), (), (digest.id,))]
    await store.articles.save_ingest(FeedUpdate(feed.id, NOW, NOW + 600), routed)
    await store.summaries.save_article_summary("h", "extractive-1", "{}", NOW)
    await store.summaries.save_topic_summary("k", "{}", NOW)
    await store.stories.record_ask(ChatRef("fake", "a"), told.story_id, StoryAsk(2, ("One.",)), NOW)
    await store.articles.record_fingerprint_version(2)


async def test_every_table_reads_back_what_the_port_wrote(any_store: Store) -> None:
    """Every table is listed and holds rows after normal use; reading in pages gives them
    all once, in key order."""
    await populate(any_store)
    for table in TABLES:
        count = await any_store.tables.count(table)
        assert count > 0, table.name
        paged: list[tuple[object, ...]] = []
        after = None
        while rows := await any_store.tables.read(table, after, 2):
            paged += rows
            after = tuple(rows[-1][table.columns.index(k)] for k in table.key)
        assert len(paged) == count, table.name
        assert all(len(row) == len(table.columns) for row in paged)
    states = {r.state for r in await any_store.outbox.rows()}
    assert states == set(OutboxState)


async def test_rows_written_back_replace_and_ids_continue(any_store: Store) -> None:
    """Writing rows again replaces them (a copy can be rerun); after ``finish`` new rows
    get ids after the copied ones."""
    feeds = next(t for t in TABLES if t.name == "feeds")
    row = (
        41, "https://copied.test/rss", "copied", "", "config", 600.0, 0, None, None, 0.0,
        0, None, True, None, False, NOW, None,
    )  # fmt: skip
    renamed = (*row[:2], "renamed", *row[3:])
    await any_store.tables.write(feeds, [row])
    await any_store.tables.write(feeds, [renamed])
    assert await any_store.tables.read(feeds, None, 10) == [renamed]
    await any_store.tables.finish()
    feed = await make_feed(any_store, "https://new.test/rss")
    assert feed.id > 41


async def test_articles_written_back_are_searchable(any_store: Store) -> None:
    """Article rows written through the table port (as ``db copy`` does) are found by
    search, and an article written again is found by its new words only."""
    feed = await make_feed(any_store)
    articles = next(t for t in TABLES if t.name == "articles")
    rows = [
        (
            70 + n, feed.id, f"g{n}", f"https://copied.test/{n}", f"https://copied.test/{n}",
            f"Lighthouse {n}", "The keeper painted it white.", NOW, NOW, 70 + n, f"h{n}", n,
            "", "", "[]",
        )
        for n in (1, 2)
    ]  # fmt: skip
    await any_store.tables.write(articles, rows)
    hits = await any_store.articles.search(["lighthouse"], any_term=False, limit=5, since=0)
    assert sorted(h.article.id for h in hits) == [71, 72]
    repainted = (*rows[0][:5], "Lighthouse 1", "The keeper painted it red.", *rows[0][7:])
    await any_store.tables.write(articles, [repainted])
    assert await any_store.articles.search(["red"], any_term=False, limit=5, since=0) != []
    white = await any_store.articles.search(["white"], any_term=False, limit=5, since=0)
    assert [h.article.id for h in white] == [72]

"""Store contract: articles, stories and full-text search."""

from __future__ import annotations

import itertools
from dataclasses import replace

from bot.store.ports import LEAD_CHARS, RANKED_MATCHES, SEARCH_CHARS, Store
from bot.types import FeedUpdate, OutboxKind, Routed
from tests.bot.helpers import HOSTILE_TOPICS, article, make_channel, make_feed, store_articles

NOW = 1_800_000_000.0


async def test_save_ingest_stores_articles_rows_and_feed_state_together(
    any_store: Store,
) -> None:
    """One call stores the articles, one outbox row per (article, channel) and the feed's
    new fetch state; a GUID already stored is skipped with its rows."""
    feed = await make_feed(any_store)
    a, b = await make_channel(any_store, "a"), await make_channel(any_store, "b")
    update = FeedUpdate(feed.id, NOW, NOW + 600, '"etag"', "Mon", "Wire")
    routed = [Routed(article(feed, 1), (a.id, b.id)), Routed(article(feed, 2), (a.id,))]
    ids = await any_store.articles.save_ingest(update, routed)
    assert len(ids) == 2
    rows = await any_store.outbox.rows()
    assert [(r.channel_id, r.article_id, r.kind) for r in rows] == [
        (a.id, ids[0], OutboxKind.ARTICLE),
        (b.id, ids[0], OutboxKind.ARTICLE),
        (a.id, ids[1], OutboxKind.ARTICLE),
    ]
    stored = await any_store.feeds.get(feed.id)
    assert stored is not None
    assert (stored.etag, stored.last_modified, stored.title, stored.next_due) == (
        '"etag"',
        "Mon",
        "Wire",
        NOW + 600,
    )
    again = await any_store.articles.save_ingest(update, [Routed(article(feed, 1), (b.id,))])
    assert again == []
    assert len(await any_store.outbox.rows()) == 3


async def test_save_ingest_of_a_mixed_batch_gives_ids_to_new_articles_only(
    any_store: Store,
) -> None:
    """In one batch, a GUID stored before and a GUID repeated within the batch are skipped
    (no id, no rows); new articles get ids in order, their story ids and their rows."""
    feed = await make_feed(any_store)
    a = await make_channel(any_store, "a")
    update = FeedUpdate(feed.id, NOW, NOW + 600)
    [first] = await any_store.articles.save_ingest(update, [Routed(article(feed, 1), (a.id,))])
    batch = [
        Routed(article(feed, 2), (a.id,)),
        Routed(article(feed, 1), (a.id,)),
        Routed(article(feed, 3), ()),
        Routed(article(feed, 2), (a.id,)),
        Routed(replace(article(feed, 4), duplicate_of=first), ()),
    ]
    ids = await any_store.articles.save_ingest(update, batch)
    assert len(ids) == 3
    assert ids == sorted(ids)
    assert first not in ids
    stories = [(await any_store.articles.get(i)) for i in ids]
    assert [(s.guid, s.story_id) for s in stories if s is not None] == [
        ("guid-2", ids[0]),
        ("guid-3", ids[1]),
        ("guid-4", first),
    ]
    rows = await any_store.outbox.rows()
    assert [r.article_id for r in rows] == [first, ids[0]]
    assert await any_store.articles.count() == 4


async def test_get_known_and_count(any_store: Store) -> None:
    """An article reads back whole with its feed's name; known GUIDs are per feed, known
    canonical URLs are global."""
    feed = await make_feed(any_store)
    other = await make_feed(any_store, "https://other.test/rss")
    [article_id] = await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, 7), ())]
    )
    stored = await any_store.articles.get(article_id)
    assert stored is not None
    assert (stored.guid, stored.title, stored.story_id, stored.feed_name) == (
        "guid-7",
        "Story number 7",
        article_id,
        "test",
    )
    assert await any_store.articles.get(article_id + 100) is None
    assert await any_store.articles.known(feed.id, ["guid-7", "guid-8"], []) == ({"guid-7"}, set())
    assert await any_store.articles.known(other.id, ["guid-7"], ["https://news.test/7"]) == (
        set(),
        {"https://news.test/7"},
    )
    assert await any_store.articles.count() == 1


async def test_duplicates_join_the_story_and_fingerprints_read_back(any_store: Store) -> None:
    """A near-duplicate joins the story it names; fingerprints (unsigned 64-bit) come back
    with their story ids, oldest first."""
    feed = await make_feed(any_store)
    first = replace(article(feed, 1), simhash=(1 << 64) - 5)
    [story] = await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(first, ())]
    )
    copy = replace(article(feed, 2), simhash=42, duplicate_of=story)
    [copy_id] = await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW + 10, NOW), [Routed(copy, ())]
    )
    assert await any_store.articles.fingerprints_since(NOW) == [((1 << 64) - 5, story), (42, story)]
    assert await any_store.articles.fingerprints_since(NOW + 5) == [(42, story)]
    sources = await any_store.articles.story_sources([story])
    assert [a.id for a in sources[story]] == [story, copy_id]
    assert [a.id for a in await any_store.articles.latest(10)] == [story]


async def test_same_event_joins_its_story_and_stories_list_with_their_articles(
    any_store: Store,
) -> None:
    """An article with ``story`` joins that story (a near-copy's ``duplicate_of`` wins);
    stories with an article since a time list latest first, with every article."""
    feed = await make_feed(any_store)
    other = await make_feed(any_store, "https://other.test/rss")
    save = any_store.articles.save_ingest
    [quake] = await save(FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, 1), ())])
    [budget] = await save(FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, 5), ())])
    retold = replace(article(other, 9, title="Quake, retold"), story=quake)
    copy = replace(article(other, 3), duplicate_of=quake, story=budget)
    [retold_id, copy_id] = await save(
        FeedUpdate(other.id, NOW, NOW), [Routed(retold, ()), Routed(copy, ())]
    )
    stories = await any_store.articles.stories_since(NOW + 2, 10)
    assert [s.id for s in stories] == [quake, budget]
    first = stories[0]
    assert first.title == "Story number 1"
    assert [a.id for a in first.articles] == [quake, retold_id, copy_id]
    assert [a.feed_id for a in first.articles] == [feed.id, other.id, other.id]
    assert (first.first_seen, first.last_seen) == (NOW + 1, NOW + 9)
    assert [s.id for s in await any_store.articles.stories_since(NOW + 6, 10)] == [quake]
    assert [s.id for s in await any_store.articles.stories_since(NOW, 1)] == [quake]
    assert await any_store.articles.stories_since(NOW + 10, 10) == []


async def test_story_leads_read_back_oldest_first_with_a_capped_lead(any_store: Store) -> None:
    """Leads come back with their story ids, oldest first, cut at ``LEAD_CHARS``."""
    feed = await make_feed(any_store)
    long_text = "word " * LEAD_CHARS
    await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW),
        [Routed(article(feed, 4, text=long_text), ()), Routed(article(feed, 2), ())],
    )
    leads = await any_store.articles.story_leads_since(NOW + 3)
    assert [(lead.title, len(lead.lead), lead.published) for lead in leads] == [
        ("Story number 4", LEAD_CHARS, NOW + 4)
    ]
    both = await any_store.articles.story_leads_since(0.0)
    assert [lead.title for lead in both] == ["Story number 2", "Story number 4"]
    assert both[0].lead == article(feed, 2).text
    stored = await any_store.articles.get(both[0].story_id)
    assert stored is not None and stored.title == "Story number 2"


async def test_articles_saved_after_an_id_read_back_in_order(any_store: Store) -> None:
    """``last_id`` is the newest article's id; ``saved_after`` returns those above an id,
    with fingerprint, story and lead, lowest id first."""
    assert await any_store.articles.last_id() == 0
    feed = await make_feed(any_store)
    await store_articles(any_store, feed, [], range(1, 4), 1_000.0)
    last = await any_store.articles.last_id()
    saved = await any_store.articles.saved_after(last - 2)
    assert [a.id for a in saved] == [last - 1, last]
    assert all(a.lead.story_id == a.id and a.lead.title for a in saved)
    assert await any_store.articles.saved_after(last) == []


async def test_latest_newest_first_and_by_feed(any_store: Store) -> None:
    """Latest stories newest first; only the given feeds; an empty list means none."""
    feed = await make_feed(any_store)
    other = await make_feed(any_store, "https://other.test/rss")
    await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, n), ()) for n in (1, 3)]
    )
    await any_store.articles.save_ingest(
        FeedUpdate(other.id, NOW, NOW), [Routed(article(other, 2), ())]
    )
    assert [a.guid for a in await any_store.articles.latest(2)] == ["guid-3", "guid-2"]
    assert [a.guid for a in await any_store.articles.latest(5, [other.id])] == ["guid-2"]
    assert await any_store.articles.latest(5, []) == []


async def test_search_matches_words_best_first_and_never_reads_syntax(any_store: Store) -> None:
    """All terms by default, any with ``any_term``; title matches rank first; a window
    limits by publication; query syntax in terms is plain text."""
    feed = await make_feed(any_store)
    items = [
        article(feed, 1, "Talks on oil prices resumed in Caracas.", "Venezuela oil talks"),
        article(feed, 2, "Venezuela was mentioned once, among oil and gas news.", "Energy"),
        article(feed, 3, "Night buses start on twelve routes.", "Night buses"),
    ]
    await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(a, ()) for a in items]
    )
    hits = await any_store.articles.search(["venezuela", "oil"], any_term=False, limit=10, since=0)
    assert [h.article.guid for h in hits] == ["guid-1", "guid-2"]
    assert hits[0].score <= hits[1].score
    anyhits = await any_store.articles.search(
        ["buses", "caracas"], any_term=True, limit=10, since=0
    )
    assert {h.article.guid for h in anyhits} == {"guid-1", "guid-3"}
    assert await any_store.articles.search(["oil"], any_term=False, limit=10, since=NOW + 10) == []
    for hostile in ['"', "NEAR(", "-:*", "title:oil", "a OR b", "'; DROP TABLE articles; --"]:
        assert await any_store.articles.search([hostile], any_term=False, limit=5, since=0) == []
    assert await any_store.articles.search([], any_term=True, limit=5, since=0) == []


async def test_a_saved_article_is_searchable_at_once_and_index_pending_settles(
    any_store: Store,
) -> None:
    """A search finds an article the moment its save returns (SQLite indexes what waits
    first); once searched, nothing waits for the index."""
    feed = await make_feed(any_store)
    update = FeedUpdate(feed.id, NOW, NOW)
    await any_store.articles.save_ingest(
        update, [Routed(article(feed, 1, title="Harbour strike"), ())]
    )
    hits = await any_store.articles.search(["harbour"], any_term=False, limit=5, since=0)
    assert [h.article.guid for h in hits] == ["guid-1"]
    assert await any_store.articles.index_pending() == 0


async def test_search_reads_the_title_and_the_first_search_chars_of_the_text(
    any_store: Store,
) -> None:
    """A word in the title or within the first ``SEARCH_CHARS`` characters of the text is
    found; a word only past them is not (the whole text is still stored)."""
    feed = await make_feed(any_store)
    filler = ("Night buses start on twelve routes. " * 200)[: SEARCH_CHARS - 12]
    text = f"{filler} marmalade. And then zeppelin."
    await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, 1, text, "Harbour news"), ())]
    )
    for found in ("harbour", "marmalade"):
        hits = await any_store.articles.search([found], any_term=False, limit=5, since=0)
        assert [h.article.guid for h in hits] == ["guid-1"]
        assert hits[0].article.text == text
    assert await any_store.articles.search(["zeppelin"], any_term=False, limit=5, since=0) == []


async def test_search_ranks_the_newest_matches_only(any_store: Store) -> None:
    """With more than ``RANKED_MATCHES`` matches, the oldest ones are not ranked, however
    well they match: the best of the newest ``RANKED_MATCHES`` come first."""
    feed = await make_feed(any_store)
    oldest = article(feed, 0, "Harbour harbour harbour.", "Harbour harbour")
    rest = [
        article(feed, n, f"Port news {n}: the harbour was calm.")
        for n in range(1, 1 + RANKED_MATCHES)
    ]
    await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(a, ()) for a in [oldest, *rest]]
    )
    hits = await any_store.articles.search(["harbour"], any_term=False, limit=5, since=0)
    assert len(hits) == 5
    assert "guid-0" not in {h.article.guid for h in hits}


async def test_recent_story_titles(any_store: Store) -> None:
    """Titles of the newest stories in the window, newest first, one per story."""
    feed = await make_feed(any_store)
    [first] = await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, 1), ())]
    )
    copy = replace(article(feed, 5), duplicate_of=first)
    await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, 3), ()), Routed(copy, ())]
    )
    titles = await any_store.articles.recent_story_titles(0, 5)
    assert titles == ["Story number 3", "Story number 1"]
    assert await any_store.articles.recent_story_titles(NOW + 2, 5) == ["Story number 3"]


async def test_long_lists_are_answered_whole(any_store: Store) -> None:
    """Lookups over more items than one query can bind still answer for every item."""
    feed = await make_feed(any_store)
    numbers = range(1, 1201)
    ids = await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(article(feed, n), ()) for n in numbers]
    )
    guids = [f"guid-{n}" for n in numbers]
    urls = [f"https://news.test/{n}" for n in numbers]
    assert await any_store.articles.known(feed.id, guids, urls) == (set(guids), set(urls))
    assert set(await any_store.articles.story_sources(ids)) == set(ids)


async def test_search_answers_every_hostile_topic(any_store: Store) -> None:
    """Every hostile /summary topic, as one term or split into words, all or any of them,
    gets an answer from the search, never an error (as one term it matches nothing)."""
    feed = await make_feed(any_store)
    items = [
        article(feed, 1, "Talks on oil prices resumed in Caracas.", "Venezuela oil talks"),
        article(feed, 2, "Russia and Venezuela signed a deal at the border.", "Deal"),
    ]
    await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(a, ()) for a in items]
    )
    search = any_store.articles.search
    for topic, any_term in itertools.product(HOSTILE_TOPICS, (False, True)):
        assert await search([topic], any_term=any_term, limit=5, since=0) == [], topic[:40]
        hits = await search(topic.split(), any_term=any_term, limit=5, since=0)
        assert {h.article.guid for h in hits} <= {"guid-1", "guid-2"}, topic[:40]
    found = await search(["venezuela\x00"], any_term=False, limit=5, since=0)
    assert {h.article.guid for h in found} == {"guid-1", "guid-2"}  # a NUL is a space


async def test_every_saved_article_is_found_once(any_store: Store) -> None:
    """Articles saved in several batches are each found once by a word of their title or
    text; a GUID stored before or repeated in a batch adds no second hit."""
    feed = await make_feed(any_store)
    update = FeedUpdate(feed.id, NOW, NOW)
    first = [
        article(feed, n, f"Quay {n} reopened after the storm.", f"Harbour {n}") for n in (1, 2)
    ]
    await any_store.articles.save_ingest(update, [Routed(a, ()) for a in first])
    again = [first[1], article(feed, 3, "Quay 3 reopened.", "Harbour 3"), first[0]]
    again.append(article(feed, 3, "Quay 3 reopened.", "Harbour 3"))
    ids = await any_store.articles.save_ingest(update, [Routed(a, ()) for a in again])
    assert len(ids) == 1
    for word in ("harbour", "quay", "reopened"):
        hits = await any_store.articles.search([word], any_term=False, limit=10, since=0)
        assert sorted(h.article.guid for h in hits) == ["guid-1", "guid-2", "guid-3"], word


async def test_fingerprints_are_replaced_from_texts_read_in_pages_and_versioned(
    any_store: Store,
) -> None:
    """A new store holds fingerprint version 1; texts since a time come back a page at a
    time (their first characters, lowest id first); replaced fingerprints (unsigned 64-bit,
    unknown ids ignored) read back, and the recorded version stays."""
    feed = await make_feed(any_store)
    assert await any_store.articles.fingerprint_version() == 1
    old = [article(feed, 1, text="Old text. " * 10)]
    await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW - 100, NOW), [Routed(a, ()) for a in old]
    )
    recent = [article(feed, n, text=f"Text {n} é. " * 50) for n in (2, 3, 4)]
    ids = await any_store.articles.save_ingest(
        FeedUpdate(feed.id, NOW, NOW), [Routed(a, ()) for a in recent]
    )
    first = await any_store.articles.texts_since(NOW, 0, 2, 9)
    assert first == [(ids[0], "Text 2 é."), (ids[1], "Text 3 é.")]
    assert await any_store.articles.texts_since(NOW, ids[1], 2, 9) == [(ids[2], "Text 4 é.")]
    assert await any_store.articles.texts_since(NOW, ids[2], 2, 9) == []
    await any_store.articles.replace_fingerprints(
        [(ids[0], (1 << 64) - 1), (ids[2], 7), (ids[2] + 100, 9)]
    )
    assert [v for v, _ in await any_store.articles.fingerprints_since(NOW)] == [
        (1 << 64) - 1,
        3,
        7,
    ]
    await any_store.articles.record_fingerprint_version(2)
    await any_store.articles.record_fingerprint_version(3)
    assert await any_store.articles.fingerprint_version() == 3


async def test_known_answers_for_more_guids_and_urls_than_one_query_takes(
    any_store: Store,
) -> None:
    """Asked about 1,200 GUIDs and 700 URLs at once (more than one query's worth of each,
    and unequal counts), ``known`` finds exactly the stored ones, GUIDs in this feed only."""
    feed = await make_feed(any_store)
    other = await make_feed(any_store, "https://other.test/rss")
    await store_articles(any_store, feed, [], range(0, 1200, 3), NOW)
    guids = [f"guid-{n}" for n in range(1200)]
    urls = [f"https://news.test/{n}" for n in range(500, 1200)]
    mine = await any_store.articles.known(feed.id, guids, urls)
    theirs = await any_store.articles.known(other.id, guids, urls[:2])
    assert mine == (
        {f"guid-{n}" for n in range(0, 1200, 3)},
        {f"https://news.test/{n}" for n in range(501, 1200, 3)},
    )
    assert theirs == (set(), {"https://news.test/501"})

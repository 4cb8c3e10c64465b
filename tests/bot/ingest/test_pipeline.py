"""Ingest end to end over a loopback feed server: new, not modified, full text, dedup,
failures, and every real feed in the corpus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from email.utils import formatdate
from pathlib import Path
from typing import Any

import pytest

from bench import fingerprint_v1
from bot.clock import ManualClock
from bot.feeds.fetch import HttpFetcher
from bot.ingest import routing
from bot.ingest.dedup import NearDuplicateIndex, hamming, simhash
from bot.ingest.fingerprint import FINGERPRINT_VERSION
from bot.ingest.pipeline import DEDUP_WINDOW, FeedOutcome, Ingestor
from bot.ingest.stories import StoryIndex
from bot.ports import FetchRequest, FetchResult
from bot.store.ports import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from bot.types import (
    Channel,
    ChannelOptions,
    ChatRef,
    Feed,
    FeedOrigin,
    FeedUpdate,
    Filters,
    Routed,
    Subscription,
)
from tests.bot.helpers import article, make_channel, make_feed
from tests.conftest import corpus_or_skip
from tests.fakes.http_server import LocalServer
from tests.fakes.postgres import Databases

LONG = " ".join(
    f"Sentence {i} of the story about the harbour strike and its effects." for i in range(30)
)


def rss(items: list[tuple[str, str, str]]) -> str:
    """An RSS 2.0 feed of (guid, title, description) items."""
    body = "".join(
        f"<item><guid>{g}</guid><title>{t}</title><link>https://news.test/{g}</link>"
        f"<description>{d}</description></item>"
        for g, t, d in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{body}</channel></rss>'
    )


@pytest.fixture
async def ingestor(store: SqliteStore, clock: ManualClock) -> AsyncIterator[Ingestor]:
    """An ingestor whose fetcher may reach loopback (operator feeds, as in tests)."""
    fetcher = HttpFetcher(allow_private_hosts=True)
    yield Ingestor(store, fetcher, clock)
    await fetcher.aclose()


async def _feed(store: Store, url: str, backfill: int = 0) -> None:
    await store.feeds.upsert(
        url, name="", origin=FeedOrigin.CONFIG, every=600.0, backfill=backfill, now=0.0
    )


async def test_first_fetch_posts_nothing_then_new_entries_post_once(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """First fetch stores entries without posting; later entries are queued once."""
    await make_channel(store, "a")
    items = [(f"g{i}", f"Title {i}", f"Text {i}") for i in range(3)]
    url = server.route("/feed.xml", rss(items), content_type="application/rss+xml")
    await _feed(store, url)
    first = await ingestor.run(only_due=False)
    assert (first.new_articles, first.queued_posts) == (3, 0)
    server.route("/feed.xml", rss([*items, ("g3", "Title 3", "Text 3")]))
    second = await ingestor.run(only_due=False)
    third = await ingestor.run(only_due=False)
    assert (second.new_articles, second.queued_posts) == (1, 1)
    assert (third.new_articles, third.queued_posts) == (0, 0)
    assert [r.article_id for r in await store.outbox.rows()] == [4]


async def test_backfill_posts_latest_n_on_first_fetch(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """``backfill = 2`` posts two entries of the first fetch."""
    await make_channel(store, "a")
    url = server.route("/f.xml", rss([(f"g{i}", f"T{i}", "x") for i in range(5)]))
    await _feed(store, url, backfill=2)
    counts = await ingestor.run(only_due=False)
    assert counts.queued_posts == 2


async def test_not_modified_writes_nothing(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """A 304 answer to the conditional GET stores nothing and queues nothing."""
    url = server.route("/c.xml", rss([("g1", "T", "x")]), etag='"v1"')
    await _feed(store, url)
    await ingestor.run(only_due=False)
    again = await ingestor.run(only_due=False)
    assert again.not_modified == 1 and again.new_articles == 0
    assert server.requests[-1].headers.get("If-None-Match") == '"v1"'


async def test_teaser_entries_get_full_text(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """A teaser-only entry that will be posted gets its page's article text."""
    await make_channel(store, "a")
    page = (
        "<html><head><title>Strike</title></head><body><nav>Menu</nav><article>"
        f"<h1>Strike</h1><p>{LONG}</p></article></body></html>"
    )
    page_url = server.route("/story", page, content_type="text/html")
    feed_xml = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><guid>s1</guid>'
        f"<title>Harbour strike</title><link>{page_url}</link><description>Teaser…</description>"
        "</item></channel></rss>"
    )
    url = server.route("/teaser.xml", feed_xml)
    await _feed(store, url, backfill=1)
    await ingestor.run(only_due=False)
    stored = (await store.articles.latest(1))[0]
    assert "Sentence 29 of the story" in stored.text


async def test_same_story_from_two_feeds_posts_once(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """A syndicated copy in a second feed joins the first story and is not posted again."""
    await make_channel(store, "a")
    one = server.route("/one.xml", rss([("a1", "Old", "x")]))
    two = server.route("/two.xml", rss([("b1", "Old too", "y")]))
    await _feed(store, one)
    await _feed(store, two)
    await ingestor.run(only_due=False)
    server.route("/one.xml", rss([("a1", "Old", "x"), ("a2", "Harbour strike", LONG)]))
    server.route(
        "/two.xml",
        rss(
            [("b1", "Old too", "y"), ("b2", "Strike at the harbour", "From our partners. " + LONG)]
        ),
    )
    await ingestor.run(only_due=False)
    counts = await ingestor.run(only_due=False)
    assert counts.new_articles == 0
    rows = await store.outbox.rows()
    assert len(rows) == 1
    stories = {a.story_id for a in await store.articles.latest(10)}
    assert len(stories) == 3


async def test_a_copy_of_an_article_fingerprinted_before_the_upgrade_is_a_duplicate(
    store: SqliteStore, ingestor: Ingestor, clock: ManualClock, server: LocalServer
) -> None:
    """In a store whose articles hold version 1 fingerprints, the first ingest makes those
    within the dedup window again from their text and records the new version, so a copy
    of a day-old article joins its story, unposted; older articles keep theirs."""
    await make_channel(store, "a")
    old_feed = await make_feed(store, "https://old.test/rss")
    await store.feeds.set_paused(old_feed.id, True, "not fetched here")
    now, v1 = clock.now(), fingerprint_v1.simhashes([LONG, "Long ago. " + LONG])
    saved = [
        replace(article(old_feed, n, text), simhash=value)
        for n, text, value in ((1, "Long ago. " + LONG, v1[1]), (2, LONG, v1[0]))
    ]
    [ancient] = await store.articles.save_ingest(
        FeedUpdate(old_feed.id, now - DEDUP_WINDOW - 86400, now), [Routed(saved[0], ())]
    )
    [day_old] = await store.articles.save_ingest(
        FeedUpdate(old_feed.id, now - 86400, now), [Routed(saved[1], ())]
    )
    copy = "From our partners. " + LONG
    assert hamming(v1[0], simhash(copy)) > 7  # the old value would not find the copy
    await _feed(store, server.route("/two.xml", rss([("b0", "Old", "x")])))
    await ingestor.run(only_due=False)
    server.route("/two.xml", rss([("b0", "Old", "x"), ("b1", "Harbour strike", copy)]))
    counts = await ingestor.run(only_due=False)
    assert (counts.new_articles, counts.duplicates, counts.queued_posts) == (1, 1, 0)
    sources = await store.articles.story_sources([day_old])
    assert [a.title for a in sources[day_old]] == ["Story number 2", "Harbour strike"]
    assert await store.articles.fingerprint_version() == FINGERPRINT_VERSION == 2
    values = dict(await store.articles.fingerprints_since(0.0))
    assert values[v1[1]] == ancient
    assert simhash(LONG) in values


async def test_entries_told_apart_by_fragment_are_each_stored(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """Entries of one feed on one page with different fragments are different items, each
    stored; a lone fragment still goes, so another feed's link to the page is a repeat."""
    notes = [("page#c1", "Note one", "First note."), ("page#c2", "Note two", "Second note.")]
    await _feed(store, server.route("/notes.xml", rss([*notes, ("solo#top", "Solo", "x")])))
    assert (await ingestor.run(only_due=False)).new_articles == 3
    await _feed(store, server.route("/other.xml", rss([("solo", "Solo again", "y")])))
    assert (await ingestor.run(only_due=False)).new_articles == 0
    stored = await store.db.fetch_all("SELECT url, canonical_url FROM articles ORDER BY id")
    assert sorted(tuple(r) for r in stored) == [
        ("https://news.test/page#c1", "https://news.test/page#c1"),
        ("https://news.test/page#c2", "https://news.test/page#c2"),
        ("https://news.test/solo#top", "https://news.test/solo"),
    ]


async def test_malformed_feed_is_recorded_then_paused(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """A feed that is not a feed fails with a reason; ten failures in a row pause it."""
    url = server.route("/bad.xml", "<html><body>not a feed</body></html>", content_type="text/html")
    await _feed(store, url)
    outcome: list[FeedOutcome] = []
    await ingestor.run(only_due=False, progress=outcome.append)
    assert outcome[0].status == "failed" and outcome[0].error
    for _ in range(9):
        await ingestor.run(only_due=False)
    feed = (await store.feeds.all())[0]
    assert feed.paused and feed.failures == 10
    assert "paused after 10 failures" in (feed.last_error or "")


async def test_every_corpus_feed_ingests(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """Each real feed ingests without an exception, with at least INDEX.jsonl's entries."""
    feeds_dir = corpus_or_skip("feeds")
    index = [json.loads(line) for line in (feeds_dir / "INDEX.jsonl").read_text().splitlines()]
    server.serve_directory("/feeds", feeds_dir)
    expected = {}
    for row in index:
        url = server.url(f"/feeds/{row['file']}")
        expected[url] = row["entries"]
        await _feed(store, url)
    outcomes: list[FeedOutcome] = []
    await ingestor.run(only_due=False, progress=outcomes.append)
    failed = {o.feed.url: o.error for o in outcomes if o.status != "ok"}
    assert failed == {}
    short = {
        o.feed.url: (o.entries, expected[o.feed.url])
        for o in outcomes
        if o.entries < expected[o.feed.url]
    }
    assert short == {}
    assert len(outcomes) == len(index)


QUAKE_ONE = (
    "Earthquake kills dozens in central Chile",
    "A magnitude 7.1 earthquake struck central Chile near Talca on Tuesday, killing at least "
    "34 people and destroying hundreds of homes, the interior ministry said. Rescue teams "
    "worked through the night.",
)
QUAKE_TWO = (
    "Chile quake: death toll rises in Talca",
    "Rescuers in Talca searched collapsed homes after Tuesday's 7.1 magnitude earthquake in "
    "central Chile; officials said the death toll had risen to 34 and more were missing.",
)
BUDGET = (
    "Germany agrees 2026 budget after coalition talks",
    "The German coalition agreed a budget for 2026 on Friday, raising defence spending and "
    "cutting subsidies for electric cars, the finance minister told reporters in Berlin.",
)


async def _two_feeds(store: SqliteStore, server: LocalServer) -> None:
    """Two feeds fetched once (nothing posted), ready for new entries."""
    await _feed(store, server.route("/one.xml", rss([("a0", "Old", "x")])))
    await _feed(store, server.route("/two.xml", rss([("b0", "Old too", "y")])))


async def test_same_event_from_another_outlet_joins_the_story_and_is_posted(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """Two outlets' own words about one quake make one story of two posted articles;
    another event stays its own story."""
    await make_channel(store, "a")
    await _two_feeds(store, server)
    await ingestor.run(only_due=False)
    server.route("/one.xml", rss([("a0", "Old", "x"), ("a1", *QUAKE_ONE), ("a2", *BUDGET)]))
    await ingestor.run(only_due=False)
    server.route("/two.xml", rss([("b0", "Old too", "y"), ("b1", *QUAKE_TWO)]))
    counts = await ingestor.run(only_due=False)
    assert (counts.new_articles, counts.duplicates, counts.queued_posts) == (1, 0, 1)
    stories = await store.articles.stories_since(0.0, 10)
    quake = next(s for s in stories if s.title == QUAKE_ONE[0])
    assert [a.title for a in quake.articles] == [QUAKE_ONE[0], QUAKE_TWO[0]]
    budget = next(s for s in stories if s.title == BUDGET[0])
    assert len(budget.articles) == 1
    assert len(await store.outbox.rows()) == 3


async def test_stories_survive_a_restart(
    store: SqliteStore, clock: ManualClock, server: LocalServer
) -> None:
    """A new ingestor (a restart) finds the stories stored before it and joins them."""
    await _two_feeds(store, server)
    fetcher = HttpFetcher(allow_private_hosts=True)
    try:
        await Ingestor(store, fetcher, clock).run(only_due=False)
        server.route("/one.xml", rss([("a0", "Old", "x"), ("a1", *QUAKE_ONE)]))
        await Ingestor(store, fetcher, clock).run(only_due=False)
        server.route("/two.xml", rss([("b0", "Old too", "y"), ("b1", *QUAKE_TWO)]))
        await Ingestor(store, fetcher, clock).run(only_due=False)
    finally:
        await fetcher.aclose()
    stories = await store.articles.stories_since(0.0, 10)
    assert [len(s.articles) for s in stories if s.title == QUAKE_ONE[0]] == [2]


class _HeldFetcher:
    """Answers 304 for every feed, but only once the test lets the held fetches go."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.go = asyncio.Event()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.started.set()
        await self.go.wait()
        return FetchResult(request.url, b"", not_modified=True)

    async def aclose(self) -> None:
        return None


async def test_a_pass_claims_only_the_feeds_it_can_start(
    store: SqliteStore, clock: ManualClock
) -> None:
    """With room for one fetch, a pass holds one feed's lease while it fetches, leaving
    the other due feeds to another worker sharing the store; it then takes what is left."""
    for n in range(3):
        await _feed(store, f"https://f{n}.test/rss")
    fetcher = _HeldFetcher()
    ingestor = Ingestor(store, fetcher, clock, feed_concurrency=1, worker="w1")
    first = asyncio.create_task(ingestor.run())
    await fetcher.started.wait()
    assert await store.workers.held("w1") == {"feeds": 1, "outbox": 0}
    taken = await store.feeds.claim_due(clock.now(), "w2", limit=1)
    fetcher.go.set()
    counts = await first
    assert (len(taken), counts.feeds, counts.not_modified) == (1, 2, 2)
    assert await store.workers.held("w1") == {"feeds": 0, "outbox": 0}


async def test_workers_sharing_a_store_recognise_each_others_copies(
    postgres: Databases, server: LocalServer
) -> None:
    """Two workers on one PostgreSQL database, both warmed up: a syndicated copy that the
    second fetches after the first stored the original is a duplicate, not a second post;
    an article both fetch at the same moment is stored and posted once."""
    url = await postgres.fresh()
    first, second = await PostgresStore.open(url), await PostgresStore.open(url)
    fetcher, clock = HttpFetcher(allow_private_hosts=True), ManualClock()
    try:
        await make_channel(first, "a")
        one = server.route("/one.xml", rss([("a1", "Old", "x")]))
        two = server.route("/two.xml", rss([("b1", "Old too", "y")]))
        await _feed(first, one)
        await _feed(first, two)
        workers = [
            Ingestor(s, fetcher, clock, worker=f"w{n}") for n, s in enumerate((first, second))
        ]
        await asyncio.gather(*(w.run(only_due=False) for w in workers))  # both warm
        server.route("/one.xml", rss([("a1", "Old", "x"), ("a2", "Harbour strike", LONG)]))
        await workers[0].run(only_due=False)
        copy = ("b2", "Strike at the harbour", "From our partners. " + LONG)
        server.route("/two.xml", rss([("b1", "Old too", "y"), copy]))
        counts = await workers[1].run(only_due=False)
        same = ("c1", "Bridge closed", LONG.replace("harbour strike", "bridge closure"))
        server.route("/one.xml", rss([("a1", "Old", "x"), same]))
        server.route("/two.xml", rss([("b1", "Old too", "y"), same]))
        await asyncio.gather(*(w.run(only_due=False) for w in workers))
        rows = await first.outbox.rows()
    finally:
        await fetcher.aclose()
        await first.close()
        await second.close()
    assert counts.duplicates == 1
    assert len(rows) == 2  # the harbour strike once, the bridge closure once


def dated_rss(prefix: str, count: int, text: str = "Text") -> str:
    """An RSS feed of ``count`` dated items, newest first as feeds list them."""
    items = [
        (
            f"<item><guid>{prefix}-{n}</guid><title>{prefix} story {n}</title>"
            f"<link>https://news.test/{prefix}/{n}</link>"
            f"<pubDate>{formatdate(1_700_000_000 + n * 3600, usegmt=True)}</pubDate>"
            f"<description>{text} {n}</description></item>"
        )
        for n in reversed(range(count))
    ]
    channel = f"<channel><title>T</title>{''.join(items)}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


class _MemoryWeb:
    """Serves documents from memory and counts the fetches started; a URL in ``held``
    answers only once its event is set."""

    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs
        self.started: list[str] = []
        self.held: dict[str, asyncio.Event] = {}
        self._fetched = asyncio.Event()

    async def fetch(self, request: FetchRequest) -> FetchResult:
        self.started.append(request.url)
        self._fetched.set()
        if request.url in self.held:
            await self.held[request.url].wait()
        return FetchResult(request.url, self.docs[request.url].encode())

    async def until(self, count: int) -> None:
        """Wait until ``count`` fetches have started."""
        while len(self.started) < count:
            self._fetched.clear()
            await self._fetched.wait()

    async def aclose(self) -> None:
        return None


class _ShutSection:
    """A store's locks with the ingest section shut to feeds until the test opens it (the
    pass's own warm-up, the first use, goes through); it counts the feeds waiting at it."""

    def __init__(self, store: SqliteStore) -> None:
        self._locks = store.locks
        self.waiting = 0
        self._arrived = asyncio.Event()
        self._opened = asyncio.Event()
        self._warmed = False

    @asynccontextmanager
    async def exclusive(self, name: str) -> AsyncIterator[None]:
        if self._warmed and not self._opened.is_set():
            self.waiting += 1
            self._arrived.set()
            await self._opened.wait()
        self._warmed = True
        async with self._locks.exclusive(name):
            yield

    async def until(self, count: int) -> None:
        """Wait until ``count`` feeds wait at the section."""
        while self.waiting < count:
            self._arrived.clear()
            await self._arrived.wait()

    def open(self) -> None:
        """Let every feed through, from now on."""
        self._opened.set()


class _WithSection:
    """A store whose locks are ``section``; everything else is the store's own."""

    def __init__(self, store: SqliteStore, section: _ShutSection) -> None:
        self._store = store
        self.locks = section

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def _stored_in_order(store: SqliteStore) -> bool:
    """Whether each feed's articles were stored oldest first."""
    rows = await store.db.fetch_all("SELECT feed_id, published FROM articles ORDER BY id")
    by_feed: dict[int, list[float]] = {}
    for feed_id, published in rows:
        by_feed.setdefault(feed_id, []).append(published)
    return all(times == sorted(times) for times in by_feed.values())


async def test_fetches_wait_their_turn_while_fetched_feeds_wait_for_the_parser(
    store: SqliteStore, clock: ManualClock
) -> None:
    """With room for one fetched body and two feeds between parse and save (held at the
    section), a pass has fetched three of eight feeds, no more; let go, it stores every
    entry, each feed's oldest first."""
    docs = {f"https://f{n}.test/rss": dated_rss(f"f{n}", 3) for n in range(8)}
    for url in docs:
        await _feed(store, url)
    web, section = _MemoryWeb(docs), _ShutSection(store)
    ingestor = Ingestor(_WithSection(store, section), web, clock, backlog_bytes=1)  # type: ignore[arg-type]
    run = asyncio.create_task(ingestor.run(only_due=False))
    async with asyncio.timeout(10):
        await section.until(2)
        await web.until(3)
    assert len(web.started) == 3
    section.open()
    counts = await run
    assert (counts.fetched, counts.new_articles, len(web.started)) == (8, 24, 8)
    assert await _stored_in_order(store)


async def test_a_slow_feed_does_not_hold_up_the_others_while_the_parser_keeps_up(
    store: SqliteStore, clock: ManualClock
) -> None:
    """With room for about three bodies, one feed that does not answer leaves the other
    fetches free to start: the other eleven feeds are stored while it hangs."""
    docs = {f"https://f{n}.test/rss": dated_rss(f"f{n}", 3) for n in range(12)}
    for url in docs:
        await _feed(store, url)
    web = _MemoryWeb(docs)
    slow = asyncio.Event()
    web.held = {"https://f2.test/rss": slow}
    room = 3 * len(docs["https://f0.test/rss"])
    done: list[FeedOutcome] = []
    others = asyncio.Event()

    def progress(outcome: FeedOutcome) -> None:
        done.append(outcome)
        if len(done) == 11:
            others.set()

    ingestor = Ingestor(store, web, clock, backlog_bytes=room)
    run = asyncio.create_task(ingestor.run(only_due=False, progress=progress))
    async with asyncio.timeout(10):
        await others.wait()
    assert "https://f2.test/rss" not in {o.feed.url for o in done}
    slow.set()
    assert (await run).new_articles == 36


async def test_one_huge_feed_does_not_leave_fetches_one_at_a_time(
    store: SqliteStore, clock: ManualClock
) -> None:
    """After a feed far larger than the room for bodies, a fetch under way is expected to
    bring at most a quarter of that room: with one feed hanging, the others still fetch
    one beside it, and all are stored while it hangs."""
    docs = {f"https://f{n}.test/rss": dated_rss(f"f{n}", 3) for n in range(6)}
    docs["https://f0.test/rss"] = dated_rss("f0", 3, "Long text " * 5_000)
    for url in docs:
        await _feed(store, url)
    web = _MemoryWeb(docs)
    slow = asyncio.Event()
    web.held = {"https://f2.test/rss": slow}
    done: list[FeedOutcome] = []
    others = asyncio.Event()

    def progress(outcome: FeedOutcome) -> None:
        done.append(outcome)
        if len(done) == 5:
            others.set()

    ingestor = Ingestor(store, web, clock, feed_concurrency=2, backlog_bytes=40_000)
    run = asyncio.create_task(ingestor.run(only_due=False, progress=progress))
    async with asyncio.timeout(10):
        await others.wait()
    assert "https://f2.test/rss" not in {o.feed.url for o in done}
    slow.set()
    assert (await run).new_articles == 18


async def test_one_link_in_two_feeds_of_one_pass_is_stored_once(
    store: SqliteStore, clock: ManualClock
) -> None:
    """Two feeds that both looked at the store before either saved carry the same link:
    it is stored once, from the feed that saved first; the rest of both feeds is stored."""
    shared = "<item><guid>{}</guid><title>Same</title><link>https://news.test/same</link></item>"
    docs = {
        f"https://{name}.test/rss": dated_rss(name, 2).replace(
            "<item>", shared.format(name) + "<item>", 1
        )
        for name in ("one", "two")
    }
    for url in docs:
        await _feed(store, url)
    section = _ShutSection(store)
    ingestor = Ingestor(_WithSection(store, section), _MemoryWeb(docs), clock)  # type: ignore[arg-type]
    run = asyncio.create_task(ingestor.run(only_due=False))
    async with asyncio.timeout(10):
        await section.until(2)
    section.open()
    counts = await run
    urls = await store.db.fetch_all("SELECT canonical_url FROM articles")
    assert counts.new_articles == 5
    assert sorted(u for (u,) in urls).count("https://news.test/same") == 1


def _story(n: int) -> str:
    """A long text of its own for story ``n`` (no two are near-copies)."""
    return " ".join(f"Clause {i} of report {n} mentions item{n}x{i} plainly." for i in range(30))


def _items_rss(items: list[tuple[str, str]]) -> str:
    """An RSS feed of (guid, text) items, each linking to its own page."""
    return rss([(guid, f"Report {guid}", text) for guid, text in items])


async def test_what_another_process_saved_meanwhile_is_not_stored_again(
    store: SqliteStore, clock: ManualClock, tmp_path: Path
) -> None:
    """While this ingestor's feed waits at the section (after its first look), another
    process on the same SQLite file (``newsbrief ingest`` beside a running bot) stores two
    of its three entries: the second look finds them, nothing is stored twice, and the
    third is remembered as itself: its copy in another feed is a duplicate."""
    url, copies = "https://one.test/rss", "https://two.test/rss"
    items = [(f"g{n}", _story(n)) for n in range(3)]
    docs = {url: _items_rss(items), copies: _items_rss([("copy", _story(2))])}
    await _feed(store, url)
    section = _ShutSection(store)
    ingestor = Ingestor(_WithSection(store, section), _MemoryWeb(docs), clock)  # type: ignore[arg-type]
    run = asyncio.create_task(ingestor.run(only_due=False))
    other = await SqliteStore.open(tmp_path / "test.db")
    try:
        async with asyncio.timeout(10):
            await section.until(1)
        earlier = _MemoryWeb({url: _items_rss(items[:2])})
        other_counts = await Ingestor(other, earlier, clock).run(only_due=False)
    finally:
        await other.close()
    section.open()
    counts = await run
    stored = await store.db.fetch_all("SELECT guid FROM articles ORDER BY guid")
    assert (other_counts.new_articles, counts.new_articles) == (2, 1)
    assert [g for (g,) in stored] == ["g0", "g1", "g2"]
    await _feed(store, copies)
    again = await ingestor.run(only_due=False)
    assert (again.new_articles, again.duplicates) == (1, 1)


class _RacedArticles:
    """A store's articles whose first ``save_ingest`` lets ``before`` run first: another
    process saving in the moment between this one's second look and its save."""

    def __init__(self, articles: Any, before: Callable[[], Awaitable[None]] | None) -> None:
        self._articles, self._before = articles, before

    async def save_ingest(self, update: FeedUpdate, routed: Sequence[Routed]) -> list[int]:
        if self._before is not None:
            before, self._before = self._before, None
            await before()
        ids: list[int] = await self._articles.save_ingest(update, routed)
        return ids

    def __getattr__(self, name: str) -> Any:
        return getattr(self._articles, name)


class _RacedStore:
    """A store whose articles are ``_RacedArticles``; everything else is the store's own."""

    def __init__(self, store: SqliteStore, before: Callable[[], Awaitable[None]]) -> None:
        self._store = store
        self.articles = _RacedArticles(store.articles, before)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


async def test_a_save_raced_by_another_process_relearns_what_is_stored(
    store: SqliteStore, clock: ManualClock, tmp_path: Path
) -> None:
    """Another process saves two of a feed's three entries between this ingestor's second
    look and its save: nothing is stored twice, and this ingestor learns again from the
    store what is stored, so a later copy of an entry the other process saved is a
    duplicate here too."""
    url, copies = "https://one.test/rss", "https://two.test/rss"
    items = [(f"g{n}", _story(n)) for n in range(3)]
    docs = {url: _items_rss(items), copies: _items_rss([("copy", _story(1))])}
    await _feed(store, url)
    other = await SqliteStore.open(tmp_path / "test.db")

    async def other_process() -> None:
        await Ingestor(other, _MemoryWeb({url: _items_rss(items[:2])}), clock).run(only_due=False)

    try:
        raced = _RacedStore(store, other_process)
        ingestor = Ingestor(raced, _MemoryWeb(docs), clock)  # type: ignore[arg-type]
        counts = await ingestor.run(only_due=False)
    finally:
        await other.close()
    stored = await store.db.fetch_all("SELECT guid FROM articles ORDER BY guid")
    assert counts.new_articles == 1
    assert [g for (g,) in stored] == ["g0", "g1", "g2"]
    await _feed(store, copies)
    again = await ingestor.run(only_due=False)
    assert (again.new_articles, again.duplicates) == (1, 1)


async def test_a_feed_waiting_on_pages_lets_other_feeds_through(
    store: SqliteStore, clock: ManualClock
) -> None:
    """Two feeds whose posted entries are teasers wait on their pages; meanwhile a third
    feed is read and stored. Once the pages answer, the teasers get their text."""
    page = f"<html><body><article><h1>Strike</h1><p>{LONG}</p></article></body></html>"
    docs = {f"https://t{n}.test/rss": dated_rss(f"t{n}", 1, "Teaser…") for n in range(2)}
    docs |= {f"https://news.test/t{n}/0": page for n in range(2)}
    docs["https://plain.test/rss"] = dated_rss("plain", 2)
    web = _MemoryWeb(docs)
    pages = asyncio.Event()
    web.held = {f"https://news.test/t{n}/0": pages for n in range(2)}
    for n in range(2):
        await _feed(store, f"https://t{n}.test/rss", backfill=1)
    await _feed(store, "https://plain.test/rss")
    done: list[FeedOutcome] = []
    plain = asyncio.Event()

    def progress(outcome: FeedOutcome) -> None:
        done.append(outcome)
        if outcome.feed.url.startswith("https://plain"):
            plain.set()

    run = asyncio.create_task(Ingestor(store, web, clock).run(only_due=False, progress=progress))
    async with asyncio.timeout(10):
        await plain.wait()
    assert [o.feed.url for o in done] == ["https://plain.test/rss"]
    pages.set()
    counts = await run
    texts = await store.db.fetch_all("SELECT text FROM articles WHERE url LIKE '%/t_/0'")
    assert counts.new_articles == 4
    assert [("Sentence 29 of the story" in t) for (t,) in texts] == [True, True]


async def test_a_feed_of_many_chunks_is_stored_whole_and_oldest_first(
    store: SqliteStore, clock: ManualClock
) -> None:
    """A feed whose new entries are converted in several chunks has every entry stored,
    oldest first, each with its own text and a content hash."""
    url = "https://big.test/rss"
    await _feed(store, url)
    web = _MemoryWeb({url: dated_rss("big", 150)})
    counts = await Ingestor(store, web, clock).run(only_due=False)
    rows = await store.db.fetch_all("SELECT guid, text, content_hash FROM articles ORDER BY id")
    assert counts.new_articles == 150
    assert [guid for guid, _, _ in rows] == [f"big-{n}" for n in range(150)]
    assert all(text == f"Text {n}" and digest for n, (_, text, digest) in enumerate(rows))


def test_ingest_chunks_are_the_fingerprints_own_batches() -> None:
    """Ingest fingerprints entries in chunks as large as the fingerprints' batches, so the
    stored values are those one batch per feed gives (a text's simhash may depend on the
    text after it in its batch)."""
    from bot.ingest import fingerprint, pipeline

    assert pipeline.PREPARE_CHUNK == fingerprint._BATCH_TEXTS


async def test_a_pass_leaves_every_saved_article_in_the_search_index(
    store: SqliteStore, clock: ManualClock
) -> None:
    """The search index takes saved articles in batches (1,000 at a time while they pile
    up, the rest at the end of the pass): after a pass of 1,200 articles none waits."""
    docs = {f"https://f{n}.test/rss": dated_rss(f"f{n}", 300) for n in range(4)}
    for url in docs:
        await _feed(store, url)
    counts = await Ingestor(store, _MemoryWeb(docs), clock).run(only_due=False)
    indexed = await store.db.fetch_value(
        "SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH 'story'"
    )
    assert (counts.new_articles, indexed, await store.articles.index_pending()) == (1200, 1200, 0)


def _routing_channels() -> list[Channel]:
    """Channels that take every kind of routing path: all feeds, keywords, a digest with a
    pattern, a few listed feeds."""
    return [
        Channel(1, ChatRef("fake", "all")),
        Channel(2, ChatRef("fake", "kw"), Subscription(include=("the",), exclude=("sport",))),
        Channel(
            3,
            ChatRef("fake", "digest"),
            Subscription(patterns=Filters(("(?i)war|china|election",))),
            options=ChannelOptions(digest=("08:00",)),
        ),
        Channel(4, ChatRef("fake", "some"), Subscription(all_feeds=False, feed_ids=frozenset({5}))),
    ]


def test_routing_equals_the_previous_routing_on_every_corpus_feed() -> None:
    """On every corpus feed (each also a second time, as another feed's near-copies), the
    one-pass routing gives the articles, stories, near-copies and channels the previous
    routing gave (``bench/route_v1.py``), and both teach their indexes alike."""
    from bench import route_v1
    from bot.ingest import pipeline, rules

    files = sorted(corpus_or_skip("feeds").glob("*.xml"))
    channels, now = _routing_channels(), 1_800_000_000.0
    new = (NearDuplicateIndex(), StoryIndex())
    old = (NearDuplicateIndex(), StoryIndex())
    stored: set[str] = set()  # canonical URLs stored so far, as the store knows them
    seen = {"routed": 0, "duplicates": 0, "stories": 0, "posts": 0}
    for n, path in enumerate(files * 2, start=1):
        copy = n > len(files)  # the second round: the same texts as other outlets' copies
        doc, raw = pipeline._read_document(path.read_bytes(), path.as_uri())
        canonical = doc.canonical
        if copy:
            raw = [replace(e, guid=f"copy:{e.guid}") for e in raw]
            canonical = {f"copy:{guid}": f"{url}#copy" for guid, url in canonical.items()}
        prepared = pipeline._prepared(raw)
        fresh = rules.new_entries(prepared.entries, set(), stored, canonical)
        feed = Feed(n, path.as_uri(), "", 600.0, n % 4, FeedOrigin.CONFIG, fetched_once=n % 3 > 0)
        following = [c for c in channels if routing.follows_feed(c, feed)]
        decide = pipeline._Routing(feed, following, now, *new)
        routed, duplicates = pipeline._route(fresh, canonical, prepared, decide)
        before = route_v1.route(
            feed, fresh, canonical, channels, now, prepared.prints, prepared.terms, old
        )
        assert (routed, duplicates) == before, path.name
        ids = range(seen["routed"] + 1, seen["routed"] + 1 + len(routed))
        pipeline._remember(*new, routed, ids, prepared.terms)
        route_v1.remember(routed, ids, prepared.terms, old)
        stored.update(canonical.get(e.guid, "") for e in fresh)
        seen["routed"] += len(routed)
        seen["duplicates"] += duplicates
        seen["stories"] += sum(r.article.story is not None for r in routed)
        seen["posts"] += sum(len(r.channel_ids) + len(r.digest_ids) for r in routed)
    assert all(seen.values()), seen


async def test_a_new_pass_counts_its_search_batch_afresh(
    store: SqliteStore, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The end of a pass indexes what it saved, so the next pass asks for a batch only once
    it has itself saved ``INDEX_BATCH`` articles (900, then 300 more: no batch mid-pass)."""
    from bot.ingest.pipeline import INDEX_BATCH

    asked: list[int] = []
    index_pending = store.articles.index_pending

    async def recorded(at_least: int = 1) -> int:
        asked.append(at_least)
        return await index_pending(at_least)

    monkeypatch.setattr(store.articles, "index_pending", recorded)
    urls = [f"https://f{n}.test/rss" for n in range(3)]
    for url in urls:
        await _feed(store, url)
    body = "A whole article, not a teaser. " * 25  # no page to fetch

    def web(count: int) -> _MemoryWeb:
        return _MemoryWeb({u: dated_rss(u[8:10], count, body) for u in urls})

    ingestor = Ingestor(store, web(300), clock)
    await ingestor.run(only_due=False)
    ingestor._fetcher = web(400)
    counts = await ingestor.run(only_due=False)
    assert counts.new_articles == 300
    assert INDEX_BATCH not in asked and asked == [1, 1]

"""Ingest: fetch due feeds, parse off the loop, find what is new, fill in full text, dedup,
and store articles with their outbox rows in one transaction.

Memory in flight is bounded: a fetch starts only while the fetched bodies waiting for the
parser total under ``backlog_bytes``; at most ``cpu_concurrency + 1`` feeds are between
their parse and their save (a feed waiting on teaser pages steps out meanwhile); a feed
drops its document once read and converts its new entries a chunk at a time."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import partial
from typing import ParamSpec, TypeVar

from bot.errors import FeedError, HTTPStatusError, NewsbriefError, StoreError
from bot.feeds.canon import document_urls
from bot.feeds.extract import extract_article
from bot.feeds.parse import RawEntry, entry_is_teaser, read_feed
from bot.ingest import routing, rules
from bot.ingest.budget import Backlog, Turn
from bot.ingest.dedup import NearDuplicateIndex
from bot.ingest.fingerprint import (
    FINGERPRINT_CHARS,
    FINGERPRINT_VERSION,
    fingerprints,
    simhashes,
)
from bot.ingest.stories import StoryIndex, story_terms
from bot.metrics import Metrics, NoMetrics
from bot.ports import Clock, Fetcher, FetchRequest
from bot.store.ports import Store
from bot.types import (
    Channel,
    Feed,
    FeedEntry,
    FeedOrigin,
    FeedUpdate,
    IngestCounts,
    NewArticle,
    Routed,
    StoryLead,
)

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")

FEED_MAX_BYTES = 10 * 1024 * 1024
PAGE_MAX_BYTES = 5 * 1024 * 1024
DEDUP_WINDOW = 7 * 86400.0
MAX_TITLE = 500
SECTION = "ingest"  # the exclusive section deciding what is new, across workers
INDEX_BATCH = 1000  # saved articles the search index takes at once (python -m bench search)
BACKLOG_BYTES = 4 * 1024 * 1024  # fetched feed bodies waiting for the parser, about at most
# entries converted to text and fingerprinted at a time: the fingerprints' own batch, so a
# chunk's values are those of one batch (a text's simhash may depend on the text after it)
PREPARE_CHUNK = 64


class FetchStatus(StrEnum):
    """How one feed's fetch in a pass ended."""

    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


@dataclass(frozen=True)
class FeedOutcome:
    """What happened to one feed in a pass."""

    feed: Feed
    status: FetchStatus
    entries: int = 0
    new_articles: int = 0
    duplicates: int = 0
    queued_posts: int = 0
    error: str = ""


ProgressCallback = Callable[[FeedOutcome], None]


@dataclass
class _Prepared:
    """A feed's new entries with their text, and per GUID their fingerprints and terms."""

    entries: list[FeedEntry] = field(default_factory=list)
    prints: dict[str, tuple[str, int]] = field(default_factory=dict)
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # per GUID, where its entry is: kept as entries are taken, made again if out of step
    where: dict[str, int] = field(default_factory=dict)

    def replace(self, other: _Prepared) -> None:
        """Take ``other``'s entries: in place of those with the same GUID, else appended."""
        entries, where = self.entries, self.where
        if len(where) != len(entries):
            where.clear()
            where.update((e.guid, n) for n, e in enumerate(entries))
        for entry in other.entries:
            n = where.get(entry.guid)
            if n is None:
                where[entry.guid] = len(entries)
                entries.append(entry)
            else:
                entries[n] = entry
        self.prints |= other.prints
        self.terms |= other.terms


class Ingestor:
    """Runs ingest passes over the store's feeds."""

    def __init__(
        self,
        store: Store,
        fetcher: Fetcher,
        clock: Clock,
        *,
        feed_concurrency: int = 8,
        page_concurrency: int = 4,
        cpu_concurrency: int = 1,
        backlog_bytes: int = BACKLOG_BYTES,
        metrics: Metrics | None = None,
        worker: str = "",
    ) -> None:
        self._store = store
        self._worker = worker
        self._metrics = metrics or NoMetrics()
        self._fetcher = fetcher
        self._clock = clock
        self._feed_slots = asyncio.Semaphore(feed_concurrency)
        self._claim_batch = feed_concurrency
        self._page_slots = asyncio.Semaphore(page_concurrency)
        # CPU work (parsing, HTML to text, fingerprints, page extraction) holds the GIL:
        # more of it in flight only holds more documents in memory at once.
        self._cpu_slots = asyncio.Semaphore(cpu_concurrency)
        self._cpu = ThreadPoolExecutor(cpu_concurrency, thread_name_prefix="ingest")
        # feeds between their parse and their save: one more than the CPU can work on, so
        # the CPU has the next feed while one waits on the store
        self._work_slots = asyncio.Semaphore(cpu_concurrency + 1)
        self._backlog = Backlog(backlog_bytes)
        self._near: NearDuplicateIndex | None = None
        self._stories: StoryIndex | None = None
        self._seen_id = 0  # the highest article id the warm indexes know of
        self._unindexed = 0  # articles this ingestor saved since it last asked for a batch

    def close(self) -> None:
        """Let the CPU thread end (work not started is dropped; no pass may run after)."""
        self._cpu.shutdown(wait=False, cancel_futures=True)

    async def _index(self) -> NearDuplicateIndex:
        if self._near is None:
            self._seen_id = await self._store.articles.last_id()
            index = NearDuplicateIndex()
            since = self._clock.now() - DEDUP_WINDOW
            await self._refingerprint(since)
            for value, story_id in await self._store.articles.fingerprints_since(since):
                index.add(value, story_id)
            self._near = index
        return self._near

    async def _refingerprint(self, since: float) -> None:
        """After an upgrade to another fingerprint version, the articles within the dedup
        window get this version's fingerprints, from their stored text (a page at a time,
        off the loop), before any new article is compared with them."""
        articles = self._store.articles
        if await articles.fingerprint_version() == FINGERPRINT_VERSION:
            return
        after = count = 0
        while page := await articles.texts_since(since, after, PREPARE_CHUNK, FINGERPRINT_CHARS):
            values = await self._off_loop(simhashes, [text for _, text in page])
            await articles.replace_fingerprints(
                [(article_id, value) for (article_id, _), value in zip(page, values, strict=True)]
            )
            after, count = page[-1][0], count + len(page)
        await articles.record_fingerprint_version(FINGERPRINT_VERSION)
        if count:
            log.info("near-duplicate fingerprints made again for %d recent articles", count)

    async def _story_index(self) -> StoryIndex:
        """The open stories, warmed once from the store's recent articles (off the loop)."""
        if self._stories is None:
            index = StoryIndex()
            since = self._clock.now() - index.rules.df_horizon
            leads = await self._store.articles.story_leads_since(since)
            await asyncio.to_thread(_warm_stories, index, leads)
            self._stories = index
        return self._stories

    async def _catch_up(self) -> None:
        """Teach the warm indexes what other workers sharing the store saved since this
        one last looked (called holding the ingest section, so nothing is saved meanwhile):
        a copy of their article is then a duplicate here too, and joins their story."""
        if not self._store.shared or self._near is None:
            return
        saved = await self._store.articles.saved_after(self._seen_id)
        for article in saved:
            self._near.add(article.simhash, article.lead.story_id)
        if self._stories is not None and saved:
            await asyncio.to_thread(_warm_stories, self._stories, [a.lead for a in saved])
        self._seen(a.id for a in saved)

    def _seen(self, ids: Iterable[int]) -> None:
        self._seen_id = max(self._seen_id, *ids, 0)

    async def run(
        self, *, only_due: bool = True, progress: ProgressCallback | None = None
    ) -> IngestCounts:
        """One pass over due (or all active) feeds; never raises for a feed's failure."""
        now = self._clock.now()
        channels = await self._store.channels.all()
        async with self._store.locks.exclusive(SECTION):
            await self._index()
        outcomes: list[FeedOutcome] = []

        async def one(feed: Feed) -> None:
            try:
                outcome = await self.ingest_feed(feed, channels)
            finally:
                self._feed_slots.release()
            self._unindexed += outcome.new_articles
            if self._unindexed >= INDEX_BATCH:  # the store is asked only then
                self._unindexed = 0
                await self._index_search(INDEX_BATCH)
            self._counted(outcome)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)

        feeds = self._claimed(now) if only_due else _each(await self._store.feeds.active())
        async with asyncio.TaskGroup() as group:
            while True:
                await self._feed_slots.acquire()  # a feed is claimed only when it can start
                feed = await anext(feeds, None)
                if feed is None:
                    self._feed_slots.release()
                    break
                group.create_task(one(feed))
        self._unindexed = 0
        await self._index_search(1)  # the pass's last saves, searchable
        return _count(outcomes)

    async def _index_search(self, at_least: int) -> None:
        """Give the search index what waits for it, once ``at_least`` articles do. A
        failure (the database busy) is logged, never a feed's failure: the articles are
        saved, and the next batch or search indexes them."""
        try:
            await self._store.articles.index_pending(at_least)
        except StoreError as e:
            log.warning("search index not brought up to date yet: %s", e)

    async def _claimed(self, now: float) -> AsyncIterator[Feed]:
        """Due feeds, claimed a few at a time as this worker can start them: another worker
        sharing the store takes the rest instead of waiting behind one that claimed all."""
        while batch := await self._store.feeds.claim_due(now, self._worker, self._claim_batch):
            for feed in batch:
                yield feed

    def _counted(self, outcome: FeedOutcome) -> None:
        self._metrics.inc("newsbrief_feed_fetches_total", result=outcome.status.value)
        if outcome.new_articles:
            self._metrics.inc("newsbrief_articles_stored_total", outcome.new_articles)

    async def ingest_feed(self, feed: Feed, channels: Sequence[Channel]) -> FeedOutcome:
        """Fetch, parse and store one feed; a failure is recorded on the feed, not raised."""
        try:
            return await self._ingest(feed, channels)
        except FeedError as e:
            return await self._failed(feed, e.reason, _retry_after(e))
        except NewsbriefError as e:
            return await self._failed(feed, str(e), 0.0)

    async def _ingest(self, feed: Feed, channels: Sequence[Channel]) -> FeedOutcome:
        turn = Turn(self._work_slots)
        try:
            read = await self._read(feed, turn)
            if read is None:
                return FeedOutcome(feed, FetchStatus.NOT_MODIFIED)
            update, doc, entries = read
            # only entries not seen before get their text, fingerprints and terms (one
            # trip off the loop), and again the few whose page text replaced a teaser;
            # the list of raw entries shrinks in place, then empties as it is converted
            entries[:] = await self._fresh(feed, entries, doc.canonical)
            prepared = await self._off_loop(_prepared, entries)
            prepared = await self._with_full_text(feed, prepared, turn)
            routed, ids, duplicates = await self._save(
                feed, channels, prepared, doc.canonical, update
            )
        finally:
            turn.give()
        queued = sum(len(r.channel_ids) + len(r.digest_ids) for r in routed)
        return FeedOutcome(feed, FetchStatus.OK, doc.count, len(ids), duplicates, queued)

    async def _read(
        self, feed: Feed, turn: Turn
    ) -> tuple[FeedUpdate, _Document, list[RawEntry]] | None:
        """Fetch the feed and read its document, or None when it was not modified. The
        body counts in the backlog until it is read, and is dropped on return."""
        await self._backlog.admit()
        size = 0
        try:
            result = await self._fetcher.fetch(_feed_request(feed))
            size = 0 if result.not_modified else len(result.body)
        finally:
            self._backlog.arrived(size)
        now = self._clock.now()
        if result.not_modified:
            next_due = rules.feed_next_due(feed, now)
            await self._store.feeds.record_not_modified(feed.id, now, next_due)
            return None
        try:
            await turn.take()
            doc, entries = await self._off_loop(_read_document, result.body, result.url)
        finally:
            self._backlog.read(size)
        update = FeedUpdate(
            feed_id=feed.id,
            now=now,
            next_due=rules.feed_next_due(feed, now),
            etag=result.etag,
            last_modified=result.last_modified,
            title=doc.title or None,
        )
        return update, doc, entries

    async def _save(
        self,
        feed: Feed,
        channels: Sequence[Channel],
        prepared: _Prepared,
        canonical: dict[str, str],
        update: FeedUpdate,
    ) -> tuple[list[Routed], list[int], int]:
        """Decide what is new and what duplicates what, and save it: one feed at a time (of
        every worker sharing the store), so two feeds carrying the same story cannot both
        post it. Returns what was routed, the new ids and the number of duplicates."""
        async with self._store.locks.exclusive(SECTION):
            await self._catch_up()
            # a second look: another process may have saved some meanwhile (on SQLite too:
            # `newsbrief ingest` beside a running bot)
            fresh = await self._fresh(feed, prepared.entries, canonical)
            near, stories = await self._index(), await self._story_index()
            # only the channels following the feed can take its articles
            following = [c for c in channels if routing.follows_feed(c, feed)]
            decide = _Routing(feed, following, update.now, near, stories)
            routed, duplicates = _route(fresh, canonical, prepared, decide)
            ids = await self._store.articles.save_ingest(update, routed)
            self._seen(ids)
            if len(ids) == len(routed):
                _remember(near, stories, routed, ids, prepared.terms)
            else:  # another process saved some meanwhile: learn it all again from the store
                log.info("feed %s: another process saved some of its entries", feed.label)
                self._near = self._stories = None
        return routed, ids, duplicates

    async def _off_loop(self, work: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run CPU work in a worker thread, at most ``cpu_concurrency`` at a time."""
        async with self._cpu_slots:
            loop = asyncio.get_running_loop()
            context = contextvars.copy_context()  # as asyncio.to_thread does
            return await loop.run_in_executor(
                self._cpu, partial(context.run, work, *args, **kwargs)
            )

    async def _fresh(
        self, feed: Feed, entries: Sequence[rules.Entry], canonical: dict[str, str]
    ) -> list[rules.Entry]:
        """The entries not stored yet (``canonical``: each GUID's canonical URL)."""
        guids = {e.guid for e in entries}
        urls = [u for u in (canonical.get(g, "") for g in guids) if u]
        known_guids, known_urls = await self._store.articles.known(feed.id, guids, urls)
        return rules.new_entries(entries, known_guids, known_urls, canonical)

    async def _with_full_text(self, feed: Feed, prepared: _Prepared, turn: Turn) -> _Prepared:
        """Teaser-only entries that will be posted get their pages' text (fetched
        concurrently, with the work slot given up meanwhile), fingerprints and terms."""
        to_post = rules.entries_to_post(feed, prepared.entries)
        teasers = [
            e for e in prepared.entries if e.guid in to_post and e.url and entry_is_teaser(e)
        ]
        if not teasers:
            return prepared
        turn.give()  # pages can take their whole timeout: other feeds go on meanwhile
        filled = await asyncio.gather(*(self._full_text(feed, e) for e in teasers))
        await turn.take()
        changed = [full for full, teaser in zip(filled, teasers, strict=True) if full != teaser]
        if changed:
            prepared.replace(await self._off_loop(_prepared_entries, changed))
        return prepared

    async def _full_text(self, feed: Feed, entry: FeedEntry) -> FeedEntry:
        """Fetch the page of a teaser-only entry and extract its body; keep the teaser on
        any failure (logged, never fatal)."""
        request = FetchRequest(
            url=entry.url, max_bytes=PAGE_MAX_BYTES, trusted=feed.origin != FeedOrigin.CHAT
        )
        try:
            async with self._page_slots:
                page = await self._fetcher.fetch(request)
            extracted = await self._off_loop(extract_article, page.body, page.url)
        except NewsbriefError as e:
            log.info("page for %s not fetched: %s", entry.url, e)
            return entry
        if extracted is None:
            return entry
        image = entry.image or extracted.image  # the page's og:image when the feed had none
        if len(extracted.text) <= len(entry.text):
            return replace(entry, image=image)
        return replace(entry, text=extracted.text, image=image)

    async def _failed(self, feed: Feed, reason: str, retry_after: float) -> FeedOutcome:
        failures = feed.failures + 1
        now = self._clock.now()
        pause = rules.feed_should_pause(failures)
        next_due = rules.feed_next_due(feed, now, failures=failures, retry_after=retry_after)
        stored = f"{reason} (paused after {failures} failures in a row)" if pause else reason
        await self._store.feeds.record_failure(feed.id, stored, next_due=next_due, pause=pause)
        log.warning("feed %s failed (%d in a row): %s", feed.label, failures, reason)
        return FeedOutcome(feed, FetchStatus.FAILED, error=stored)


def _retry_after(error: FeedError) -> float:
    if isinstance(error, HTTPStatusError) and error.retry_after:
        return error.retry_after
    return 0.0


def _feed_request(feed: Feed) -> FetchRequest:
    """The conditional GET of a feed."""
    return FetchRequest(
        url=feed.url,
        max_bytes=FEED_MAX_BYTES,
        trusted=feed.origin != FeedOrigin.CHAT,
        etag=feed.etag,
        last_modified=feed.last_modified,
    )


@dataclass(frozen=True)
class _Document:
    """What a feed's document says beside its entries."""

    title: str
    count: int  # its entries
    canonical: dict[str, str]  # per GUID, the canonical URL of its link


def _read_document(body: bytes, url: str) -> tuple[_Document, list[RawEntry]]:
    """Read a feed document (in a worker thread): its title, canonical URLs and entries.

    Raises:
        ParseError: the bytes are not a feed.
    """
    parsed = read_feed(body, url)
    entries = list(parsed.entries)
    return _Document(parsed.title, len(entries), _canonical(entries)), entries


def _canonical(entries: Sequence[RawEntry]) -> dict[str, str]:
    """Per GUID, the canonical URL of its link among the document's links."""
    urls = document_urls([e.url for e in entries])
    return {e.guid: url for e, url in zip(entries, urls, strict=True)}


def _title(entry: FeedEntry) -> str:
    return (entry.title or entry.text[:80] or "(untitled)").strip()[:MAX_TITLE]


def _prepared(raw: list[RawEntry]) -> _Prepared:
    """The entries' text, fingerprints and story terms, made a chunk at a time. Consumes
    ``raw`` (it ends empty): each chunk's markup is dropped once converted, so a big feed
    never holds all its markup and all its text at once."""
    prepared = _Prepared()
    while raw:
        chunk = [entry.entry() for entry in raw[:PREPARE_CHUNK]]
        del raw[:PREPARE_CHUNK]
        prepared.replace(_prepared_entries(chunk))
    return prepared


def _prepared_entries(entries: list[FeedEntry]) -> _Prepared:
    """Converted entries with, per GUID, their content hash and near-duplicate fingerprint
    (made in one batch) and the terms story clustering compares articles by."""
    pairs = [(_title(e), e.text) for e in entries]
    guids = [e.guid for e in entries]
    prints = dict(zip(guids, fingerprints(pairs), strict=True))
    terms = {g: story_terms(*pair) for g, pair in zip(guids, pairs, strict=True)}
    return _Prepared(entries, prints, terms)


def _warm_stories(index: StoryIndex, leads: Sequence[StoryLead]) -> None:
    """Fill a fresh story index with stored articles, oldest first."""
    index.extend(
        (lead.story_id, story_terms(lead.title, lead.lead), lead.published) for lead in leads
    )


@dataclass(frozen=True)
class _Routing:
    """What decides about a feed's new articles: the channels following the feed, now, and
    the warm indexes."""

    feed: Feed
    following: Sequence[Channel]
    now: float
    near: NearDuplicateIndex
    stories: StoryIndex


def _route(
    fresh: Sequence[FeedEntry],
    canonical: dict[str, str],
    prepared: _Prepared,
    decide: _Routing,
) -> tuple[list[Routed], int]:
    """The new entries as articles with what is decided about each, oldest first (so a
    channel receives a feed's posts in publication order), and how many are near-copies."""
    to_post = rules.entries_to_post(decide.feed, fresh)
    routed = [
        _decided(decide, entry, canonical.get(entry.guid, ""), prepared, entry.guid in to_post)
        for entry in sorted(fresh, key=_published)
    ]
    return routed, sum(item.article.duplicate_of is not None for item in routed)


def _decided(
    decide: _Routing, entry: FeedEntry, canonical: str, prepared: _Prepared, to_post: bool
) -> Routed:
    """One new entry as an article (built once, with every decision in it) and the
    channels that get it: a near-copy joins its story and is not posted; any other article
    joins the open story of the same event, if any, and goes to the channels that take it."""
    content_hash, simhash = prepared.prints[entry.guid]
    now = decide.now
    published = min(entry.published, now) if entry.published else now
    copy_of = decide.near.find(simhash)  # never for NO_FINGERPRINT
    match = None if copy_of else decide.stories.find(prepared.terms[entry.guid], published)
    post = to_post and copy_of is None
    article = NewArticle(
        feed_id=decide.feed.id,
        guid=entry.guid,
        url=entry.url,
        canonical_url=canonical,
        title=_title(entry),
        text=entry.text,
        published=published,
        content_hash=content_hash,
        simhash=simhash,
        duplicate_of=copy_of,
        post=post,
        story=match.story_id if match else None,
        image=entry.image,
        author=entry.author,
        tags=entry.tags,
    )
    if not (post and decide.following):
        return Routed(article, ())
    targets = routing.route(decide.following, decide.feed, article.title, entry.text, entry.tags)
    return Routed(article, *routing.by_digest(decide.following, targets))


def _published(entry: FeedEntry) -> float:
    return entry.published or 0.0


def _remember(
    near: NearDuplicateIndex,
    stories: StoryIndex,
    routed: Sequence[Routed],
    ids: Sequence[int],
    terms: dict[str, tuple[str, ...]],
) -> None:
    """The warm indexes learn the saved articles: each one that is no near-copy is a
    fingerprint of its own story, and every one counts in its story."""
    for item, article_id in zip(routed, ids, strict=True):
        a = item.article
        if a.duplicate_of is None:
            near.add(a.simhash, article_id)  # NO_FINGERPRINT is never stored
        story = next(s for s in (a.duplicate_of, a.story, article_id) if s is not None)
        stories.add(story, terms[a.guid], a.published)


async def _each(feeds: Iterable[Feed]) -> AsyncIterator[Feed]:
    for feed in feeds:
        yield feed


def _count(outcomes: Sequence[FeedOutcome]) -> IngestCounts:
    return IngestCounts(
        feeds=len(outcomes),
        fetched=sum(o.status is FetchStatus.OK for o in outcomes),
        not_modified=sum(o.status is FetchStatus.NOT_MODIFIED for o in outcomes),
        failed=sum(o.status is FetchStatus.FAILED for o in outcomes),
        entries=sum(o.entries for o in outcomes),
        new_articles=sum(o.new_articles for o in outcomes),
        duplicates=sum(o.duplicates for o in outcomes),
        queued_posts=sum(o.queued_posts for o in outcomes),
    )

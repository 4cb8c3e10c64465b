"""The store port: what the core asks of durable state, grouped by topic.

The core is typed against these Protocols only; ``bot.store.sqlite`` implements them on one
SQLite file, and any other implementation (PostgreSQL) passes the same contract suite
(``tests/bot/store``).

Error contract, for every method of every Protocol here: a failing database raises
:class:`~bot.errors.StoreError` (with the driver's error chained). No method raises for
"not found": lookups return None, and writes to a row that does not exist change nothing.
Times are POSIX seconds passed in by the caller; no implementation reads a clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from bot.store.tables import Table
from bot.types import (
    Article,
    Channel,
    ChannelOptions,
    ChatRef,
    Delivered,
    Feed,
    FeedCounts,
    FeedOrigin,
    FeedUpdate,
    Filters,
    OutboxCounts,
    OutboxItem,
    OutboxKind,
    OutboxRow,
    OutboxState,
    PlatformPoll,
    Poll,
    PollOrigin,
    PollPolicy,
    Routed,
    SavedArticle,
    SearchHit,
    Story,
    StoryAsk,
    StoryLead,
    StoryMode,
    StoryPost,
    Subscription,
)
from summarizer.base import PollProposal

# How much of an article's text story clustering reads: its lead (120 content words are
# about 1,200 characters of news prose; the rest is margin).
LEAD_CHARS = 2000

# What search indexes of an article: its title and the first this many characters of its
# text, the length story clustering reads too (both stores' migrations write it out). The
# longest prefix whose index upkeep costs no more than saving the articles (0.9x; 4,000
# characters cost 1.1-1.3x): topic searches find the right story more often than with
# 4,000 or the whole text, and a word mentioned only past this point is not found
# (python -m bench search, docs/benchmarks.md).
SEARCH_CHARS = 2000

# How many matches search ranks: the newest this many (by arrival). A common word in a
# store of 1,000,000 articles matches tens of thousands; ranking only the newest keeps a
# topic search fast (ranking favours recent stories anyway; python -m bench topics).
RANKED_MATCHES = 2000


def poll_row(kind: OutboxKind, poll_id: int) -> tuple[str, str]:
    """The dedup key and payload of a poll or results outbox row: one per poll and
    channel, the payload naming the poll."""
    return f"{kind.value}:{poll_id}", json.dumps({"poll_id": poll_id})


def digest_row(slot: float) -> tuple[str, str]:
    """The dedup key and payload of a digest outbox row: one per channel and slot."""
    return f"{OutboxKind.DIGEST.value}:{slot:.0f}", json.dumps({"slot": slot})


def digest_slot(payload: str) -> float:
    """The slot a digest row's payload names.

    Raises:
        ValueError: the payload names no slot.
    """
    try:
        return float(json.loads(payload)["slot"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"not a digest row payload: {payload[:80]!r}") from e


def story_of(story_id: int, articles: Sequence[Article]) -> Story:
    """A story from all its articles, first telling first: its title is its first
    article's, its times span their publication times."""
    times = [a.published for a in articles]
    title = next((a.title for a in articles if a.id == story_id), articles[0].title)
    return Story(story_id, title, tuple(articles), min(times), max(times))


def poll_of(payload: str) -> int:
    """The poll id a poll or results row's payload names.

    Raises:
        ValueError: the payload names no poll.
    """
    try:
        return int(json.loads(payload)["poll_id"])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"not a poll row payload: {payload[:80]!r}") from e


class FeedStore(Protocol):
    """Followed feeds and their fetch state (validators, schedule, health)."""

    async def upsert(
        self, url: str, *, name: str, origin: FeedOrigin, every: float, backfill: int, now: float
    ) -> Feed:
        """Add a feed, or update the settings of the feed with that URL (its fetch state
        stays). A feed removed earlier comes back active; a chat feed named by the operator
        takes the operator's origin."""
        ...

    async def get(self, feed_id: int) -> Feed | None:
        """The feed with this id."""
        ...

    async def by_url(self, url: str) -> Feed | None:
        """The feed with exactly this URL."""
        ...

    async def all(self) -> list[Feed]:
        """Every feed, paused ones too, in the order they were added."""
        ...

    async def active(self) -> list[Feed]:
        """Feeds that are not paused, in the order they were added."""
        ...

    async def due(self, now: float) -> list[Feed]:
        """Active feeds whose next fetch is due at ``now``, the most overdue first."""
        ...

    async def claim_due(self, now: float, owner: str, limit: int | None = None) -> list[Feed]:
        """Claim active feeds due at ``now`` that no worker holds, the most overdue first:
        each is held by ``owner`` (no other worker fetches it) until its fetch is recorded
        (``record_failure``, ``record_not_modified``, ``ArticleStore.save_ingest``) or
        ``WorkerStore.recover`` frees the feeds of a worker that stopped."""
        ...

    async def next_due(self) -> float | None:
        """When the next active feed not held by a worker is due; None when there is none."""
        ...

    async def counts(self) -> FeedCounts:
        """How many feeds there are and how many are paused."""
        ...

    async def remove(self, feed_id: int) -> None:
        """Stop following a feed: unsubscribed everywhere and paused with the reason
        ``removed`` (its articles stay searchable)."""
        ...

    async def set_paused(self, feed_id: int, paused: bool, reason: str | None) -> None:
        """Pause (with a reason) or resume a feed; resuming clears its failures and makes
        it due at once."""
        ...

    async def record_failure(
        self, feed_id: int, reason: str, *, next_due: float, pause: bool
    ) -> None:
        """Count a failed fetch with its reason; ``pause`` stops the feed until resumed."""
        ...

    async def record_not_modified(self, feed_id: int, now: float, next_due: float) -> None:
        """A 304: the feed is healthy and due again at ``next_due``; nothing else changes."""
        ...


class ArticleStore(Protocol):
    """Articles, their stories, and full-text search over title and text."""

    async def known(
        self, feed_id: int, guids: Iterable[str], canonical_urls: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """Which of these GUIDs (in this feed) and canonical URLs (in any feed) are stored."""
        ...

    async def fingerprints_since(self, since: float) -> list[tuple[int, int]]:
        """(near-duplicate fingerprint, story id) of articles fetched since ``since``,
        oldest first. Fingerprints are unsigned 64-bit integers."""
        ...

    async def fingerprint_version(self) -> int:
        """The version of near-duplicate fingerprint the articles within the dedup window
        hold: the last ``record_fingerprint_version``, 1 for a store made before versions
        were recorded."""
        ...

    async def texts_since(
        self, since: float, after_id: int, limit: int, chars: int
    ) -> list[tuple[int, str]]:
        """(id, the first ``chars`` characters of its text) of up to ``limit`` articles
        fetched since ``since`` with an id above ``after_id``, lowest id first: a page of
        what fingerprints are recomputed from."""
        ...

    async def replace_fingerprints(self, values: Sequence[tuple[int, int]]) -> None:
        """Give each article of (id, near-duplicate fingerprint) that fingerprint (unsigned
        64-bit); an id not stored changes nothing."""
        ...

    async def record_fingerprint_version(self, version: int) -> None:
        """Record that the articles within the dedup window hold fingerprints of
        ``version`` (after ``replace_fingerprints`` gave them all)."""
        ...

    async def save_ingest(self, update: FeedUpdate, routed: Sequence[Routed]) -> list[int]:
        """Store a fetch's new articles, their outbox rows (kind ``article``, one per
        channel: pending for ``channel_ids``, held for the digest of ``digest_ids``) and
        the feed's new fetch state in ONE transaction.

        Returns the new article ids, in order. An article whose GUID is already stored for
        the feed is skipped (a concurrent pass stored it first), and so are its rows. An
        article with ``duplicate_of`` joins that story, else one with ``story`` joins that
        one; any other starts its own.
        """
        ...

    async def last_id(self) -> int:
        """The highest article id given out so far (0 when there is none)."""
        ...

    async def saved_after(self, after_id: int) -> list[SavedArticle]:
        """Every article with an id above ``after_id``, lowest id first: what a worker's
        ingest indexes have not seen, when several workers share the store."""
        ...

    async def story_leads_since(self, since: float) -> list[StoryLead]:
        """Story, title and the first ``LEAD_CHARS`` characters of the text of every
        article published since ``since``, oldest first (ties by id): what story
        clustering reads at start-up."""
        ...

    async def stories_since(self, since: float, limit: int) -> list[Story]:
        """Stories with an article published since ``since``, the latest published first
        (ties: the higher story id), at most ``limit``; each with all its articles, first
        telling first."""
        ...

    async def get(self, article_id: int) -> Article | None:
        """One article with its feed's name."""
        ...

    async def latest(self, limit: int, feed_ids: Iterable[int] | None = None) -> list[Article]:
        """The newest stories' first articles, newest first; only from ``feed_ids`` when
        given (an empty list means no feed, not every feed)."""
        ...

    async def index_pending(self, at_least: int = 1) -> int:
        """Bring the search index up to date with every saved article, when at least
        ``at_least`` wait for it (SQLite indexes saved articles in batches, as this is
        called; PostgreSQL's index is always current). Returns how many were indexed.

        ``search`` calls it first, so a search never misses a saved article; ingest calls
        it as articles pile up and at the end of each pass, so searches rarely wait."""
        ...

    async def search(
        self, terms: Sequence[str], *, any_term: bool, limit: int, since: float
    ) -> list[SearchHit]:
        """Articles published since ``since`` whose title or text (its first
        ``SEARCH_CHARS`` characters) holds every term (any term with ``any_term``), best
        match first among the ``RANKED_MATCHES`` newest matches. Terms are plain words:
        whatever they contain is matched as text, never read as query syntax (a NUL
        character counts as a space)."""
        ...

    async def story_sources(self, story_ids: Iterable[int]) -> dict[int, list[Article]]:
        """Every article of each story, first telling first."""
        ...

    async def recent_story_titles(self, since: float, limit: int) -> list[str]:
        """Titles of the newest stories published since ``since``, newest first."""
        ...

    async def count(self) -> int:
        """How many articles are stored."""
        ...


class ChannelStore(Protocol):
    """Chats that receive posts, and what they subscribe to."""

    async def upsert(
        self,
        ref: ChatRef,
        *,
        origin: FeedOrigin,
        subscription: Subscription | None = None,
        polls: PollPolicy = PollPolicy.AUTO,
        poll_duration: float = 24 * 3600,
        stories: StoryMode = StoryMode.THREAD,
        now: float,
    ) -> Channel:
        """Create the channel for ``ref`` if needed; with ``subscription``, replace its
        subscription, poll policy and poll duration by these, and its ``stories`` setting.
        A chat's thread (a topic) is a channel of its own."""
        ...

    async def get(self, channel_id: int) -> Channel | None:
        """The channel with this id."""
        ...

    async def by_ref(self, ref: ChatRef) -> Channel | None:
        """The channel of this chat."""
        ...

    async def all(self) -> list[Channel]:
        """Every channel, in the order they were added."""
        ...

    async def subscribe(self, channel_id: int, feed_id: int) -> bool:
        """Add a feed to a channel's subscription; False if it was there already."""
        ...

    async def unsubscribe(self, channel_id: int, feed_id: int) -> bool:
        """Remove a feed from a channel's subscription; False if it was not there."""
        ...

    async def set_paused(self, channel_id: int, reason: str | None) -> None:
        """Pause a channel with a reason the operator sees; None resumes it."""
        ...

    async def hold_until(self, channel_id: int, when: float) -> None:
        """Send nothing to this channel before ``when`` (a platform's rate limit)."""
        ...

    async def move(self, old: ChatRef, new: ChatRef) -> bool:
        """A chat changed id: its channel (subscription and outbox included) follows it.
        False, and nothing changes, if there is no channel for ``old`` or a channel for
        ``new`` exists already."""
        ...

    async def configure(self, channel_id: int, options: ChannelOptions, now: float) -> None:
        """Set a channel's digest schedule, summary language and locale, and how its
        posts look (images, template, timezone). When the digest
        schedule changes, the channel's last digest slot becomes ``now``: no slot from
        before the change is owed."""
        ...

    async def set_chat_filters(self, channel_id: int, filters: Filters) -> None:
        """Replace the filters a chat's admins set (``Channel.chat_filters``); the
        operator's, in the subscription, stay."""
        ...


class OutboxStore(Protocol):
    """The durable outbox: every post owed to a channel, and its delivery state."""

    async def enqueue(
        self,
        channel_id: int,
        kind: OutboxKind,
        dedup_key: str,
        payload: str,
        now: float,
        article_id: int | None = None,
    ) -> bool:
        """Queue one message; False if the channel has a row with this key already (ever)."""
        ...

    async def recover_in_flight(self) -> int:
        """After a crash of the only process using this store: every row left in flight goes
        back to pending (and every feed it held is freed); returns how many rows. A store
        several workers share recovers one worker's claims with ``WorkerStore.recover``."""
        ...

    async def claim_due(
        self,
        now: float,
        limit: int,
        *,
        busy: Iterable[int] = (),
        platforms: Iterable[str],
        owner: str = "",
    ) -> list[OutboxItem]:
        """Claim up to ``limit`` due rows of channels on ``platforms``, the earliest due
        first: each channel's head row only (its oldest row neither sent nor dead, a poll
        row first), skipping paused, held and ``busy`` channels and any channel with a row
        in flight. A head row not yet due holds back the rows behind it. Claimed rows are
        in flight, held by ``owner``, until marked sent, retried or dead (or recovered)."""
        ...

    async def next_due(self, platforms: Iterable[str]) -> float | None:
        """The earliest time :meth:`claim_due` could claim a row on ``platforms`` (a head
        row of an active channel, not before its hold); None when there is none."""
        ...

    async def mark_sent(self, item_id: int, delivered: Delivered, now: float) -> None:
        """Final: the platform has the message; the row is never sent again. In the same
        transaction: the reader poll the post opens is created (once per article) and
        queued under it in that channel, and a platform poll is remembered for its reader
        poll, with the votes held for it (:meth:`PollStore.hold_vote`) attached, the held
        rows a digest gathered (``delivered.digested``, of the same channel) are sent with
        it, and what the message told the channel of its story is recorded
        (:meth:`StoryStore.post`: the first post of a story in a channel is its post; a
        later one replaces the sentences told and, when it opened one, the thread).
        ``delivered.note`` is kept as the row's last error for the operator."""
        ...

    async def mark_skipped(self, item_id: int, reason: str) -> None:
        """Final: the row is not sent, by the channel's rules, kept with the reason (no
        attempt counted)."""
        ...

    async def mark_retry(self, item_id: int, reason: str, next_at: float, counted: bool) -> None:
        """Back to pending until ``next_at`` with the reason; ``counted`` adds an attempt."""
        ...

    async def mark_dead(self, item_id: int, reason: str) -> None:
        """Final failure, kept with its reason for the operator (counts an attempt)."""
        ...

    async def latest_sent_article(self, channel_id: int) -> int | None:
        """The article of the newest article post sent to a channel."""
        ...

    async def held_articles(self, channel_id: int, limit: int) -> list[tuple[int, int]]:
        """(row id, article id) of the article rows held for a channel's next digest,
        oldest first, at most ``limit``."""
        ...

    async def queue_digest(self, channel_id: int, slot: float, now: float) -> bool:
        """Decide a channel's digest slot once, in one transaction: its last digest slot
        becomes ``slot`` and, if articles are held for it, one ``digest`` row is queued for
        the slot. True if a row was queued; a slot at or before the channel's last one
        changes nothing (so workers racing for a slot queue it once)."""
        ...

    async def rows(
        self,
        channel_id: int | None = None,
        *,
        state: OutboxState | None = None,
        limit: int | None = None,
    ) -> list[OutboxRow]:
        """Rows (of one channel, in one state) oldest first; with ``limit``, only the
        newest ``limit`` of them, still oldest first."""
        ...

    async def counts(self, channel_id: int | None = None) -> OutboxCounts:
        """Rows waiting (pending or in flight), sent, dead and held for a digest, for one
        channel or all."""
        ...

    async def state_counts(self) -> dict[tuple[str, OutboxState], int]:
        """How many rows each (platform, state) has, for metrics; absent pairs have none."""
        ...


class PollStore(Protocol):
    """Reader polls, the platform polls they run as, and readers' votes."""

    async def create(
        self,
        article_id: int | None,
        proposal: PollProposal,
        origin: PollOrigin,
        close_at: float,
        now: float,
    ) -> int:
        """The article's poll id (created once: one reader poll per article, whatever is
        asked later) or, without an article, a new poll's id."""
        ...

    async def get(self, poll_id: int) -> Poll | None:
        """One poll with its options."""
        ...

    async def add_platform_poll(
        self, poll_id: int, channel_id: int, platform: str, platform_poll_id: str, message_id: str
    ) -> None:
        """Remember the platform poll a chat got: once per poll and channel, and once per
        platform poll id (a repeat of either changes nothing). Votes held for it
        (:meth:`hold_vote`) are attached in the same transaction."""
        ...

    async def hold_vote(
        self,
        platform: str,
        platform_poll_id: str,
        user: str,
        options: Sequence[int],
        now: float,
        *,
        forget_before: float,
    ) -> PlatformPoll | None:
        """A vote for a platform poll that may not be recorded yet: a platform can deliver
        votes before the send that opened the poll has been recorded.

        In one transaction: if the platform poll is recorded, nothing is held and it is
        returned (the caller records the vote with :meth:`set_vote`). Otherwise the vote is
        held, one per (platform, platform poll id, user), a later one replacing it (empty
        ``options`` is a retraction), and returns None. Held votes are attached when that
        platform poll is recorded (:meth:`add_platform_poll`,
        :meth:`OutboxStore.mark_sent`) as :meth:`set_vote` would record them, except that
        option indexes the poll does not have are dropped and a closed poll takes none.
        Held votes received before ``forget_before`` are forgotten: a platform poll
        recorded that much later is not one they were cast on in time."""
        ...

    async def platform_poll(self, platform: str, platform_poll_id: str) -> PlatformPoll | None:
        """The platform poll with this platform id."""
        ...

    async def platform_polls(self, poll_id: int) -> list[PlatformPoll]:
        """Every platform poll of a reader poll, in the order they were sent."""
        ...

    async def set_vote(
        self, platform_poll: PlatformPoll, user: str, options: Sequence[int]
    ) -> None:
        """A reader's vote, one per (poll, platform, user): a change replaces it and empty
        ``options`` retracts it."""
        ...

    async def set_counts(self, platform_poll_id: int, counts: Sequence[int], final: bool) -> None:
        """Counts a platform reported (the latest win); ``final`` stores the counts read at
        close and marks the platform poll closed."""
        ...

    async def mark_platform_poll_closed(self, platform_poll_id: int) -> None:
        """The platform poll is closed (or gone)."""
        ...

    async def votes(self, poll_id: int) -> Mapping[int, list[tuple[int, ...]]]:
        """Per platform poll id, the option lists of its voters."""
        ...

    async def due(self, now: float) -> list[int]:
        """Open polls whose close time has come, the earliest first."""
        ...

    async def next_close(self) -> float | None:
        """When the next open poll closes; None when none is open."""
        ...

    async def mark_closed(self, poll_id: int, now: float) -> bool:
        """Close a poll for good; False if it was closed already (results post once)."""
        ...

    async def latest_for_channel(self, channel_id: int) -> int | None:
        """The newest poll that ran in a channel."""
        ...


class SummaryCache(Protocol):
    """Summaries made once and reused by every channel and every restart."""

    async def article_summary(self, content_hash: str, summarizer: str) -> str | None:
        """The stored summary body (JSON) of this content by this summarizer."""
        ...

    async def save_article_summary(
        self, content_hash: str, summarizer: str, body: str, now: float
    ) -> None:
        """Remember an article summary; the first one stored wins."""
        ...

    async def topic_summary(self, key: str) -> str | None:
        """The stored topic summary body under this key."""
        ...

    async def save_topic_summary(self, key: str, body: str, now: float) -> None:
        """Remember a topic summary; a later one under the same key replaces it."""
        ...


class StoryStore(Protocol):
    """What each chat has been told of each story: the post a story has in a channel
    (recorded with the sent post, :meth:`OutboxStore.mark_sent`), and what ``/summary``
    last showed a chat of it."""

    async def post(self, channel_id: int, story_id: int) -> StoryPost | None:
        """The story's post in a channel, with every sentence told there of it."""
        ...

    async def asked(self, chat: ChatRef, story_id: int) -> StoryAsk | None:
        """What the chat's last ``/summary`` of the story showed."""
        ...

    async def record_ask(self, chat: ChatRef, story_id: int, ask: StoryAsk, now: float) -> None:
        """Remember what a ``/summary`` showed the chat of the story (the last one wins)."""
        ...


class WorkerStore(Protocol):
    """The workers sharing a store: who is alive, and taking back what a dead one held."""

    async def beat(self, worker: str, now: float) -> None:
        """``worker`` is alive at ``now`` (called every few seconds while it runs)."""
        ...

    async def recover(self, now: float, dead_after: float) -> int:
        """Free what workers not seen since ``now - dead_after`` held: their outbox rows in
        flight go back to pending (sent at most once more) and their feeds are released;
        returns how many outbox rows. Workers seen recently keep their claims."""
        ...

    async def stop(self, worker: str) -> None:
        """``worker`` stopped cleanly: forget it (it holds nothing any more)."""
        ...

    async def held(self, worker: str) -> dict[str, int]:
        """What ``worker`` holds now: ``{"feeds": leased feeds, "outbox": rows in flight}``."""
        ...


class LockStore(Protocol):
    """Named locks held by one worker at a time, for as long as it lives (a chat gateway,
    a platform's deliveries). When the worker dies its locks are free for another."""

    async def acquire(self, name: str) -> bool:
        """Take the lock if it is free, never waiting; True if this worker holds it."""
        ...

    async def release(self, name: str) -> None:
        """Give the lock up (nothing happens if this worker does not hold it)."""
        ...

    def held(self) -> frozenset[str]:
        """The names of the locks this worker holds."""
        ...

    def exclusive(self, name: str) -> AbstractAsyncContextManager[None]:
        """Hold ``name`` for a block, waiting while any worker (this one included) holds
        it: what must be decided by one worker at a time, such as whether an article is new.

        Raises:
            StoreError: the database failed (the block does not run).
        """
        ...

    async def alive(self) -> bool:
        """Whether the locks this worker holds are still its own (False after the
        connection that holds them was lost: every lock must be taken again)."""
        ...

    async def close(self) -> None:
        """Release every lock."""
        ...


class ChangeFeed(Protocol):
    """What other workers sharing the store changed, as it happens: ``outbox`` (posts were
    queued or freed), ``feeds`` (feeds or subscriptions changed), ``polls`` (a poll was
    opened). A store only one process uses has no other workers: nothing is announced."""

    async def listen(self, topic: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the event loop) whenever ``topic`` changes.

        Raises:
            StoreError: the store cannot deliver changes now (callers poll instead).
        """
        ...

    async def close(self) -> None:
        """Stop listening."""
        ...


class TableRows(Protocol):
    """Whole tables, row for row: what moves an install between stores (``db copy``).

    Rows are tuples in the :class:`~bot.store.tables.Table`'s column order, booleans as
    ``bool``. Not for the bot's own work: it bypasses every rule of the other Protocols.
    """

    async def count(self, table: Table) -> int:
        """How many rows the table holds."""
        ...

    async def read(
        self, table: Table, after: tuple[object, ...] | None, limit: int
    ) -> list[tuple[object, ...]]:
        """Up to ``limit`` rows ordered by the table's key, those after key ``after`` (from
        the start when None)."""
        ...

    async def write(self, table: Table, rows: Sequence[tuple[object, ...]]) -> None:
        """Insert the rows, replacing any row with the same key (so a copy can be run
        again), in one transaction."""
        ...

    async def finish(self) -> None:
        """After writing: let new rows get ids after the copied ones."""
        ...


class Store(Protocol):
    """All durable state, one topic per attribute."""

    @property
    def feeds(self) -> FeedStore: ...

    @property
    def articles(self) -> ArticleStore: ...

    @property
    def channels(self) -> ChannelStore: ...

    @property
    def outbox(self) -> OutboxStore: ...

    @property
    def polls(self) -> PollStore: ...

    @property
    def summaries(self) -> SummaryCache: ...

    @property
    def stories(self) -> StoryStore: ...

    @property
    def tables(self) -> TableRows: ...

    @property
    def workers(self) -> WorkerStore: ...

    @property
    def locks(self) -> LockStore: ...

    @property
    def changes(self) -> ChangeFeed: ...

    @property
    def shared(self) -> bool:
        """Whether several worker processes may use this store at once (PostgreSQL), or
        only one (SQLite)."""
        ...

    async def close(self) -> None:
        """Release the connections, after the write in progress. Never raises."""
        ...

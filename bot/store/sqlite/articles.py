"""Articles, stories and FTS5 search on SQLite."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from itertools import zip_longest

from bot.errors import StoreError
from bot.store.ports import LEAD_CHARS, RANKED_MATCHES, story_of
from bot.store.sqlite.db import (
    Connection,
    Database,
    Row,
    chunks,
    fetch_all_in,
    fetch_one_in,
    marks,
)
from bot.store.sqlite.outbox import insert_article_rows
from bot.types import (
    Article,
    FeedUpdate,
    NewArticle,
    OutboxState,
    Routed,
    SavedArticle,
    SearchHit,
    Story,
    StoryLead,
)

log = logging.getLogger(__name__)

_COLUMNS = (
    "a.id, a.feed_id, a.guid, a.url, a.canonical_url, a.title, a.text, a.published, "
    "a.story_id, a.content_hash, COALESCE(NULLIF(f.name, ''), NULLIF(f.title, ''), f.url), "
    "a.image, a.author, a.tags"
)
_FROM = "FROM articles a JOIN feeds f ON f.id = a.feed_id"
_KNOWN = 499  # GUIDs and as many URLs per query, within SQLite's oldest limit of 999 values
TITLE_WEIGHT = 5.0  # bm25 weight of a title match against a body match
# Articles enter the search index in batches (migration 11), never by a trigger per row:
# FTS5 flushes its pending terms at the end of every statement, writing a segment and
# merging segments, so one statement over many rows costs far less than many small ones.
_INDEX = (
    "INSERT INTO articles_fts (rowid, title, text) SELECT id, title, text FROM articles_indexed"
)
_WAITING = "SELECT COALESCE(MAX(id), 0) - (SELECT upto FROM search_indexed) FROM articles"


def _article(row: Row) -> Article:
    return Article(
        id=row[0],
        feed_id=row[1],
        guid=row[2],
        url=row[3],
        canonical_url=row[4],
        title=row[5],
        text=row[6],
        published=row[7],
        story_id=row[8],
        content_hash=row[9],
        feed_name=row[10],
        image=row[11],
        author=row[12],
        tags=tuple(json.loads(row[13])),
    )


def fts_query(terms: Sequence[str], *, any_term: bool) -> str:
    """An FTS5 MATCH expression where each term is a quoted string, so NEAR, AND, ``*``,
    ``-`` and column filters are plain words; all terms, or any with ``any_term``. A NUL
    character is a space (FTS5 would read it as the end of the string, unterminated)."""
    quoted = ['"' + term.replace('"', '""').replace("\x00", " ") + '"' for term in terms]
    return (" OR " if any_term else " ").join(quoted)


class SqliteArticles:
    """Implements :class:`bot.store.ports.ArticleStore`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def known(
        self, feed_id: int, guids: Iterable[str], canonical_urls: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        # both questions in one query (one trip to the connection's thread), a few hundred
        # GUIDs and URLs at a time
        seen: tuple[set[str], set[str]] = set(), set()
        pairs = zip_longest(chunks(list(guids), _KNOWN), chunks(list(canonical_urls), _KNOWN))
        for guid_chunk, url_chunk in pairs:
            guid_chunk, url_chunk = guid_chunk or (), url_chunk or ()
            rows = await self._db.fetch_all(
                "SELECT 0, guid FROM articles "
                f"WHERE feed_id = ? AND guid IN ({marks(guid_chunk)}) UNION ALL "
                "SELECT 1, canonical_url FROM articles "
                f"WHERE canonical_url IN ({marks(url_chunk)})",
                (feed_id, *guid_chunk, *url_chunk),
            )
            for which, value in rows:
                seen[which].add(value)
        return seen

    async def fingerprints_since(self, since: float) -> list[tuple[int, int]]:
        rows = await self._db.fetch_all(
            "SELECT simhash, story_id FROM articles WHERE fetched_at >= ? ORDER BY id", (since,)
        )
        return [(_unsigned(r[0]), r[1]) for r in rows]

    async def fingerprint_version(self) -> int:
        value = await self._db.fetch_value(
            "SELECT version FROM store_versions WHERE name = 'fingerprints'"
        )
        return int(value or 1)

    async def texts_since(
        self, since: float, after_id: int, limit: int, chars: int
    ) -> list[tuple[int, str]]:
        rows = await self._db.fetch_all(
            "SELECT id, substr(text, 1, ?) FROM articles WHERE fetched_at >= ? AND id > ? "
            "ORDER BY id LIMIT ?",
            (chars, since, after_id, limit),
        )
        return [(r[0], r[1]) for r in rows]

    async def replace_fingerprints(self, values: Sequence[tuple[int, int]]) -> None:
        async with self._db.transaction() as db:
            await db.executemany(
                "UPDATE articles SET simhash = ? WHERE id = ?",
                [(_signed(value), article_id) for article_id, value in values],
            )

    async def record_fingerprint_version(self, version: int) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO store_versions (name, version) VALUES ('fingerprints', ?) "
                "ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                (version,),
            )

    async def save_ingest(self, update: FeedUpdate, routed: Sequence[Routed]) -> list[int]:
        # Batched, in as few trips to the connection's thread as the statements allow:
        # every article is one row of one executemany, given its id (and its own story id)
        # there, inside the one writer's transaction; the feed's update then tells the
        # last id given out.
        async with self._db.transaction() as db:
            inserted = await _insert_articles(db, [item.article for item in routed], update.now)
            last = await _apply_feed_update(db, update)
            ids = await _ids_given(db, [item.article for item in routed], inserted, last)
            rows = [
                (channel_id, article_id)
                for item, article_id in zip(routed, ids, strict=True)
                if article_id is not None
                for channel_id in item.channel_ids
            ]
            await insert_article_rows(db, rows, update.now)
            held = [
                (channel_id, article_id)
                for item, article_id in zip(routed, ids, strict=True)
                if article_id is not None
                for channel_id in item.digest_ids
            ]
            await insert_article_rows(db, held, update.now, OutboxState.HELD)
        return [article_id for article_id in ids if article_id is not None]

    async def get(self, article_id: int) -> Article | None:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} {_FROM} WHERE a.id = ?", (article_id,))
        return _article(row) if row else None

    async def latest(self, limit: int, feed_ids: Iterable[int] | None = None) -> list[Article]:
        where, params = "a.id = a.story_id", []
        if feed_ids is not None:  # an empty list means "no feeds", not "all"
            ids = list(feed_ids)
            where += f" AND a.feed_id IN ({marks(ids)})" if ids else " AND 0"
            params = ids
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} {_FROM} WHERE {where} ORDER BY a.published DESC, a.id DESC LIMIT ?",
            (*params, limit),
        )
        return [_article(r) for r in rows]

    async def index_pending(self, at_least: int = 1) -> int:
        waiting = int(await self._db.fetch_value(_WAITING) or 0)
        if waiting < max(at_least, 1):
            return 0
        async with self._db.transaction() as db:
            await index_waiting(db)
        return waiting

    async def search(
        self, terms: Sequence[str], *, any_term: bool, limit: int, since: float
    ) -> list[SearchHit]:
        if not terms:
            return []
        try:  # what was saved since the last batch is found too
            await self.index_pending()
        except StoreError as e:  # the database busy: search the index as it stands
            log.warning("search index not brought up to date before a search: %s", e)
        # bm25 for the newest RANKED_MATCHES matches only: FTS5 finds the oldest of them
        # walking its doclists newest first, then ranks from that rowid on
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS}, bm25(articles_fts, {TITLE_WEIGHT}, 1.0) AS score "
            f"FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
            "JOIN feeds f ON f.id = a.feed_id "
            "WHERE articles_fts MATCH ?1 AND articles_fts.rowid >= (SELECT COALESCE(MIN(rowid), 0) "
            "FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?1 "
            "ORDER BY rowid DESC LIMIT ?4)) AND a.published >= ?2 ORDER BY score LIMIT ?3",
            (fts_query(terms, any_term=any_term), since, limit, RANKED_MATCHES),
        )
        return [SearchHit(_article(r), r[14]) for r in rows]

    async def story_sources(self, story_ids: Iterable[int]) -> dict[int, list[Article]]:
        stories: dict[int, list[Article]] = {}
        for chunk in chunks(list(story_ids)):
            rows = await self._db.fetch_all(
                f"SELECT {_COLUMNS} {_FROM} WHERE a.story_id IN ({marks(chunk)}) ORDER BY a.id",
                chunk,
            )
            for row in rows:
                article = _article(row)
                stories.setdefault(article.story_id, []).append(article)
        return stories

    async def last_id(self) -> int:
        value = await self._db.fetch_value("SELECT COALESCE(MAX(id), 0) FROM articles")
        return int(value or 0)

    async def saved_after(self, after_id: int) -> list[SavedArticle]:
        rows = await self._db.fetch_all(
            "SELECT id, simhash, story_id, title, substr(text, 1, ?), published FROM articles "
            "WHERE id > ? ORDER BY id",
            (LEAD_CHARS, after_id),
        )
        return [SavedArticle(r[0], _unsigned(r[1]), StoryLead(*r[2:])) for r in rows]

    async def story_leads_since(self, since: float) -> list[StoryLead]:
        rows = await self._db.fetch_all(
            "SELECT story_id, title, substr(text, 1, ?), published FROM articles "
            "WHERE published >= ? ORDER BY published, id",
            (LEAD_CHARS, since),
        )
        return [StoryLead(r[0], r[1], r[2], r[3]) for r in rows]

    async def stories_since(self, since: float, limit: int) -> list[Story]:
        rows = await self._db.fetch_all(
            "SELECT story_id, MAX(published) AS latest FROM articles WHERE story_id IN "
            "(SELECT story_id FROM articles WHERE published >= ?) "
            "GROUP BY story_id ORDER BY latest DESC, story_id DESC LIMIT ?",
            (since, limit),
        )
        ids = [r[0] for r in rows]
        members = await self.story_sources(ids)
        return [story_of(story_id, members[story_id]) for story_id in ids]

    async def recent_story_titles(self, since: float, limit: int) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT title FROM articles WHERE published >= ? AND id = story_id "
            "ORDER BY published DESC, id DESC LIMIT ?",
            (since, limit),
        )
        return [r[0] for r in rows]

    async def count(self) -> int:
        value = await self._db.fetch_value("SELECT COUNT(*) FROM articles")
        return int(value or 0)


# the next id, in the statement itself: rows inserted one after the other get ids in a row
_NEXT_ID = "(SELECT COALESCE(MAX(id), 0) + 1 FROM articles)"


async def _insert_articles(db: Connection, articles: Sequence[NewArticle], now: float) -> int:
    """Insert the articles not stored yet, each with the next id (its story id too when it
    joins no other story); how many were inserted ((feed, guid) stored already: skipped)."""
    if not articles:
        return 0
    cursor = await db.executemany(
        "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text, published, "
        "fetched_at, story_id, content_hash, simhash, image, author, tags) "
        f"VALUES ({_NEXT_ID}, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, {_NEXT_ID}), ?, ?, ?, ?, ?) "
        "ON CONFLICT (feed_id, guid) DO NOTHING",
        [_article_row(a, now) for a in articles],
    )
    return int(cursor.rowcount)


async def _ids_given(
    db: Connection, articles: Sequence[NewArticle], inserted: int, last: int
) -> list[int | None]:
    """Per article its new id, or None when it was skipped, given that ``inserted`` of them
    were, taking the ids up to ``last`` in order."""
    if inserted == len(articles):
        return list(range(last - inserted + 1, last + 1))
    if not inserted:
        return [None] * len(articles)
    # some were skipped: the ids went, in order, to the first telling of each GUID new here
    rows = await fetch_all_in(
        db, "SELECT feed_id, guid, id FROM articles WHERE id > ?", (last - inserted,)
    )
    given: dict[tuple[int, str], int] = {(r[0], r[1]): r[2] for r in rows}
    return [given.pop((a.feed_id, a.guid), None) for a in articles]


async def index_articles(db: Connection, ids: Sequence[int]) -> None:
    """Add articles just stored to the search index (inside the transaction that stored
    them, which called ``index_waiting`` before storing them): then none is waiting."""
    for chunk in chunks(ids):
        await db.execute(f"{_INDEX} WHERE id IN ({marks(chunk)})", chunk)
    await db.execute("UPDATE search_indexed SET upto = (SELECT COALESCE(MAX(id), 0) FROM articles)")


async def index_waiting(db: Connection) -> None:
    """Index every saved article above ``search_indexed.upto``, in one statement."""
    await db.execute(f"{_INDEX} WHERE id > (SELECT upto FROM search_indexed)")
    await db.execute("UPDATE search_indexed SET upto = (SELECT COALESCE(MAX(id), 0) FROM articles)")


def _article_row(a: NewArticle, now: float) -> tuple[object, ...]:
    return (
        a.feed_id,
        a.guid,
        a.url,
        a.canonical_url,
        a.title,
        a.text,
        a.published,
        now,
        a.duplicate_of if a.duplicate_of is not None else a.story,  # NULL: its own story
        a.content_hash,
        _signed(a.simhash),
        a.image,
        a.author,
        json.dumps(list(a.tags)) if a.tags else "[]",
    )


async def _apply_feed_update(db: Connection, u: FeedUpdate) -> int:
    """Record the fetch on the feed; the highest article id (0 when there is none)."""
    rows = await fetch_all_in(
        db,
        "UPDATE feeds SET etag = ?, last_modified = ?, title = COALESCE(?, title), "
        "next_due = ?, failures = 0, last_error = NULL, last_ok_at = ?, fetched_once = 1, "
        "lease_owner = NULL WHERE id = ? RETURNING (SELECT COALESCE(MAX(id), 0) FROM articles)",
        (u.etag, u.last_modified, u.title, u.next_due, u.now, u.feed_id),
    )
    if rows:
        return int(rows[0][0])
    row = await fetch_one_in(db, "SELECT COALESCE(MAX(id), 0) FROM articles")  # feed gone
    return int(row[0]) if row else 0


def _signed(value: int) -> int:
    """SQLite integers are signed 64-bit; store an unsigned fingerprint in that range."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value

"""Articles, stories and full-text search on PostgreSQL (``tsvector`` + GIN)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from bot.store.ports import LEAD_CHARS, RANKED_MATCHES, story_of
from bot.store.postgres.db import Connection, PgDatabase, Row
from bot.store.postgres.outbox import insert_article_rows
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

COLUMNS = (
    "a.id, a.feed_id, a.guid, a.url, a.canonical_url, a.title, a.text, a.published, "
    "a.story_id, a.content_hash, COALESCE(NULLIF(f.name, ''), NULLIF(f.title, ''), f.url) "
    "AS feed_name, a.image, a.author, a.tags"
)
FROM = "FROM articles a JOIN feeds f ON f.id = a.feed_id"
# ts_rank weights for D, C, B (text), A (title): a title match counts five times a body one
WEIGHTS = "{0.1, 0.1, 0.2, 1.0}"


def article_of(row: Row) -> Article:
    """An article from a row of ``COLUMNS``."""
    return Article(
        id=row["id"],
        feed_id=row["feed_id"],
        guid=row["guid"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"],
        text=row["text"],
        published=row["published"],
        story_id=row["story_id"],
        content_hash=row["content_hash"],
        feed_name=row["feed_name"],
        image=row["image"],
        author=row["author"],
        tags=tuple(json.loads(row["tags"])),
    )


def web_query(terms: Sequence[str], *, any_term: bool) -> str:
    """A ``websearch_to_tsquery`` text in which every term is a quoted phrase, so ``or``,
    ``-`` and quotes in what a user typed stay plain words (the function never raises). A
    NUL character is a space (PostgreSQL text cannot hold one)."""
    quoted = ['"' + term.replace('"', " ").replace("\x00", " ") + '"' for term in terms]
    return (" or " if any_term else " ").join(quoted)


class PgArticles:
    """Implements :class:`bot.store.ports.ArticleStore`."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    async def known(
        self, feed_id: int, guids: Iterable[str], canonical_urls: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        guid_rows = await self._db.fetch_all(
            "SELECT guid FROM articles WHERE feed_id = $1 AND guid = ANY($2::text[])",
            (feed_id, list(guids)),
        )
        url_rows = await self._db.fetch_all(
            "SELECT DISTINCT canonical_url FROM articles WHERE canonical_url = ANY($1::text[])",
            (list(canonical_urls),),
        )
        return {r[0] for r in guid_rows}, {r[0] for r in url_rows}

    async def fingerprints_since(self, since: float) -> list[tuple[int, int]]:
        rows = await self._db.fetch_all(
            "SELECT simhash, story_id FROM articles WHERE fetched_at >= $1 ORDER BY id", (since,)
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
            "SELECT id, left(text, $1) FROM articles WHERE fetched_at >= $2 AND id > $3 "
            "ORDER BY id LIMIT $4",
            (chars, since, after_id, limit),
        )
        return [(r[0], r[1]) for r in rows]

    async def replace_fingerprints(self, values: Sequence[tuple[int, int]]) -> None:
        async with self._db.transaction() as db:
            await db.executemany(
                "UPDATE articles SET simhash = $1 WHERE id = $2",
                [(_signed(value), article_id) for article_id, value in values],
            )

    async def record_fingerprint_version(self, version: int) -> None:
        async with self._db.transaction() as db:
            await db.execute(
                "INSERT INTO store_versions (name, version) VALUES ('fingerprints', $1) "
                "ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                version,
            )

    async def save_ingest(self, update: FeedUpdate, routed: Sequence[Routed]) -> list[int]:
        # Batched: ids are reserved from the sequence first, so every article is one row of
        # one executemany with its story id already set; a few round trips per feed.
        async with self._db.transaction() as db:
            ids = await _insert_articles(db, [item.article for item in routed], update.now)
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
            await _apply_feed_update(db, update)
        return [article_id for article_id in ids if article_id is not None]

    async def get(self, article_id: int) -> Article | None:
        row = await self._db.fetch_one(f"SELECT {COLUMNS} {FROM} WHERE a.id = $1", (article_id,))
        return article_of(row) if row else None

    async def latest(self, limit: int, feed_ids: Iterable[int] | None = None) -> list[Article]:
        where = "a.id = a.story_id"
        params: list[object] = [limit]
        if feed_ids is not None:  # an empty list means "no feeds", not "all"
            where += " AND a.feed_id = ANY($2::bigint[])"
            params.append(list(feed_ids))
        rows = await self._db.fetch_all(
            f"SELECT {COLUMNS} {FROM} WHERE {where} ORDER BY a.published DESC, a.id DESC LIMIT $1",
            params,
        )
        return [article_of(r) for r in rows]

    async def index_pending(self, at_least: int = 1) -> int:
        return 0  # the tsvector column is generated with each row: always current

    async def search(
        self, terms: Sequence[str], *, any_term: bool, limit: int, since: float
    ) -> list[SearchHit]:
        if not terms:
            return []
        # ranked among the newest RANKED_MATCHES matches only, as on SQLite
        rows = await self._db.fetch_all(
            f"SELECT {COLUMNS}, -ts_rank('{WEIGHTS}', a.search, q) AS score "
            f"{FROM}, websearch_to_tsquery('simple', $1) q "
            "WHERE a.search @@ q AND a.published >= $2 AND a.id >= (SELECT COALESCE(MIN(id), 0) "
            "FROM (SELECT id FROM articles WHERE search @@ websearch_to_tsquery('simple', $1) "
            "ORDER BY id DESC LIMIT $4) recent) ORDER BY score, a.id LIMIT $3",
            (web_query(terms, any_term=any_term), since, limit, RANKED_MATCHES),
        )
        return [SearchHit(article_of(r), r["score"]) for r in rows]

    async def story_sources(self, story_ids: Iterable[int]) -> dict[int, list[Article]]:
        rows = await self._db.fetch_all(
            f"SELECT {COLUMNS} {FROM} WHERE a.story_id = ANY($1::bigint[]) ORDER BY a.id",
            (list(story_ids),),
        )
        stories: dict[int, list[Article]] = {}
        for row in rows:
            article = article_of(row)
            stories.setdefault(article.story_id, []).append(article)
        return stories

    async def last_id(self) -> int:
        value = await self._db.fetch_value("SELECT COALESCE(MAX(id), 0) FROM articles")
        return int(value or 0)

    async def saved_after(self, after_id: int) -> list[SavedArticle]:
        rows = await self._db.fetch_all(
            "SELECT id, simhash, story_id, title, left(text, $1), published FROM articles "
            "WHERE id > $2 ORDER BY id",
            (LEAD_CHARS, after_id),
        )
        return [SavedArticle(r[0], _unsigned(r[1]), StoryLead(*r[2:])) for r in rows]

    async def story_leads_since(self, since: float) -> list[StoryLead]:
        rows = await self._db.fetch_all(
            "SELECT story_id, title, left(text, $1), published FROM articles "
            "WHERE published >= $2 ORDER BY published, id",
            (LEAD_CHARS, since),
        )
        return [StoryLead(r[0], r[1], r[2], r[3]) for r in rows]

    async def stories_since(self, since: float, limit: int) -> list[Story]:
        rows = await self._db.fetch_all(
            "SELECT story_id, MAX(published) AS latest FROM articles WHERE story_id IN "
            "(SELECT story_id FROM articles WHERE published >= $1) "
            "GROUP BY story_id ORDER BY latest DESC, story_id DESC LIMIT $2",
            (since, limit),
        )
        ids = [r[0] for r in rows]
        members = await self.story_sources(ids)
        return [story_of(story_id, members[story_id]) for story_id in ids]

    async def recent_story_titles(self, since: float, limit: int) -> list[str]:
        rows = await self._db.fetch_all(
            "SELECT title FROM articles WHERE published >= $1 AND id = story_id "
            "ORDER BY published DESC, id DESC LIMIT $2",
            (since, limit),
        )
        return [r[0] for r in rows]

    async def count(self) -> int:
        value = await self._db.fetch_value("SELECT COUNT(*) FROM articles")
        return int(value or 0)


async def _insert_articles(
    db: Connection, articles: Sequence[NewArticle], now: float
) -> list[int | None]:
    """Insert the articles not stored yet; per article its new id, or None if its
    (feed, guid) was stored already."""
    if not articles:
        return []
    planned: list[int] = [
        r[0]
        for r in await db.fetch(
            "SELECT nextval(pg_get_serial_sequence('articles', 'id')) FROM generate_series(1, $1)",
            len(articles),
        )
    ]
    await db.executemany(
        "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text, published, "
        "fetched_at, story_id, content_hash, simhash, image, author, tags) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
        "ON CONFLICT (feed_id, guid) DO NOTHING",
        [_article_row(article_id, a, now) for article_id, a in zip(planned, articles, strict=True)],
    )
    stored = await db.fetch("SELECT id FROM articles WHERE id = ANY($1::bigint[])", planned)
    inserted = {r[0] for r in stored}
    return [article_id if article_id in inserted else None for article_id in planned]


def _article_row(article_id: int, a: NewArticle, now: float) -> tuple[object, ...]:
    story = next(s for s in (a.duplicate_of, a.story, article_id) if s is not None)
    return (
        article_id,
        a.feed_id,
        a.guid,
        a.url,
        a.canonical_url,
        a.title,
        a.text,
        a.published,
        now,
        story,
        a.content_hash,
        _signed(a.simhash),
        a.image,
        a.author,
        json.dumps(list(a.tags)),
    )


async def _apply_feed_update(db: Connection, u: FeedUpdate) -> None:
    await db.execute(
        "UPDATE feeds SET etag = $1, last_modified = $2, title = COALESCE($3, title), "
        "next_due = $4, failures = 0, last_error = NULL, last_ok_at = $5, "
        "fetched_once = TRUE, lease_owner = NULL WHERE id = $6",
        u.etag,
        u.last_modified,
        u.title,
        u.next_due,
        u.now,
        u.feed_id,
    )


def _signed(value: int) -> int:
    """BIGINT is signed 64-bit; store an unsigned fingerprint in that range."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value

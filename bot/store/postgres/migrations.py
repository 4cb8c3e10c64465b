"""Numbered schema migrations for PostgreSQL, applied in order at start-up under an advisory
lock (several workers starting at once migrate once), tracked in ``newsbrief_schema``.

The tables mirror the SQLite store's (``bot/store/sqlite/migrations.py``), so ``db copy``
moves rows between them one to one; full-text search is a generated ``tsvector`` column
with a GIN index instead of FTS5.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: feeds, articles (+tsvector), summaries, channels, subscriptions, outbox, polls
    """
    CREATE TABLE feeds (
        id BIGSERIAL PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL,
        every DOUBLE PRECISION NOT NULL,
        backfill INTEGER NOT NULL DEFAULT 0,
        etag TEXT,
        last_modified TEXT,
        next_due DOUBLE PRECISION NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        paused BOOLEAN NOT NULL DEFAULT FALSE,
        last_ok_at DOUBLE PRECISION,
        fetched_once BOOLEAN NOT NULL DEFAULT FALSE,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX feeds_due ON feeds (paused, next_due);
    CREATE TABLE articles (
        id BIGSERIAL PRIMARY KEY,
        feed_id BIGINT NOT NULL REFERENCES feeds(id),
        guid TEXT NOT NULL,
        url TEXT NOT NULL,
        canonical_url TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        published DOUBLE PRECISION NOT NULL,
        fetched_at DOUBLE PRECISION NOT NULL,
        story_id BIGINT NOT NULL,
        content_hash TEXT NOT NULL,
        simhash BIGINT NOT NULL,
        search tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('simple', title), 'A') ||
            setweight(to_tsvector('simple', text), 'B')
        ) STORED,
        UNIQUE (feed_id, guid)
    );
    CREATE INDEX articles_canonical ON articles (canonical_url);
    CREATE INDEX articles_published ON articles (published);
    CREATE INDEX articles_story ON articles (story_id);
    CREATE INDEX articles_fetched ON articles (fetched_at);
    CREATE INDEX articles_search ON articles USING GIN (search);
    CREATE TABLE summaries (
        content_hash TEXT NOT NULL,
        summarizer TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (content_hash, summarizer)
    );
    CREATE TABLE topic_cache (
        cache_key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE channels (
        id BIGSERIAL PRIMARY KEY,
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        origin TEXT NOT NULL,
        all_feeds BOOLEAN NOT NULL DEFAULT TRUE,
        include_words TEXT NOT NULL DEFAULT '[]',
        exclude_words TEXT NOT NULL DEFAULT '[]',
        polls TEXT NOT NULL DEFAULT 'auto',
        poll_duration DOUBLE PRECISION NOT NULL DEFAULT 86400,
        paused_reason TEXT,
        not_before DOUBLE PRECISION NOT NULL DEFAULT 0,
        created_at DOUBLE PRECISION NOT NULL,
        UNIQUE (platform, chat_id)
    );
    CREATE TABLE subscriptions (
        channel_id BIGINT NOT NULL REFERENCES channels(id),
        feed_id BIGINT NOT NULL REFERENCES feeds(id),
        PRIMARY KEY (channel_id, feed_id)
    );
    CREATE TABLE outbox (
        id BIGSERIAL PRIMARY KEY,
        channel_id BIGINT NOT NULL REFERENCES channels(id),
        article_id BIGINT REFERENCES articles(id),
        kind TEXT NOT NULL,
        dedup_key TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at DOUBLE PRECISION NOT NULL,
        last_error TEXT,
        message_id TEXT,
        platform_poll_id TEXT,
        nonce TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        sent_at DOUBLE PRECISION,
        UNIQUE (channel_id, dedup_key)
    );
    CREATE INDEX outbox_due ON outbox (state, next_at);
    CREATE INDEX outbox_channel ON outbox (channel_id, state, id);
    CREATE TABLE polls (
        id BIGSERIAL PRIMARY KEY,
        article_id BIGINT UNIQUE REFERENCES articles(id),
        question TEXT NOT NULL,
        origin TEXT NOT NULL,
        close_at DOUBLE PRECISION NOT NULL,
        closed_at DOUBLE PRECISION,
        created_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX polls_open ON polls (closed_at, close_at);
    CREATE TABLE poll_options (
        poll_id BIGINT NOT NULL REFERENCES polls(id),
        idx INTEGER NOT NULL,
        label TEXT NOT NULL,
        PRIMARY KEY (poll_id, idx)
    );
    CREATE TABLE poll_posts (
        id BIGSERIAL PRIMARY KEY,
        poll_id BIGINT NOT NULL REFERENCES polls(id),
        channel_id BIGINT NOT NULL REFERENCES channels(id),
        platform TEXT NOT NULL,
        platform_poll_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        counts TEXT,
        final_counts TEXT,
        closed BOOLEAN NOT NULL DEFAULT FALSE,
        UNIQUE (poll_id, channel_id),
        UNIQUE (platform, platform_poll_id)
    );
    CREATE TABLE votes (
        poll_id BIGINT NOT NULL REFERENCES polls(id),
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        poll_post_id BIGINT NOT NULL REFERENCES poll_posts(id),
        options TEXT NOT NULL,
        PRIMARY KEY (poll_id, platform, user_id)
    );
    """,
    # 2: workers sharing the store: who holds a feed or an outbox row, who is alive
    """
    ALTER TABLE feeds ADD COLUMN lease_owner TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    CREATE TABLE workers (id TEXT PRIMARY KEY, last_seen DOUBLE PRECISION NOT NULL);
    """,
    # 3: votes that arrive before their platform poll is recorded, held until it is
    """
    CREATE TABLE held_votes (
        platform TEXT NOT NULL,
        platform_poll_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        options TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (platform, platform_poll_id, user_id)
    );
    CREATE INDEX held_votes_received ON held_votes (received_at);
    """,
    # 4: channel filters (regular expressions: the operator's and the chat's), digest
    # schedules and the last slot decided, summary language and the bot's locale
    """
    ALTER TABLE channels ADD COLUMN include_patterns TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN exclude_patterns TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN chat_include TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN chat_exclude TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN digest TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN digest_last DOUBLE PRECISION NOT NULL DEFAULT 0;
    ALTER TABLE channels ADD COLUMN language TEXT NOT NULL DEFAULT '';
    ALTER TABLE channels ADD COLUMN locale TEXT NOT NULL DEFAULT '';
    """,
    # 5: stories in chats: a channel's stories setting, the post a story has in a channel
    # (and what it has been told of it), what /summary last showed a chat of a story
    """
    ALTER TABLE channels ADD COLUMN stories TEXT NOT NULL DEFAULT 'thread';
    CREATE TABLE story_posts (
        channel_id BIGINT NOT NULL REFERENCES channels(id),
        story_id BIGINT NOT NULL REFERENCES articles(id),
        message_id TEXT NOT NULL,
        thread TEXT NOT NULL DEFAULT '',
        told TEXT NOT NULL DEFAULT '[]',
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (channel_id, story_id)
    );
    CREATE TABLE story_asks (
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        story_id BIGINT NOT NULL REFERENCES articles(id),
        last_article BIGINT NOT NULL,
        shown TEXT NOT NULL DEFAULT '[]',
        asked_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (platform, chat_id, story_id)
    );
    """,
    # 6: search indexes the title and the first 4,000 characters of the text
    # (bot.store.ports.SEARCH_CHARS; python -m bench search)
    """
    ALTER TABLE articles DROP COLUMN search;
    ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', left(text, 4000)), 'B')
    ) STORED;
    CREATE INDEX articles_search ON articles USING GIN (search);
    """,
    # 7: posts people want: an article's image, author and tags; a channel's images,
    # template and timezone settings
    """
    ALTER TABLE articles ADD COLUMN image TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN author TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN images BOOLEAN NOT NULL DEFAULT TRUE;
    ALTER TABLE channels ADD COLUMN template TEXT NOT NULL DEFAULT '';
    ALTER TABLE channels ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
    """,
    # 8: versions of what the store holds, by name: "fingerprints" is the version of the
    # articles' near-duplicate fingerprints (bot.ingest.fingerprint.FINGERPRINT_VERSION);
    # without its row, a store holds version 1 (made before versions were recorded), which
    # the next ingest makes again (an empty store holds no rows here, so `db copy` takes it)
    """
    CREATE TABLE store_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
    """,
    # 9: search indexes the title and the first 2,000 characters of the text, not 4,000
    # (bot.store.ports.SEARCH_CHARS, as SQLite migration 14); the column is made again
    """
    ALTER TABLE articles DROP COLUMN search;
    ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A') ||
        setweight(to_tsvector('simple', left(text, 2000)), 'B')
    ) STORED;
    CREATE INDEX articles_search ON articles USING GIN (search);
    """,
)

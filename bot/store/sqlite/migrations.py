"""Numbered schema migrations, applied in order at start-up (tracked in PRAGMA user_version).

SQL is kept portable where that costs nothing (a PostgreSQL store is planned); FTS5 and
PRAGMAs are the SQLite-only parts.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: feeds, articles (+FTS5), summaries, channels, subscriptions, outbox
    """
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        origin TEXT NOT NULL,
        every REAL NOT NULL,
        backfill INTEGER NOT NULL DEFAULT 0,
        etag TEXT,
        last_modified TEXT,
        next_due REAL NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        paused INTEGER NOT NULL DEFAULT 0,
        last_ok_at REAL,
        fetched_once INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id),
        guid TEXT NOT NULL,
        url TEXT NOT NULL,
        canonical_url TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        published REAL NOT NULL,
        fetched_at REAL NOT NULL,
        story_id INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        simhash INTEGER NOT NULL,
        UNIQUE (feed_id, guid)
    );
    CREATE INDEX articles_canonical ON articles (canonical_url);
    CREATE INDEX articles_published ON articles (published);
    CREATE INDEX articles_story ON articles (story_id);
    CREATE VIRTUAL TABLE articles_fts USING fts5 (
        title, text, content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END;
    CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO articles_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
    END;
    CREATE TABLE summaries (
        content_hash TEXT NOT NULL,
        summarizer TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (content_hash, summarizer)
    );
    CREATE TABLE channels (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        origin TEXT NOT NULL,
        all_feeds INTEGER NOT NULL DEFAULT 1,
        include_words TEXT NOT NULL DEFAULT '[]',
        exclude_words TEXT NOT NULL DEFAULT '[]',
        polls TEXT NOT NULL DEFAULT 'auto',
        poll_duration REAL NOT NULL DEFAULT 86400,
        paused_reason TEXT,
        not_before REAL NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        UNIQUE (platform, chat_id)
    );
    CREATE TABLE subscriptions (
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        feed_id INTEGER NOT NULL REFERENCES feeds(id),
        PRIMARY KEY (channel_id, feed_id)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        article_id INTEGER REFERENCES articles(id),
        kind TEXT NOT NULL,
        dedup_key TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at REAL NOT NULL,
        last_error TEXT,
        message_id TEXT,
        platform_poll_id TEXT,
        nonce TEXT NOT NULL,
        created_at REAL NOT NULL,
        sent_at REAL,
        UNIQUE (channel_id, dedup_key)
    );
    CREATE INDEX outbox_due ON outbox (state, next_at);
    CREATE TABLE topic_cache (
        cache_key TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 2: reader polls: one per article, one platform poll per channel, votes per user
    """
    CREATE TABLE polls (
        id INTEGER PRIMARY KEY,
        article_id INTEGER UNIQUE REFERENCES articles(id),
        question TEXT NOT NULL,
        origin TEXT NOT NULL,
        close_at REAL NOT NULL,
        closed_at REAL,
        created_at REAL NOT NULL
    );
    CREATE INDEX polls_open ON polls (closed_at, close_at);
    CREATE TABLE poll_options (
        poll_id INTEGER NOT NULL REFERENCES polls(id),
        idx INTEGER NOT NULL,
        label TEXT NOT NULL,
        PRIMARY KEY (poll_id, idx)
    );
    CREATE TABLE poll_posts (
        id INTEGER PRIMARY KEY,
        poll_id INTEGER NOT NULL REFERENCES polls(id),
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        platform TEXT NOT NULL,
        platform_poll_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        counts TEXT,
        final_counts TEXT,
        closed INTEGER NOT NULL DEFAULT 0,
        UNIQUE (poll_id, channel_id),
        UNIQUE (platform, platform_poll_id)
    );
    CREATE TABLE votes (
        poll_id INTEGER NOT NULL REFERENCES polls(id),
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        poll_post_id INTEGER NOT NULL REFERENCES poll_posts(id),
        options TEXT NOT NULL,
        PRIMARY KEY (poll_id, platform, user_id)
    );
    """,
    # 3: finding a channel's head row without scanning its history
    """
    CREATE INDEX outbox_channel ON outbox (channel_id, state, id);
    """,
    # 4: votes that arrive before their platform poll is recorded, held until it is
    """
    CREATE TABLE held_votes (
        platform TEXT NOT NULL,
        platform_poll_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        options TEXT NOT NULL,
        received_at REAL NOT NULL,
        PRIMARY KEY (platform, platform_poll_id, user_id)
    );
    CREATE INDEX held_votes_received ON held_votes (received_at);
    """,
    # 5: workers sharing a store: who holds a feed or an outbox row, who is alive
    """
    ALTER TABLE feeds ADD COLUMN lease_owner TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    CREATE TABLE workers (id TEXT PRIMARY KEY, last_seen REAL NOT NULL);
    """,
    # 6: channel filters (regular expressions: the operator's and the chat's), digest
    # schedules and the last slot decided, summary language and the bot's locale
    """
    ALTER TABLE channels ADD COLUMN include_patterns TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN exclude_patterns TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN chat_include TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN chat_exclude TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN digest TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN digest_last REAL NOT NULL DEFAULT 0;
    ALTER TABLE channels ADD COLUMN language TEXT NOT NULL DEFAULT '';
    ALTER TABLE channels ADD COLUMN locale TEXT NOT NULL DEFAULT '';
    """,
    # 7: stories in chats: a channel's stories setting, the post a story has in a channel
    # (and what it has been told of it), what /summary last showed a chat of a story
    """
    ALTER TABLE channels ADD COLUMN stories TEXT NOT NULL DEFAULT 'thread';
    CREATE TABLE story_posts (
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        story_id INTEGER NOT NULL REFERENCES articles(id),
        message_id TEXT NOT NULL,
        thread TEXT NOT NULL DEFAULT '',
        told TEXT NOT NULL DEFAULT '[]',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (channel_id, story_id)
    );
    CREATE TABLE story_asks (
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        story_id INTEGER NOT NULL REFERENCES articles(id),
        last_article INTEGER NOT NULL,
        shown TEXT NOT NULL DEFAULT '[]',
        asked_at REAL NOT NULL,
        PRIMARY KEY (platform, chat_id, story_id)
    );
    """,
    # 8: search indexes the title and the first 4,000 characters of the text
    # (bot.store.ports.SEARCH_CHARS; python -m bench search): a view is the index's content
    """
    DROP TRIGGER articles_ai;
    DROP TRIGGER articles_ad;
    DROP TRIGGER articles_au;
    DROP TABLE articles_fts;
    CREATE VIEW articles_indexed AS SELECT id, title, substr(text, 1, 4000) AS text FROM articles;
    CREATE VIRTUAL TABLE articles_fts USING fts5 (
        title, text, content='articles_indexed', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts (rowid, title, text)
        VALUES (new.id, new.title, substr(new.text, 1, 4000));
    END;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, substr(old.text, 1, 4000));
    END;
    CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, substr(old.text, 1, 4000));
        INSERT INTO articles_fts (rowid, title, text)
        VALUES (new.id, new.title, substr(new.text, 1, 4000));
    END;
    INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
    """,
    # 9: posts people want: an article's image, author and tags; a channel's images,
    # template and timezone settings
    """
    ALTER TABLE articles ADD COLUMN image TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN author TEXT NOT NULL DEFAULT '';
    ALTER TABLE articles ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE channels ADD COLUMN images INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE channels ADD COLUMN template TEXT NOT NULL DEFAULT '';
    ALTER TABLE channels ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
    """,
    # 10: new articles are indexed by one statement per save (bot.store.sqlite.articles.
    # index_articles), not by a trigger per row: FTS5 writes its pending terms to disk at
    # every statement, so a trigger made one tiny index segment per article and merged
    # them again (python -m bench search: 1.8x the indexing work). Deletes and updates
    # keep their triggers.
    """
    DROP TRIGGER articles_ai;
    """,
    # 11: saved articles enter the search index in batches (index_pending: at least every
    # INDEX_BATCH saved articles, at the end of each ingest pass and before any search), not one
    # statement per save: one statement for many rows writes one segment and merges
    # nothing (python -m bench search: about 0.6x the work). search_indexed.upto is the
    # largest id indexed; every article above it waits for the next batch.
    """
    CREATE TABLE search_indexed (upto INTEGER NOT NULL);
    INSERT INTO search_indexed SELECT COALESCE(MAX(id), 0) FROM articles;
    """,
    # 12: versions of what the store holds, by name: "fingerprints" is the version of the
    # articles' near-duplicate fingerprints (bot.ingest.fingerprint.FINGERPRINT_VERSION);
    # without its row, a store holds version 1 (made before versions were recorded), which
    # the next ingest makes again (an empty store holds no rows here, so `db copy` takes it)
    """
    CREATE TABLE store_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
    """,
    # 13: an article still waiting for the search index (above search_indexed.upto) is not
    # taken out of it when deleted or changed: it was never put in (FTS5 would be left
    # inconsistent); the next batch indexes what is there then. FTS5 keeps 4 MiB of pending
    # terms before writing a segment (1 MiB by default): a batch writes fewer segments
    """
    INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', 4194304);
    DROP TRIGGER articles_ad;
    DROP TRIGGER articles_au;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles
    WHEN old.id <= (SELECT upto FROM search_indexed) BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, substr(old.text, 1, 4000));
    END;
    CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles
    WHEN old.id <= (SELECT upto FROM search_indexed) BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, substr(old.text, 1, 4000));
        INSERT INTO articles_fts (rowid, title, text)
        VALUES (new.id, new.title, substr(new.text, 1, 4000));
    END;
    """,
    # 14: search indexes the title and the first 2,000 characters of the text, not 4,000
    # (bot.store.ports.SEARCH_CHARS; python -m bench search: the longest prefix whose index
    # upkeep costs no more than saving the articles, the best recall of those). The index
    # is made again from the view, every saved article in it.
    """
    DROP TRIGGER articles_ad;
    DROP TRIGGER articles_au;
    DROP VIEW articles_indexed;
    CREATE VIEW articles_indexed AS SELECT id, title, substr(text, 1, 2000) AS text FROM articles;
    CREATE TRIGGER articles_ad AFTER DELETE ON articles
    WHEN old.id <= (SELECT upto FROM search_indexed) BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, substr(old.text, 1, 2000));
    END;
    CREATE TRIGGER articles_au AFTER UPDATE OF title, text ON articles
    WHEN old.id <= (SELECT upto FROM search_indexed) BEGIN
        INSERT INTO articles_fts (articles_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, substr(old.text, 1, 2000));
        INSERT INTO articles_fts (rowid, title, text)
        VALUES (new.id, new.title, substr(new.text, 1, 2000));
    END;
    INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
    UPDATE search_indexed SET upto = (SELECT COALESCE(MAX(id), 0) FROM articles);
    """,
)

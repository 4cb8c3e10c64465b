"""The tables every store keeps, in an order that respects their references: what
``newsbrief db copy`` moves, row for row, between two stores.

Each implementation's migrations create these tables with these columns; a contract test
checks that they agree, so a migration that adds a table or a column must add it here.
Rows cross between stores as tuples in ``columns`` order, booleans as ``bool``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Table:
    """One table: its columns, its key, its boolean columns, and whether ``id`` is serial."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...] = ("id",)
    booleans: frozenset[str] = frozenset()

    @property
    def serial(self) -> bool:
        """Its key is a generated ``id`` (PostgreSQL keeps a sequence for it)."""
        return self.key == ("id",)


# fmt: off
TABLES: tuple[Table, ...] = (
    Table(
        "feeds",
        (
            "id", "url", "name", "title", "origin", "every", "backfill", "etag",
            "last_modified", "next_due", "failures", "last_error", "paused", "last_ok_at",
            "fetched_once", "created_at", "lease_owner",
        ),
        booleans=frozenset({"paused", "fetched_once"}),
    ),
    Table(
        "articles",
        (
            "id", "feed_id", "guid", "url", "canonical_url", "title", "text", "published",
            "fetched_at", "story_id", "content_hash", "simhash",
            "image", "author", "tags",
        ),
    ),
    Table(
        "summaries",
        ("content_hash", "summarizer", "body", "created_at"),
        key=("content_hash", "summarizer"),
    ),
    Table("topic_cache", ("cache_key", "body", "created_at"), key=("cache_key",)),
    Table(
        "channels",
        (
            "id", "platform", "chat_id", "origin", "all_feeds", "include_words",
            "exclude_words", "polls", "poll_duration", "paused_reason", "not_before",
            "created_at",
            # filters, digests and languages
            "include_patterns", "exclude_patterns", "chat_include", "chat_exclude", "digest",
            "digest_last", "language", "locale",
            "stories",
            "images", "template", "timezone",
        ),
        booleans=frozenset({"all_feeds", "images"}),
    ),
    Table("subscriptions", ("channel_id", "feed_id"), key=("channel_id", "feed_id")),
    Table(
        "outbox",
        (
            "id", "channel_id", "article_id", "kind", "dedup_key", "payload", "state",
            "attempts", "next_at", "last_error", "message_id", "platform_poll_id", "nonce",
            "created_at", "sent_at", "claimed_by",
        ),
    ),
    Table(
        "polls",
        ("id", "article_id", "question", "origin", "close_at", "closed_at", "created_at"),
    ),
    Table("poll_options", ("poll_id", "idx", "label"), key=("poll_id", "idx")),
    Table(
        "poll_posts",
        (
            "id", "poll_id", "channel_id", "platform", "platform_poll_id", "message_id",
            "counts", "final_counts", "closed",
        ),
        booleans=frozenset({"closed"}),
    ),
    Table(
        "votes",
        ("poll_id", "platform", "user_id", "poll_post_id", "options"),
        key=("poll_id", "platform", "user_id"),
    ),
    Table(
        "held_votes",
        ("platform", "platform_poll_id", "user_id", "options", "received_at"),
        key=("platform", "platform_poll_id", "user_id"),
    ),
    Table(
        "story_posts",
        (
            "channel_id", "story_id", "message_id", "thread", "told", "created_at",
            "updated_at",
        ),
        key=("channel_id", "story_id"),
    ),
    Table(
        "story_asks",
        ("platform", "chat_id", "story_id", "last_article", "shown", "asked_at"),
        key=("platform", "chat_id", "story_id"),
    ),
)
# fmt: on

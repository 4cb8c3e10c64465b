"""Store contract: the summary cache."""

from __future__ import annotations

from bot.store.ports import Store


async def test_article_summaries_first_one_wins(any_store: Store) -> None:
    """A summary is kept per (content, summarizer); the first stored stays."""
    cache = any_store.summaries
    assert await cache.article_summary("h1", "extractive-1") is None
    await cache.save_article_summary("h1", "extractive-1", '{"a": 1}', 0)
    await cache.save_article_summary("h1", "extractive-1", '{"a": 2}', 1)
    await cache.save_article_summary("h1", "llm:m", '{"b": 1}', 1)
    assert await cache.article_summary("h1", "extractive-1") == '{"a": 1}'
    assert await cache.article_summary("h1", "llm:m") == '{"b": 1}'


async def test_topic_summaries_latest_wins(any_store: Store) -> None:
    """A topic summary is kept per key; a later one replaces it."""
    cache = any_store.summaries
    assert await cache.topic_summary("k") is None
    await cache.save_topic_summary("k", "one", 0)
    await cache.save_topic_summary("k", "two", 1)
    assert await cache.topic_summary("k") == "two"

"""Topic ranking: bm25 combined with recency, one hit per story."""

from __future__ import annotations

from bot.chat import topics


def test_ranking_prefers_recent_and_one_per_story() -> None:
    """bm25 is weighed by recency, and a story appears once."""
    now = 100 * 86400.0
    hits = [(1, 10, -5.0, now - 30 * 86400), (2, 20, -4.0, now), (2, 21, -3.0, now)]
    ranked = topics.rank_stories(hits, now, 5)
    assert [r.story_id for r in ranked] == [2, 1]
    assert ranked[0].article_id == 20

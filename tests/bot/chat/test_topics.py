"""Topic ranking: bm25 combined with recency, one hit per story."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat import topics
from bot.errors import UserInputError


def test_ranking_prefers_recent_and_one_per_story() -> None:
    """bm25 is weighed by recency, and a story appears once."""
    now = 100 * 86400.0
    hits = [(1, 10, -5.0, now - 30 * 86400), (2, 20, -4.0, now), (2, 21, -3.0, now)]
    ranked = topics.rank_stories(hits, now, 5)
    assert [r.story_id for r in ranked] == [2, 1]
    assert ranked[0].article_id == 20


@settings(deadline=None)  # a busy CI machine must not fail a pure property
@given(st.text(max_size=400))
def test_any_topic_gives_a_clear_refusal_or_a_few_plain_words(topic: str) -> None:
    """Whatever a reader types after /summary: either a refusal in one short line, or 1 to
    MAX_TERMS words, each lowercased from the topic, short, and free of search syntax."""
    try:
        terms = topics.topic_terms(topic)
    except UserInputError as e:
        assert 0 < len(str(e)) <= 200 and "\n" not in str(e)
        return
    assert 1 <= len(terms) <= topics.MAX_TERMS
    for term in terms:
        assert 0 < len(term) <= topics.MAX_TERM_CHARS and term in topic.lower()
        assert not set(term) & set("\"'*:^()-+ ")

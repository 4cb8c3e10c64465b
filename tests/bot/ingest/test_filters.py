"""Regular-expression filters: linear-time matching, clear refusals, and routing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import UserInputError
from bot.ingest import routing
from bot.ingest.filters import (
    MAX_PATTERN_CHARS,
    MAX_PATTERNS,
    PatternError,
    check_pattern,
    check_patterns,
    passes,
)
from bot.types import Channel, ChannelOptions, ChatRef, Feed, FeedOrigin, Filters, Subscription

FEED = Feed(1, "u", "n", 600.0, 0, FeedOrigin.CONFIG)


def test_patterns_match_title_text_or_a_tag_case_insensitively() -> None:
    """Any field may match; case is ignored unless the pattern says ``(?-i)``; an exclude
    vetoes; an include list keeps only what matches it."""
    oil = Filters(("oil price",), ("^sport$",))
    assert passes(oil, "OIL PRICE up", "")
    assert passes(oil, "Markets", "the oil price rose")
    assert not passes(oil, "Oil price", "", ("Sport",))
    assert not passes(oil, "Markets", "nothing")
    assert not passes(Filters(("(?-i)OPEC",)), "opec meets", "")
    assert passes(Filters(), "anything", "")


def test_a_catastrophic_pattern_on_a_huge_title_just_answers() -> None:
    """``(a+)+$`` against 100,000 characters that end in a non-match gives its answer
    (RE2 runs in linear time; Python's ``re`` would not return in a lifetime)."""
    title = "a" * 100_000 + "!"
    assert not passes(Filters(("(a+)+$",)), title, title)
    assert passes(Filters(("(a+)+$",)), title[:-1], "")
    assert passes(Filters((), ("(x+x+)+y",)), "", "x" * 100_000)  # not excluded


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "an empty pattern would match everything"),
        ("   ", "an empty pattern would match everything"),
        ("(?=oil)", "look-around and back-references are not supported"),
        ("(?<!crude )oil", "look-around and back-references are not supported"),
        (r"(oil)\1", "look-around and back-references are not supported"),
        ("(unclosed", "not a valid regular expression: missing )"),
        ("a{1001}", "not a valid regular expression: invalid repetition size"),
        ("x" * (MAX_PATTERN_CHARS + 1), f"longer than {MAX_PATTERN_CHARS} characters"),
    ],
)
def test_patterns_that_cannot_run_are_refused_with_the_reason(pattern: str, reason: str) -> None:
    """Each refusal names the pattern and says why, in words a chat admin can act on."""
    with pytest.raises(PatternError) as refused:
        check_pattern(pattern)
    assert refused.value.pattern == pattern
    assert reason in refused.value.reason


def test_lists_are_capped() -> None:
    """More than ``MAX_PATTERNS`` patterns in one list is refused."""
    assert check_patterns(["a"] * MAX_PATTERNS) == ("a",) * MAX_PATTERNS
    with pytest.raises(UserInputError, match=f"at most {MAX_PATTERNS}"):
        check_patterns(["a"] * (MAX_PATTERNS + 1))


@given(st.text(max_size=60), st.text(max_size=200))
def test_any_pattern_is_checked_or_refused_and_matching_never_raises(
    pattern: str, text: str
) -> None:
    """Any text as a pattern is either runnable or a PatternError; a runnable one gives
    an answer for any text."""
    try:
        check_pattern(pattern)
    except PatternError:
        return
    assert passes(Filters((pattern,)), text, text) in (True, False)


def test_a_pattern_stored_unchecked_matches_nothing() -> None:
    """A broken pattern that reached the store by hand never breaks routing: it matches
    nothing (as include it keeps nothing, as exclude it vetoes nothing)."""
    assert not passes(Filters(("(",)), "anything", "")
    assert passes(Filters((), ("(",)), "anything", "")


def test_routing_applies_the_operators_and_the_chats_filters() -> None:
    """Keywords, the operator's patterns and the chat's patterns must all agree."""
    sub = Subscription(include=("harbour",), patterns=Filters(("strike",)))
    channel = Channel(1, ChatRef("fake", "a"), sub, chat_filters=Filters((), ("ends",)))
    assert routing.channel_wants(channel, FEED, "Harbour strike goes on", "")
    assert not routing.channel_wants(channel, FEED, "Harbour strike ends", "")
    assert not routing.channel_wants(channel, FEED, "Harbour reopens", "")
    assert not routing.channel_wants(channel, FEED, "Rail strike", "")


def test_digest_channels_get_articles_held_not_posted() -> None:
    """Of the channels an article goes to, those with a digest schedule hold it."""
    plain = Channel(1, ChatRef("fake", "a"))
    digest = Channel(2, ChatRef("fake", "b"), options=ChannelOptions(("08:00",)))
    assert routing.by_digest([plain, digest], (1, 2)) == ((1,), (2,))
    assert routing.by_digest([plain, digest], (2,)) == ((), (2,))

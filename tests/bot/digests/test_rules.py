"""Digest schedules and a digest's ranking: pure functions, tested with plain times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.digests.rules import (
    Daily,
    Every,
    due_slot,
    gather,
    latest_slot,
    next_slot,
    one_line,
    parse_schedule,
)
from bot.errors import ConfigError
from bot.types import Article, Summary

BERLIN_8 = parse_schedule(["08:00 Europe/Berlin"])


def _utc(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[misc]


def test_entries_become_rules() -> None:
    """Times, zones, lists and "every" parse; an every that divides a day becomes local
    times, any other runs from the epoch."""
    assert parse_schedule(["08:00 Europe/Berlin", "18:30"]) == (
        Daily(8, 0, "Europe/Berlin"),
        Daily(18, 30, "UTC"),
    )
    assert parse_schedule(["every 6h America/New_York"]) == tuple(
        Daily(h, 0, "America/New_York") for h in (0, 6, 12, 18)
    )
    assert parse_schedule(["every 7h", "every 7h"]) == (Every(7 * 3600.0),)
    assert parse_schedule([]) == ()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("25:00", "no such time"),
        ("8 o'clock", "expected a time"),
        ("08:00 Mars/Olympus", "unknown time zone"),
        ("08:00 ../../etc/passwd", "unknown time zone"),
        ("every 5m", "at most one digest every 15m"),
        ("every 7h Europe/Berlin", "must divide a day"),
    ],
)
def test_bad_entries_say_what_is_wrong(entry: str, problem: str) -> None:
    """A time, zone or interval that does not exist is a config error naming it."""
    with pytest.raises(ConfigError, match=problem):
        parse_schedule([entry])


def test_local_times_follow_daylight_saving() -> None:
    """08:00 Berlin is 07:00 UTC in winter, 06:00 UTC from the spring-forward day on, and
    07:00 UTC again after the autumn night."""
    assert latest_slot(BERLIN_8, _utc(2027, 3, 27, 12)) == _utc(2027, 3, 27, 7)
    assert latest_slot(BERLIN_8, _utc(2027, 3, 28, 12)) == _utc(2027, 3, 28, 6)
    assert next_slot(BERLIN_8, _utc(2027, 3, 27, 12)) == _utc(2027, 3, 28, 6)
    assert next_slot(BERLIN_8, _utc(2027, 10, 30, 12)) == _utc(2027, 10, 31, 7)


def test_skipped_and_repeated_local_times_give_one_slot_a_day() -> None:
    """02:30 does not exist on the spring night (taken an hour later) and comes twice on
    the autumn night (taken the first time): one slot each day either way."""
    night = parse_schedule(["02:30 Europe/Berlin"])
    assert latest_slot(night, _utc(2027, 3, 28, 12)) == _utc(2027, 3, 28, 1, 30)
    assert latest_slot(night, _utc(2027, 10, 31, 12)) == _utc(2027, 10, 31, 0, 30)
    assert next_slot(night, _utc(2027, 10, 31, 0, 30)) == _utc(2027, 11, 1, 1, 30)


def test_only_the_latest_missed_slot_is_owed() -> None:
    """After three days down, one digest is owed (the latest slot), then none until the
    next slot."""
    last = _utc(2027, 1, 1, 7)
    now = _utc(2027, 1, 4, 9)
    assert due_slot(BERLIN_8, last, now) == _utc(2027, 1, 4, 7)
    assert due_slot(BERLIN_8, _utc(2027, 1, 4, 7), now) is None
    assert due_slot((), 0.0, now) is None
    assert next_slot((), now) is None


def test_every_counts_from_the_epoch() -> None:
    """A 7-hour digest falls on multiples of 7 hours since 1970."""
    rules = parse_schedule(["every 7h"])
    now = 1_800_000_000.0
    assert latest_slot(rules, now) == (now // 25200) * 25200
    assert next_slot(rules, now) == (now // 25200 + 1) * 25200


@given(
    now=st.floats(min_value=1.6e9, max_value=2.2e9),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "UTC"]),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 59]),
)
def test_slots_bracket_now_within_a_day(now: float, zone: str, hour: int, minute: int) -> None:
    """Any time, any zone: the latest slot is at or before now, the next after it, and
    they are at most a day and an hour apart."""
    rules = (Daily(hour, minute, zone),)
    latest, upcoming = latest_slot(rules, now), next_slot(rules, now)
    assert latest is not None and upcoming is not None
    assert latest <= now < upcoming
    assert 0 < upcoming - latest <= 86400 + 3600


def _article(n: int, story: int, feed: int, published: float) -> Article:
    return Article(n, feed, f"g{n}", f"u{n}", f"u{n}", f"Title {n}", "t", published, story, "h")


def test_stories_rank_by_sources_then_recency() -> None:
    """The story told by the most feeds leads; ties go to the most recent; each story's
    lead is the channel's first held article of it."""
    held = [_article(1, 1, 1, 10.0), _article(2, 2, 1, 50.0), _article(3, 3, 1, 20.0)]
    held.append(_article(4, 1, 1, 30.0))
    tellings = {1: [held[0], held[3]], 2: [held[1]], 3: [held[2], _article(9, 3, 2, 25.0)]}
    ranked = gather(held, tellings)
    assert [(s.lead.id, s.sources, s.latest) for s in ranked] == [
        (3, 2, 25.0),
        (2, 1, 50.0),
        (1, 1, 30.0),
    ]


def test_one_line_is_the_headline_or_the_first_sentence() -> None:
    """A headline wins; else the first sentence, cut at a word."""
    assert one_line(Summary("A. B.", ("A.", "B."), "llm", headline="Head")) == "Head"
    assert one_line(Summary("First one. Then.", ("First one.", "Then."), "extractive")) == (
        "First one."
    )
    long = Summary("x", ("word " * 100,), "extractive")
    assert len(one_line(long)) <= 200 and one_line(long).endswith("word…")

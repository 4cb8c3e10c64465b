"""Pure decisions: backoff, pausing, what is new, what a channel gets, ranking."""

from __future__ import annotations

import pytest

from bot import decide
from bot.ports import RateLimits
from bot.ratelimit import Pacer
from bot.types import Channel, ChatRef, Feed, FeedEntry, FeedOrigin, Subscription


def _feed(**kw: object) -> Feed:
    base: dict[str, object] = dict(
        id=1, url="u", name="n", every=600.0, backfill=0, origin=FeedOrigin.CONFIG
    )
    base.update(kw)
    return Feed(**base)  # type: ignore[arg-type]


def _entry(n: int, published: float | None = None) -> FeedEntry:
    return FeedEntry(
        guid=f"g{n}", url=f"https://x.test/{n}", title=f"t{n}", text="x", published=published
    )


def test_feed_backoff_doubles_and_honours_retry_after() -> None:
    """Each failure doubles the wait (capped); Retry-After is a floor."""
    feed = _feed()
    assert decide.feed_next_due(feed, 0.0) == 600.0
    assert decide.feed_next_due(feed, 0.0, failures=2) == 2400.0
    assert decide.feed_next_due(feed, 0.0, failures=30) == decide.FEED_MAX_BACKOFF
    assert decide.feed_next_due(feed, 0.0, retry_after=9000.0) == 9000.0


def test_feed_paused_after_ten_failures() -> None:
    """Ten failures in a row pause a feed; nine do not."""
    assert not decide.feed_should_pause(9)
    assert decide.feed_should_pause(10)


def test_new_entries_skips_known_guids_urls_and_repeats() -> None:
    """Known GUIDs, known canonical URLs and repeats within one fetch are not new."""
    entries = [_entry(1), _entry(2), _entry(3), _entry(3)]
    canonical = {e.guid: e.url for e in entries}
    fresh = decide.new_entries(entries, {"g1"}, {"https://x.test/2"}, canonical)
    assert [e.guid for e in fresh] == ["g3"]


def test_first_fetch_posts_nothing_unless_backfill() -> None:
    """No backfill flood: the first fetch posts only the latest ``backfill`` entries."""
    fresh = [_entry(n, published=float(n)) for n in range(5)]
    assert decide.entries_to_post(_feed(), fresh) == set()
    assert decide.entries_to_post(_feed(backfill=2), fresh) == {"g4", "g3"}
    assert decide.entries_to_post(_feed(fetched_once=True), fresh) == {e.guid for e in fresh}


def test_keywords_include_and_exclude_whole_words() -> None:
    """Include words must appear as words; an exclude word vetoes."""
    include, exclude = decide.split_keywords(["Venezuela", "-sports", " ", "-", "oil price"])
    sub = Subscription(include=include, exclude=exclude)
    channel = Channel(1, ChatRef("telegram", "@x"), sub)
    feed = _feed()
    assert decide.channel_wants(channel, feed, "Venezuela talks", "")
    assert not decide.channel_wants(channel, feed, "Venezuelan sports", "venezuela")
    assert not decide.channel_wants(channel, feed, "Venezuelans", "")
    assert decide.channel_wants(channel, feed, "Markets", "the oil price rose")


def test_chat_feeds_go_only_to_their_subscribers() -> None:
    """A feed a chat user added reaches only channels subscribed to it."""
    chat_feed = _feed(id=7, origin=FeedOrigin.CHAT)
    everything = Channel(1, ChatRef("console"), Subscription(all_feeds=True))
    subscriber = Channel(2, ChatRef("telegram", "1"), Subscription(False, frozenset({7})))
    assert decide.route([everything, subscriber], chat_feed, "t", "x") == (2,)


def test_ranking_prefers_recent_and_one_per_story() -> None:
    """bm25 is weighed by recency, and a story appears once."""
    now = 100 * 86400.0
    hits = [(1, 10, -5.0, now - 30 * 86400), (2, 20, -4.0, now), (2, 21, -3.0, now)]
    ranked = decide.rank_stories(hits, now, 5)
    assert [r.story_id for r in ranked] == [2, 1]
    assert ranked[0].article_id == 20


def test_delivery_backoff_grows_and_caps() -> None:
    """Delivery retries back off exponentially up to an hour; the sixth failure is final."""
    assert decide.delivery_backoff(1) == 15.0
    assert decide.delivery_backoff(3) == 60.0
    assert decide.delivery_backoff(50) == 3600.0
    assert decide.delivery_is_dead(6) and not decide.delivery_is_dead(5)


def test_pacer_spaces_sends_globally_and_per_chat() -> None:
    """30/s overall and 20/min per chat: slots are evenly spaced."""
    pacer = Pacer(RateLimits(per_second=30, per_chat_per_minute=20))
    slots = [pacer.reserve(f"c{i}", 0.0) for i in range(3)]
    assert slots == pytest.approx([0.0, 1.04 / 30, 2.08 / 30])
    assert pacer.reserve("c0", 0.0) == pytest.approx(3.12)

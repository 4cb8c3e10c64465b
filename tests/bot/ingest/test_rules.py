"""Feed rules: backoff, pausing, what is new, the backfill rule."""

from __future__ import annotations

from bot.ingest import rules
from bot.types import Feed, FeedEntry, FeedOrigin


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
    assert rules.feed_next_due(feed, 0.0) == 600.0
    assert rules.feed_next_due(feed, 0.0, failures=2) == 2400.0
    assert rules.feed_next_due(feed, 0.0, failures=30) == rules.FEED_MAX_BACKOFF
    assert rules.feed_next_due(feed, 0.0, retry_after=9000.0) == 9000.0


def test_feed_paused_after_ten_failures() -> None:
    """Ten failures in a row pause a feed; nine do not."""
    assert not rules.feed_should_pause(9)
    assert rules.feed_should_pause(10)


def test_new_entries_skips_known_guids_urls_and_repeats() -> None:
    """Known GUIDs, known canonical URLs and repeats within one fetch are not new."""
    entries = [_entry(1), _entry(2), _entry(3), _entry(3)]
    canonical = {e.guid: e.url for e in entries}
    fresh = rules.new_entries(entries, {"g1"}, {"https://x.test/2"}, canonical)
    assert [e.guid for e in fresh] == ["g3"]


def test_first_fetch_posts_nothing_unless_backfill() -> None:
    """No backfill flood: the first fetch posts only the latest ``backfill`` entries."""
    fresh = [_entry(n, published=float(n)) for n in range(5)]
    assert rules.entries_to_post(_feed(), fresh) == set()
    assert rules.entries_to_post(_feed(backfill=2), fresh) == {"g4", "g3"}
    assert rules.entries_to_post(_feed(fetched_once=True), fresh) == {e.guid for e in fresh}

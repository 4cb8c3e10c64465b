"""Store contract: the error contract and closing."""

from __future__ import annotations

import pytest

from bot.errors import StoreError
from bot.store.ports import Store
from tests.bot.helpers import make_feed


async def test_a_closed_store_raises_store_errors_and_closes_twice(any_store: Store) -> None:
    """Every failure surfaces as StoreError; closing again never raises."""
    await make_feed(any_store)
    await any_store.close()
    with pytest.raises(StoreError):
        await any_store.feeds.all()
    with pytest.raises(StoreError):
        await make_feed(any_store, "https://b.test/rss")
    await any_store.close()


async def test_writes_to_missing_rows_change_nothing(any_store: Store) -> None:
    """Updates naming rows that do not exist neither raise nor create anything."""
    await any_store.feeds.record_failure(404, "x", next_due=1.0, pause=True)
    await any_store.feeds.set_paused(404, True, "x")
    await any_store.channels.set_paused(404, "x")
    await any_store.channels.hold_until(404, 5.0)
    await any_store.outbox.mark_retry(404, "x", 1.0, True)
    await any_store.outbox.mark_dead(404, "x")
    await any_store.polls.set_counts(404, (1, 2), final=True)
    await any_store.polls.mark_platform_poll_closed(404)
    assert not await any_store.polls.mark_closed(404, 1.0)
    assert await any_store.feeds.all() == []
    assert await any_store.outbox.rows() == []

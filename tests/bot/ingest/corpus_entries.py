"""The corpus feeds' entries, parsed once per test session (for the checks that new code
gives the same results as the code it replaced, on real text)."""

from __future__ import annotations

import functools

from bench.stories import Item, background_items
from tests.conftest import corpus_or_skip


def corpus_entries() -> list[Item]:
    """Every entry of the corpus feeds (skips the test when the corpus is absent)."""
    return _parsed(str(corpus_or_skip("feeds")))


@functools.cache
def _parsed(folder: str) -> list[Item]:
    from pathlib import Path

    return background_items(Path(folder))

"""Shared fixtures: a real SQLite store in a temp folder, a manual clock, the corpus path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.store.sqlite import SqliteStore
from tests.fakes.http_server import LocalServer

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def corpus_or_skip(*parts: str) -> Path:
    """A path inside ../shared/corpus, or skip the test when the corpus is absent."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus not available at {path} (it is beside the repo in CI)")
    return path


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    """A migrated store on a real SQLite file."""
    opened = await SqliteStore.open(tmp_path / "test.db")
    yield opened
    await opened.close()


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    """A loopback HTTP server for feeds and pages."""
    async with LocalServer() as running:
        yield running

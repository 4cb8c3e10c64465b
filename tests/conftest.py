"""Shared fixtures: a real SQLite store in a temp folder, a manual clock, the corpus path."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.store.sqlite import SqliteStore
from tests.fakes.http_server import LocalServer
from tests.fakes.postgres import Databases, running_cluster, server_bin

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


def python_prints(code: str) -> str:
    """What a fresh interpreter running ``code`` from the repository's root prints (it
    must exit 0): for what a process imports or sets up, unseen by this test process."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    return result.stdout


def corpus_or_skip(*parts: str) -> Path:
    """A path inside ../shared/corpus, or skip the test when the corpus is absent."""
    path = CORPUS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus not available at {path} (it is beside the repo in CI)")
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[Databases]:
    """A real PostgreSQL server for the session (started as the ``postgres`` user when the
    tests run as root); tests that need it are skipped where no server is installed."""
    if server_bin() is None:
        pytest.skip("no PostgreSQL server installed (initdb, pg_ctl)")
    base = Path(tempfile.mkdtemp(prefix="newsbrief-pg-"))
    try:
        with running_cluster(base) as cluster:
            yield Databases(cluster)
    finally:
        shutil.rmtree(base, ignore_errors=True)


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

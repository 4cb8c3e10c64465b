"""The store contract suite runs on every implementation of the store port.

Each test here speaks only the port (``bot.store.ports``), never SQL, so a new
implementation joins by adding one opener to ``STORES``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.store.ports import Store
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from tests.fakes.postgres import Databases

Opener = Callable[[pytest.FixtureRequest, Path], Awaitable[Store]]


async def _sqlite(request: pytest.FixtureRequest, tmp: Path) -> Store:
    return await SqliteStore.open(tmp / "contract.db")


async def _postgresql(request: pytest.FixtureRequest, tmp: Path) -> Store:
    databases: Databases = request.getfixturevalue("postgres")
    return await PostgresStore.open(await databases.fresh())


STORES: dict[str, Opener] = {"sqlite": _sqlite, "postgresql": _postgresql}


@pytest.fixture(params=sorted(STORES))
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, migrated store of each implementation."""
    store = await STORES[request.param](request, tmp_path)
    yield store
    await store.close()

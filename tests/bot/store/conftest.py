"""The store contract suite runs on every implementation of the store port.

Each test here speaks only the port (``bot.store.ports``), never SQL, so a new
implementation joins by adding one opener to ``STORES``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.store.ports import Store
from bot.store.sqlite import SqliteStore

Opener = Callable[[Path], Awaitable[Store]]


async def _sqlite(tmp: Path) -> Store:
    return await SqliteStore.open(tmp / "contract.db")


STORES: dict[str, Opener] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(STORES))
async def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, migrated store of each implementation."""
    store = await STORES[request.param](tmp_path)
    yield store
    await store.close()

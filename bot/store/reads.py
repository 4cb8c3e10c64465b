"""What every store's database gives on top of its own ``fetch_all``: the first row of a
read, and its first column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

R = TypeVar("R")


class Reads(Generic[R]):
    """``fetch_one`` and ``fetch_value`` over the subclass's ``fetch_all`` (rows of type
    ``R``, indexable by position)."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[R]:
        """Every row of a read query.

        Raises:
            StoreError: the database failed.
        """
        raise NotImplementedError

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> R | None:
        """The first row of a read query, if any.

        Raises:
            StoreError: the database failed.
        """
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row (None when there is no row).

        Raises:
            StoreError: the database failed.
        """
        row: Any = await self.fetch_one(sql, params)
        return row[0] if row is not None else None

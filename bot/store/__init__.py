"""Durable state: the store port (``ports``) and its implementations, SQLite (``sqlite``,
the embedded default) and PostgreSQL (``postgres``, for several workers)."""

from __future__ import annotations

from bot.store.ports import Store

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(location: str) -> bool:
    """Whether a database location is a PostgreSQL URL (else it is a SQLite file path)."""
    return location.startswith(POSTGRES_SCHEMES)


async def open_store(location: str) -> Store:
    """The store at ``location``: a ``postgresql://`` URL, or a SQLite file path.

    The PostgreSQL driver is imported only when a URL asks for it.

    Raises:
        StoreError: the database cannot be opened or migrated.
    """
    if is_postgres(location):
        from bot.store.postgres import PostgresStore

        return await PostgresStore.open(location)
    from bot.store.sqlite import SqliteStore

    return await SqliteStore.open(location)

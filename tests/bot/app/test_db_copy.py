"""``newsbrief db copy``: an install moved from SQLite to PostgreSQL and back loses nothing,
refuses to mix into a database that holds data unless told, and can be run again."""

from __future__ import annotations

from pathlib import Path

from bot.store import open_store
from bot.store.sqlite import SqliteStore
from bot.store.tables import TABLES
from tests.bot.app.test_cli import env_for, newsbrief
from tests.bot.store.test_tables import populate
from tests.fakes.postgres import Databases


async def _dump(location: str) -> dict[str, list[tuple[object, ...]]]:
    store = await open_store(location)
    try:
        return {t.name: await store.tables.read(t, None, 100_000) for t in TABLES}
    finally:
        await store.close()


async def test_sqlite_to_postgresql_and_back_is_identical(
    tmp_path: Path, postgres: Databases
) -> None:
    """Every row of every table (outbox states, polls, votes, summaries included) survives
    SQLite → PostgreSQL → SQLite unchanged, and the second copy prints its counts."""
    original = str(tmp_path / "original.db")
    store = await SqliteStore.open(original)
    await populate(store)
    await store.close()
    url = await postgres.fresh()
    code, out, err = await newsbrief(tmp_path, "db", "copy", original, url, env=env_for(tmp_path))
    assert code == 0, err
    back = str(tmp_path / "back.db")
    code, out, err = await newsbrief(tmp_path, "db", "copy", url, back, env=env_for(tmp_path))
    assert code == 0, err
    assert out.startswith("copied ")
    before, middle, after = await _dump(original), await _dump(url), await _dump(back)
    assert before == middle == after
    assert all(before[t.name] for t in TABLES)


async def test_a_target_with_data_is_refused_unless_forced(
    tmp_path: Path, postgres: Databases
) -> None:
    """Copying into a database that holds data stops with one clear line; with --force it
    goes, and running it again changes nothing."""
    source = str(tmp_path / "source.db")
    store = await SqliteStore.open(source)
    await populate(store)
    await store.close()
    url = await postgres.fresh()
    env = env_for(tmp_path)
    assert (await newsbrief(tmp_path, "db", "copy", source, url, env=env))[0] == 0
    code, _, err = await newsbrief(tmp_path, "db", "copy", source, url, env=env)
    assert code == 1 and "already holds data" in err and "Traceback" not in err
    first = await _dump(url)
    code, _, err = await newsbrief(tmp_path, "db", "copy", source, url, "--force", env=env)
    assert code == 0, err
    assert await _dump(url) == first


async def test_the_copy_carries_the_fingerprint_version_of_the_source(
    tmp_path: Path, postgres: Databases
) -> None:
    """A target that recorded a newer fingerprint version (a bot ran on it once) gets the
    source's version with its articles (here: none recorded, so version 1), so the next
    ingest on the target makes the copied fingerprints again; a version row alone does not
    count as data."""
    source = str(tmp_path / "source.db")
    store = await SqliteStore.open(source)
    await populate(store)
    async with store.db.transaction() as db:
        await db.execute("DELETE FROM store_versions")
    await store.close()
    url = await postgres.fresh()
    target = await open_store(url)
    await target.articles.record_fingerprint_version(2)
    await target.close()
    env = env_for(tmp_path)
    code, _, err = await newsbrief(tmp_path, "db", "copy", source, url, env=env)
    assert code == 0, err
    target = await open_store(url)
    try:
        assert await target.articles.fingerprint_version() == 1
    finally:
        await target.close()

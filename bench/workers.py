"""What the benches of several workers share: a throwaway PostgreSQL database, and
``newsbrief run`` worker processes pointed at it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tests.fakes.postgres import Cluster, running_cluster

REPO = Path(__file__).resolve().parents[1]


@asynccontextmanager
async def postgres() -> AsyncIterator[Cluster]:
    """A PostgreSQL cluster of its own, in a folder of its own under the system's temp
    folder (the ``postgres`` user, when we are root, cannot enter the bench's own)."""
    base = Path(tempfile.mkdtemp(prefix="newsbrief-bench-pg-"))
    try:
        with running_cluster(base) as cluster:
            yield cluster
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def database(cluster: Cluster, name: str) -> str:
    """Create an empty database on ``cluster``; its URL (the workers migrate it)."""
    conn = await asyncpg.connect(cluster.url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return cluster.url(name)


def worker_env(folder: Path, db: str, **extra: str) -> dict[str, str]:
    """The environment of a worker: this checkout, ``db``, the config in ``folder``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "DISCORD_", "OPENAI_", "NEWSBRIEF_"))
    }
    return env | {
        "PYTHONPATH": str(REPO),
        "NEWSBRIEF_DB": db,
        "NEWSBRIEF_CONFIG": str(folder / "newsbrief.toml"),
        "NEWSBRIEF_ALLOW_PRIVATE_HOSTS": "1",
        "NEWSBRIEF_LOG_LEVEL": "WARNING",
        **extra,
    }


async def spawn(folder: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    """Start ``newsbrief ARGS`` in ``folder``, its output to ``folder/workers.log``."""
    with (folder / "workers.log").open("ab") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=folder,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )


async def kill(process: asyncio.subprocess.Process) -> None:
    """SIGKILL a worker (no clean-up of any kind) and reap it."""
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)
    await process.wait()


async def stop(processes: list[asyncio.subprocess.Process], grace: float = 30.0) -> None:
    """Stop workers as an operator would (SIGTERM), SIGKILL whoever does not stop in time."""
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            await kill(process)


async def query(url: str, sql: str) -> list[asyncpg.Record]:
    """Rows of one query on the database at ``url``."""
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()

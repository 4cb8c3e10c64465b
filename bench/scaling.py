"""Scaling: a cold ingest of 1,000 feeds (the 137 corpus feeds, each served at several
URLs) by one, two and three ``newsbrief run --role ingest`` workers sharing one PostgreSQL
database, beside one worker on the embedded SQLite store, in one run. Each arm starts from
an empty database and ends when every feed was fetched once (or failed); the wall time
includes the workers' start-up."""

from __future__ import annotations

import asyncio
import os
import resource
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench import Rows, run_table
from bench.workers import database, postgres, query, spawn, stop, worker_env
from tests.fakes.http_server import LocalServer
from tests.fakes.postgres import Cluster

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
FEEDS = 1000
DEADLINE = 900.0
PENDING = (  # feeds waiting for their first fetch, and feeds known (the config is synced)
    "SELECT SUM(CASE WHEN NOT fetched_once AND last_error IS NULL THEN 1 ELSE 0 END), "
    "COUNT(*) FROM feeds"
)
STORED = "SELECT COUNT(*), (SELECT COUNT(*) FROM feeds WHERE last_error IS NOT NULL) FROM articles"


def _urls(server: LocalServer) -> list[str]:
    files = sorted(CORPUS.glob("*.xml"))
    copies = -(-FEEDS // len(files))
    for copy in range(copies):
        server.serve_directory(f"/copy{copy}", CORPUS)
    return [server.url(f"/copy{c}/{f.name}") for c in range(copies) for f in files][:FEEDS]


def _sqlite(path: Path, sql: str) -> tuple[int, ...]:
    if not path.exists():
        return (-1,)
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return tuple(db.execute(sql).fetchone())
    except sqlite3.OperationalError:  # not migrated yet
        return (-1,)


async def _counts(db: str, sql: str) -> tuple[int, ...]:
    if db.startswith("postgresql://"):
        try:
            return tuple((await query(db, sql))[0])
        except (asyncpg.PostgresError, OSError):  # not migrated yet: the workers start
            return (-1,)
    return await asyncio.to_thread(
        _sqlite, Path(db), sql.replace("NOT fetched_once", "fetched_once = 0")
    )


@dataclass(frozen=True)
class Arm:
    """One arm's result: wall seconds until every feed was fetched, what was stored."""

    seconds: float
    articles: int
    failed: int
    cpu: float  # CPU seconds the workers used, all together
    server_cpu: float  # CPU seconds of the PostgreSQL server (0 for SQLite)
    bench_cpu: float  # CPU seconds of this process: the loopback feed server


async def _arm(
    tmp: Path, name: str, db: str, urls: list[str], workers: int, cluster: Cluster | None = None
) -> Arm:
    folder = tmp / name
    folder.mkdir()
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n\n' for url in urls)
    (folder / "newsbrief.toml").write_text(feeds)
    env = worker_env(folder, db)
    before, server, own = _children_cpu(), _server_cpu(cluster), time.process_time()
    start = time.monotonic()
    processes = [await spawn(folder, env, "run", "--role", "ingest") for _ in range(workers)]
    try:
        await _fetched_all(db, start)
        seconds = time.monotonic() - start
    finally:
        await stop(processes)
    articles, failed = await _counts(db, STORED)
    own = time.process_time() - own
    await asyncio.sleep(1.0)  # the server reaps the backends of the closed connections
    return Arm(
        seconds, articles, failed, _children_cpu() - before, _server_cpu(cluster) - server, own
    )


def _server_cpu(cluster: Cluster | None) -> float:
    """CPU seconds of a PostgreSQL server: its postmaster and every backend it reaped."""
    if cluster is None:
        return 0.0
    pid = (cluster.data / "postmaster.pid").read_text().split()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(v) for v in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _fetched_all(db: str, start: float) -> None:
    """Return once no feed waits for its first fetch (or at the deadline)."""
    while time.monotonic() - start < DEADLINE:
        if (await _counts(db, PENDING)) == (0, FEEDS):
            return
        await asyncio.sleep(0.2)  # a bench watching other processes, not a test


def _row(name: str, arm: Arm) -> tuple[str, str]:
    cpu = arm.cpu + arm.server_cpu + arm.bench_cpu
    return name, (
        f"{arm.seconds:.1f} s; CPU {cpu:.1f} s (workers {arm.cpu:.1f}, database "
        f"{arm.server_cpu:.1f}, feed server {arm.bench_cpu:.1f}) = {cpu / arm.seconds:.2f} "
        f"cores; {arm.articles} articles, {arm.failed} failed"
    )


async def _run(tmp: Path) -> Rows:
    async with LocalServer() as server, postgres() as cluster:
        urls = _urls(server)
        lite = await _arm(tmp, "sqlite", str(tmp / "nb.db"), urls, 1)
        pg = {
            n: await _arm(tmp, f"pg{n}", await database(cluster, f"scale{n}"), urls, n, cluster)
            for n in (1, 2, 3)
        }
    return [
        ("feeds (loopback HTTP, cold, whole processes)", str(FEEDS)),
        _row("SQLite, 1 worker", lite),
        *(_row(f"PostgreSQL, {n} worker(s)", pg[n]) for n in pg),
        ("PostgreSQL 1 worker / SQLite 1 worker", f"{pg[1].seconds / lite.seconds:.2f}x the time"),
        *(
            (f"PostgreSQL {n} workers: speed-up over 1", f"{pg[1].seconds / pg[n].seconds:.2f}x")
            for n in (2, 3)
        ),
    ]


def main() -> int:
    """Print the scaling table."""
    if not CORPUS.exists():
        print(f"scaling: corpus not found at {CORPUS}")
        return 1
    return run_table("scaling", _run)

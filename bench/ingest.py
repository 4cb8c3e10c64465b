"""Ingest of the 137 real corpus feeds served from loopback, cold, whole process: newsbrief
beside reader (the library users compare against) in the same run, with newsbrief's stages
measured one by one beside fastfeedparser and feedparser alone on the same bytes."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import fastfeedparser
import feedparser

from bench import Rows, run_table
from bench.upkeep import upkeep
from bot.feeds.parse import read_feed
from bot.ingest.fingerprint import fingerprints
from bot.ingest.pipeline import INDEX_BATCH
from bot.store.ports import SEARCH_CHARS
from bot.types import FeedEntry
from tests.fakes.http_server import LocalServer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
REPO = Path(__file__).resolve().parents[1]
COPIES = 7  # the corpus served at this many paths: about 1,000 feeds
ROUNDS = 2


# --- whole processes --------------------------------------------------------------------


class Run(NamedTuple):
    """One whole process run to its end."""

    wall: float  # seconds
    rss: float  # its own peak, MiB
    out: str  # its stdout
    cpu: float  # user + system seconds (with any children it waited for)


def _child(args: Sequence[str], env: dict[str, str], cwd: Path) -> Run:
    """Run a process to its end: wall seconds, its own peak RSS in MiB, its stdout, and
    its CPU seconds (steadier than wall time when other jobs load the machine).

    The peak is the process's high-water mark (``VmHWM``) read while it runs, not
    ``wait4``'s ``ru_maxrss``: that one also counts this (large) process, which the child
    is until it calls ``exec``, and made a small child look as large as the bench."""
    out = cwd / "stdout.txt"
    start = time.perf_counter()
    peak = 0
    with out.open("wb") as sink:
        process = subprocess.Popen(args, env=env, cwd=cwd, stdout=sink, stdin=subprocess.DEVNULL)
        while not (done := os.wait4(process.pid, os.WNOHANG))[0]:
            peak = max(peak, _high_water_kib(process.pid))
            time.sleep(0.002)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(done[1]) != 0:
        raise RuntimeError(f"{args} failed with {os.waitstatus_to_exitcode(done[1])}")
    usage = done[2]
    return Run(elapsed, peak / 1024, out.read_text(), usage.ru_utime + usage.ru_stime)


def _high_water_kib(pid: int) -> int:
    """A running process's peak resident set so far (0 once it has exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), "VmHWM: 0 kB")
    return int(line.split()[1])


def _compiled() -> None:
    """Write the project's bytecode first, as installing a package does (reader's is in
    site-packages): the runs then measure the program, not compiling it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    modules = ["bot", "adapters", "summarizer"]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *modules], env=env, cwd=REPO, check=True
    )


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_"))}
    env.pop("OPENAI_API_KEY", None)
    return {**env, "PYTHONPATH": str(REPO), **extra}


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)


async def _newsbrief(folder: Path, urls: list[str], *command: str) -> Run:
    feeds = "".join(f'[[feeds]]\nurl = "{url}"\n\n' for url in urls)
    await asyncio.to_thread(_write, folder, "newsbrief.toml", feeds)
    env = _env(
        NEWSBRIEF_DB=str(folder / "nb.db"),
        NEWSBRIEF_CONFIG=str(folder / "newsbrief.toml"),
        NEWSBRIEF_ALLOW_PRIVATE_HOSTS="1",
    )
    args = [sys.executable, "-m", "bot", *command]
    return await asyncio.to_thread(_child, args, env, folder)


async def _reader(folder: Path, urls: list[str]) -> Run:
    await asyncio.to_thread(_write, folder, "urls.txt", "\n".join(urls))
    args = [sys.executable, "-m", "bench.reader_ingest", str(folder / "r.db"), "urls.txt"]
    return await asyncio.to_thread(_child, args, _env(), folder)


def _links(db: Path, sql: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute(sql) if row[0]}


# --- stages, in this process ------------------------------------------------------------


def _timed(work: Callable[[], int], rounds: int = 2) -> tuple[float, int]:
    """Best wall time of a few rounds, and the count the work returns."""
    best, count = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        count = work()
        best = min(best, time.perf_counter() - start)
    return best, count


def _ffp(bodies: list[bytes]) -> int:
    return sum(len(fastfeedparser.parse(b, include_tags=False)["entries"]) for b in bodies)


def _read(bodies: list[bytes]) -> int:
    return sum(len(read_feed(b).entries) for b in bodies)


def _convert(bodies: list[bytes]) -> list[list[FeedEntry]]:
    return [[raw.entry() for raw in read_feed(b).entries] for b in bodies]


def _fingerprints(feeds: list[list[FeedEntry]]) -> int:
    for entries in feeds:
        fingerprints([(e.title, e.text) for e in entries])
    return sum(len(entries) for entries in feeds)


# --- the table ----------------------------------------------------------------------------


async def _processes(tmp: Path, files: list[Path]) -> dict[str, list[Run]]:
    """Every whole-process run, against one loopback server."""
    await asyncio.to_thread(_compiled)
    async with LocalServer() as server:
        for copy in range(COPIES):
            server.serve_directory(f"/feeds{copy}", CORPUS)
        urls = [server.url(f"/feeds0/{f.name}") for f in files]
        many = [server.url(f"/feeds{c}/{f.name}") for c in range(COPIES) for f in files]
        args = [sys.executable, "-m", "bot", "--help"]
        runs: dict[str, list[Run]] = {"help": [await asyncio.to_thread(_child, args, _env(), tmp)]}
        # alternated, best of each: other jobs on the machine slow one run or another
        for n in range(ROUNDS):
            runs.setdefault("ingest", []).append(
                await _newsbrief(tmp / f"nb{n}", urls, "ingest", "--json")
            )
            runs.setdefault("reader", []).append(await _reader(tmp / f"reader{n}", urls))
        runs["run"] = [await _newsbrief(tmp / "run", urls, "run", "--once")]
        runs["many"] = [await _newsbrief(tmp / "many", many, "ingest", "--json")]
    return runs


def _process_rows(tmp: Path, files: list[Path], runs: dict[str, list[Run]]) -> Rows:
    (nb_s, nb_rss, nb_out, _), (rd_s, rd_rss, rd_out, _) = (
        min(runs["ingest"]),
        min(runs["reader"]),
    )
    counts: dict[str, Any] = json.loads(nb_out)
    reader: dict[str, Any] = json.loads(rd_out)
    ours = _links(tmp / "nb0" / "nb.db", "SELECT url FROM articles")
    theirs = _links(tmp / "reader0" / "r.db", "SELECT link FROM entries")
    (run_s, run_rss, _, _), (many_s, many_rss, _, _) = runs["run"][0], runs["many"][0]
    help_s, help_rss, _, _ = runs["help"][0]
    return [
        ("feeds (loopback HTTP, cold, whole process)", f"{len(files)}"),
        (
            "runs of each, alternated (best shown)",
            f"newsbrief {_seconds(runs['ingest'])} s, reader {_seconds(runs['reader'])} s",
        ),
        ("reader 3.x: update_feeds + update_search", f"{rd_s:.2f} s, {reader['entries']} entries"),
        (
            "  update_feeds / update_search",
            f"{reader['update_feeds_s']:.2f} / {reader['update_search_s']:.2f} s",
        ),
        ("  peak RSS", f"{rd_rss:.0f} MiB"),
        ("newsbrief ingest", f"{nb_s:.2f} s, {counts['new_articles']} articles"),
        ("  peak RSS", f"{nb_rss:.0f} MiB"),
        (
            "  reader's entry links not stored by newsbrief",
            f"{len(theirs - ours)} of {len(theirs)}",
        ),
        ("newsbrief run --once (same feeds, cold)", f"{run_s:.2f} s, peak RSS {run_rss:.0f} MiB"),
        (
            f"newsbrief ingest, {COPIES * len(files)} feeds (each file at {COPIES} URLs)",
            f"{many_s:.2f} s, peak RSS {many_rss:.0f} MiB",
        ),
        ("newsbrief --help (start-up)", f"{help_s:.2f} s, peak RSS {help_rss:.0f} MiB"),
        ("reader / newsbrief ingest", f"{rd_s / nb_s:.1f}x"),
        (
            "CPU seconds of each run (user + system)",
            f"newsbrief {_cpu(runs['ingest'])} s, reader {_cpu(runs['reader'])} s",
        ),
        ("reader / newsbrief ingest, CPU (least of each)", f"{_least_cpu(runs)}x"),
    ]


def _cpu(runs: list[Run]) -> str:
    return " / ".join(f"{run.cpu:.2f}" for run in runs)


def _least_cpu(runs: dict[str, list[Run]]) -> str:
    reader = min(run.cpu for run in runs["reader"])
    return f"{reader / min(run.cpu for run in runs['ingest']):.1f}"


def _seconds(runs: list[Run]) -> str:
    return " / ".join(f"{run[0]:.2f}" for run in runs)


async def _stage_rows(tmp: Path, bodies: list[bytes]) -> Rows:
    ffp_s, ffp_n = _timed(lambda: _ffp(bodies))
    read_s, read_n = _timed(lambda: _read(bodies))
    convert_s, _ = _timed(lambda: len(_convert(bodies)))
    feeds = _convert(bodies)
    prints_s, prints_n = _timed(lambda: _fingerprints(feeds))
    plain_s, index = await upkeep(tmp, feeds, [SEARCH_CHARS], rounds=3)
    index_s = index[SEARCH_CHARS]
    fp_s, fp_n = _timed(lambda: sum(len(feedparser.parse(b).entries) for b in bodies), rounds=1)
    return [
        ("stages, in one process (best of 2; storing and indexing best of 3)", ""),
        ("  fastfeedparser alone, parse", f"{ffp_s:.3f} s ({ffp_n} entries)"),
        (
            "  newsbrief read_feed (structure)",
            f"{read_s:.3f} s ({read_n} entries), {read_s / ffp_s:.1f}x fastfeedparser",
        ),
        ("  newsbrief read_feed + HTML to text of all", f"{convert_s:.3f} s"),
        (
            "  fingerprints (simhash + content hash)",
            f"{prints_s:.3f} s, {prints_s / prints_n * 1e6:.0f} µs/entry",
        ),
        ("  storing, one save per feed (no FTS)", f"{plain_s:.3f} s"),
        (
            f"  indexing (FTS5 over {SEARCH_CHARS:,} chars, in batches of {INDEX_BATCH:,})",
            f"{index_s:.3f} s, {index_s / plain_s:.2f}x storing",
        ),
        ("  feedparser alone, parse", f"{fp_s:.2f} s ({fp_n} entries)"),
    ]


async def _run(tmp: Path) -> Rows:
    files = sorted(CORPUS.glob("*.xml"))
    runs = await _processes(tmp, files)
    bodies = [f.read_bytes() for f in files]
    return _process_rows(tmp, files, runs) + await _stage_rows(tmp, bodies)


def main() -> int:
    """Print the ingest table."""
    if not CORPUS.exists():
        print(f"ingest: corpus not found at {CORPUS}")
        return 1
    return run_table("ingest", _run)

"""What a feed fetch costs (issue 11): the h11 fetcher beside the httpx one it replaced
(``bench/fetch_httpx.py``) and a bare asyncio-streams GET (the floor), on the 137 corpus
feeds served over loopback by a server in another process, so only the client's CPU is
counted. Each fetcher fetches every feed 8 at a time, alternated, best of ``ROUNDS``; the
bodies must be the same bytes. Then what each costs to import (and to set up TLS, which the
httpx fetcher did with its first client), each in a fresh interpreter, best of ``ROUNDS``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import Rows, run_table
from bench.fetch_httpx import HttpFetcher as HttpxFetcher
from bot.feeds.fetch import HttpFetcher
from bot.ports import FetchRequest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
REPO = Path(__file__).resolve().parents[1]
ROUNDS = 5
AT_ONCE = 8

_SERVER = """
import asyncio, sys
from pathlib import Path
from tests.fakes.http_server import LocalServer

async def main():
    async with LocalServer() as server:
        server.serve_directory("/feeds", Path(sys.argv[1]))
        print(server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""

_IMPORT = """
import sys, time
import asyncio, ssl, logging, re, zlib, email.utils, mimetypes, ipaddress
import bot.errors, bot.ports, bot.feeds.netguard
before = len(sys.modules)
start = time.process_time()
if sys.argv[1] == "h11":
    import bot.feeds.fetch
else:
    import bench.fetch_httpx as old
    old.httpx.create_ssl_context(trust_env=False)  # its first client made one, http or not
print(time.process_time() - start, len(sys.modules) - before)
"""

Fetch = Callable[[str], Awaitable[bytes]]


async def _cpu_of(fetch: Fetch, urls: list[str]) -> tuple[float, list[bytes]]:
    """CPU seconds to fetch every URL, ``AT_ONCE`` at a time, and the bodies."""
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(url: str) -> bytes:
        async with gate:
            return await fetch(url)

    start = time.process_time()
    bodies = await asyncio.gather(*(one(url) for url in urls))
    return time.process_time() - start, list(bodies)


def _through(fetcher: Any) -> Fetch:
    async def fetch(url: str) -> bytes:
        request = FetchRequest(url=url, max_bytes=10 << 20, trusted=True)
        body: bytes = (await fetcher.fetch(request)).body
        return body

    return fetch


async def _raw_get(url: str) -> bytes:
    """A bare GET over asyncio streams, one connection each: what any client must spend."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    return answer.partition(b"\r\n\r\n")[2]


async def _fetch_rounds(urls: list[str]) -> dict[str, float]:
    best = {"h11": float("inf"), "httpx": float("inf"), "raw": float("inf")}
    for _ in range(ROUNDS):
        async with HttpFetcher(allow_private_hosts=True) as new:
            cpu, bodies = await _cpu_of(_through(new), urls)
        best["h11"] = min(best["h11"], cpu)
        async with HttpxFetcher(allow_private_hosts=True) as old:
            cpu, before = await _cpu_of(_through(old), urls)
        best["httpx"] = min(best["httpx"], cpu)
        best["raw"] = min(best["raw"], (await _cpu_of(_raw_get, urls))[0])
        if bodies != before:
            raise SystemExit("fetch: the two fetchers returned different bodies")
    return best


def _import_cost(which: str) -> tuple[float, int]:
    best, modules = float("inf"), 0
    for _ in range(ROUNDS):
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT, which],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        best, modules = min(best, float(out[0])), int(out[1])
    return best, modules


def _rows(
    port: int, imports: dict[str, tuple[float, int]]
) -> Callable[[Path], Coroutine[Any, Any, Rows]]:
    async def rows(tmp: Path) -> Rows:
        feeds = sorted((CORPUS / "feeds").glob("*.xml"))
        urls = [f"http://127.0.0.1:{port}/feeds/{feed.name}" for feed in feeds]
        best = await _fetch_rounds(urls)
        megabytes = sum(feed.stat().st_size for feed in feeds) / 1e6
        n = len(urls)

        def each(seconds: float) -> str:
            return f"{seconds:.3f} s, {seconds / n * 1e3:.2f} ms a fetch"

        return [
            ("feeds (loopback HTTP, 8 at a time, same bytes)", f"{n}, {megabytes:.1f} MB"),
            (f"client CPU for all, best of {ROUNDS} (alternated)", ""),
            ("  h11 fetcher (newsbrief)", each(best["h11"])),
            ("  httpx fetcher (before)", each(best["httpx"])),
            ("  bare asyncio GET, a connection each (the floor)", each(best["raw"])),
            ("  httpx / h11", f"{best['httpx'] / best['h11']:.1f}x"),
            (f"import (and TLS set-up), best of {ROUNDS}", ""),
            ("  h11 fetcher", f"{imports['h11'][0] * 1e3:.0f} ms, {imports['h11'][1]} modules"),
            (
                "  httpx fetcher",
                f"{imports['httpx'][0] * 1e3:.0f} ms, {imports['httpx'][1]} modules",
            ),
        ]

    return rows


def main() -> int:
    """Print the table."""
    if not (CORPUS / "feeds").is_dir():
        print(f"fetch: the corpus is not at {CORPUS}")
        return 1
    imports = {which: _import_cost(which) for which in ("h11", "httpx")}
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(CORPUS / "feeds")],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        return run_table("fetch", _rows(port, imports))
    finally:
        server.communicate("")  # its stdin closes: it stops

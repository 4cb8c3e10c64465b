"""Retry wait: what a chat waiting to retry a post costs. Three posts queued for one Telegram
chat, the first answered 500 by the fake Bot API; the bot's process CPU is measured while
that post waits out its 15 s backoff, beside the dispatcher of commit 39769dd (which slept
until the earliest pending row of *any* position, so it woke at once, claimed nothing, and
looped) and beside the same bot with nothing to send."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

from bench import run_table
from bot.app.settings import Settings
from bot.clock import SystemClock
from bot.store.sqlite import SqliteStore
from bot.store.sqlite.db import marks
from tests.fakes.http_server import LocalServer
from tests.fakes.telegram_api import Failure, FakeTelegramAPI
from tests.harness import rss, running_bot

CHAT = -1001
WINDOW = 5.0  # seconds of wall time measured (the backoff is 15 s)

NextDue = Callable[[Iterable[str]], Awaitable[float | None]]


def _next_due_before(store: SqliteStore) -> NextDue:
    """39769dd's query: the earliest pending row of an active channel, head or not."""

    async def next_due(platforms: Iterable[str]) -> float | None:
        names = list(platforms) or [""]
        value = await store.db.fetch_value(
            "SELECT MIN(MAX(o.next_at, c.not_before)) FROM outbox o "
            "JOIN channels c ON c.id = o.channel_id WHERE o.state = 'pending' "
            f"AND c.paused_reason IS NULL AND c.platform IN ({marks(names)})",
            names,
        )
        return float(value) if value is not None else None

    return next_due


class _Counting:
    """The outbox, counting claims."""

    def __init__(self, real: Any, next_due: NextDue | None) -> None:
        self._real = real
        self.claims = 0
        if next_due is not None:
            self.next_due = next_due

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    async def claim_due(self, *args: Any, **kwargs: Any) -> Any:
        self.claims += 1
        return await self._real.claim_due(*args, **kwargs)


async def _measure(tmp: Path, variant: str) -> tuple[float, int, int]:
    """(CPU seconds, claims, sendMessage calls) over WINDOW while the bot waits."""
    async with FakeTelegramAPI() as api, LocalServer() as server:
        api.add_chat(CHAT, "supergroup")
        items = [(f"g{i}", f"Story {i}", f"Story {i} happened today.") for i in range(3)]
        server.route("/feed.xml", rss(items if variant != "idle" else []))
        config = tmp / f"{variant}.toml"
        config.write_text(
            f'[[feeds]]\nurl = "{server.url("/feed.xml")}"\nbackfill = 3\n'
            f'[[channels]]\nto = "telegram:{CHAT}"\npolls = "never"\n'
        )
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            NEWSBRIEF_DB=str(tmp / f"{variant}.db"),
            NEWSBRIEF_CONFIG=str(config),
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url,
        )
        api.fail(CHAT, Failure(500, "Internal Server Error"), times=1)
        async with running_bot(settings, server, SystemClock()) as bot:  # type: ignore[arg-type]
            store = bot.runtime.store
            assert isinstance(store, SqliteStore)
            older = _next_due_before(store) if variant == "before" else None
            counting = _Counting(store.outbox, older)
            store.outbox = counting  # type: ignore[assignment]
            await bot.runtime.ingest()
            delivery = asyncio.create_task(bot.runtime.dispatcher.run())
            if variant != "idle":
                await api.wait_for(lambda c: c.method == "sendMessage")
            sends, claims = len(api.calls_to("sendMessage")), counting.claims
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.sleep(WINDOW)  # the thing measured: a bot left alone
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            sends = len(api.calls_to("sendMessage")) - sends
            claims = counting.claims - claims
            delivery.cancel()
            await asyncio.gather(delivery, return_exceptions=True)
    return cpu / wall, claims, sends


async def _run(tmp: Path) -> list[tuple[str, str]]:
    rows = [("window", f"{WINDOW:g} s of wall time, first post waiting out a 15 s backoff")]
    for variant, label in [
        ("idle", "idle bot, nothing queued"),
        ("now", "newsbrief: sleeps until a head row is due"),
        ("before", "39769dd: sleeps until any pending row is due"),
    ]:
        share, claims, sends = await _measure(tmp, variant)
        rows.append((label, f"{100 * share:6.2f}% CPU, {claims} claims, {sends} sends"))
    return rows


def main() -> int:
    """Print the retry-wait table."""
    return run_table("retry", _run)

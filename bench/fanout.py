"""Fan-out: one article to 300 Telegram channels through the fake Bot API enforcing 30
messages/s overall and 20/min per chat, timed against the floor the limits allow."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench import run_table
from bot.app.settings import Settings
from bot.clock import SystemClock
from tests.fakes.http_server import LocalServer
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.harness import rss, running_bot

CHANNELS = 300
PER_SECOND = 30


async def _run(tmp: Path) -> list[tuple[str, str]]:
    async with FakeTelegramAPI() as api, LocalServer() as server:
        chats = [-1_000_000 - i for i in range(CHANNELS)]
        for chat in chats:
            api.add_chat(chat, "channel")
        server.route("/feed.xml", rss([("old", "Old", "Old news.")]))
        lines = [f'[[feeds]]\nurl = "{server.url("/feed.xml")}"\n']
        lines += [f'[[channels]]\nto = "telegram:{c}"\npolls = "never"\n' for c in chats]
        (tmp / "newsbrief.toml").write_text("\n".join(lines))
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            NEWSBRIEF_DB=str(tmp / "fanout.db"),
            NEWSBRIEF_CONFIG=str(tmp / "newsbrief.toml"),
            TELEGRAM_BOT_TOKEN=api.token,
            TELEGRAM_API_BASE_URL=api.base_url,
        )
        async with running_bot(settings, server, SystemClock()) as bot:  # type: ignore[arg-type]
            await bot.runtime.ingestor.run(only_due=False)
            server.route(
                "/feed.xml", rss([("old", "Old", "Old news."), ("new", "Big news", "It happened.")])
            )
            await bot.runtime.ingestor.run(only_due=False)
            api.enforce_limits(PER_SECOND, 20)
            start = time.perf_counter()
            while (await bot.runtime.store.outbox.counts()).waiting:
                await bot.runtime.dispatcher.drain()
                if (await bot.runtime.store.outbox.counts()).waiting:
                    await asyncio.sleep(0.05)  # rows held by a 429 wait for their time
            elapsed = time.perf_counter() - start
            stats = await bot.runtime.store.outbox.counts()
        delivered = len({c.chat_id for c in api.calls_to("sendMessage")} & set(chats))
    floor = CHANNELS / PER_SECOND
    return [
        ("channels", str(CHANNELS)),
        ("floor (300 / 30 msg/s)", f"{floor:.2f} s"),
        ("newsbrief fan-out time", f"{elapsed:.2f} s"),
        ("over the floor", f"{100 * (elapsed / floor - 1):+.1f}%"),
        ("429s received", str(api.floods)),
        ("channels delivered", f"{delivered} (sent rows {stats.sent}, dead {stats.dead})"),
        ("messages lost", str(CHANNELS - delivered)),
    ]


def main() -> int:
    """Print the fan-out table."""
    return run_table("fanout", _run)

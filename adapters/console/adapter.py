"""Console channel (posts to stdout) and console chat (stdin lines as a local admin)."""

from __future__ import annotations

import asyncio
import itertools
import threading
from typing import TextIO

from adapters.console.render import render
from bot import i18n
from bot.ports import Core, RateLimits
from bot.types import ChatRef, Command, Message, Sent

CONSOLE = ChatRef("console", "")
SEPARATOR = "─" * 60


class ConsolePlatform:
    """Implements the Platform port on a text stream (stdout)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """Platform name."""
        return "console"

    @property
    def limits(self) -> RateLimits:
        """No limits on a terminal."""
        return RateLimits(concurrency=1)

    async def send(self, chat: ChatRef, message: Message, nonce: str) -> Sent:
        """Print the message; the write runs in a thread so a slow reader never blocks."""
        await asyncio.to_thread(self.write, render(message))
        # the row's nonce keeps ids unique across runs (a counter would restart at 1)
        return Sent(message_id=f"console-{nonce or next(self._ids)}")

    async def close_poll(self, chat: ChatRef, message_id: str) -> tuple[int, ...] | None:
        """Console polls have no votes."""
        return None

    def write(self, text: str) -> None:
        """Write one block, whole, then flush (scripts read posts line by line)."""
        with self._lock:
            self._out.write(f"{text}\n{SEPARATOR}\n")
            self._out.flush()


def parse_command(line: str) -> Command | None:
    """``/summary venezuela`` → Command from the local admin; None for a blank line."""
    text = line.strip()
    if not text:
        return None
    if not text.startswith("/"):
        return Command("summary", text, CONSOLE, "console", True)
    name, _, args = text[1:].partition(" ")
    return Command(name.split("@", 1)[0].lower(), args.strip(), CONSOLE, "console", True)


def _start_reader(stream: TextIO, queue: asyncio.Queue[str | None]) -> None:
    loop = asyncio.get_running_loop()

    def pump() -> None:
        for line in stream:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    # a daemon thread: a blocked read of a terminal must never hold up shutdown
    threading.Thread(target=pump, name="console-input", daemon=True).start()


async def serve_console(core: Core, stream: TextIO, platform: ConsolePlatform) -> None:
    """Answer each input line as a chat command until EOF."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    _start_reader(stream, queue)
    while (line := await queue.get()) is not None:
        command = parse_command(line)
        if command is not None:
            reply = await core.handle(command)
            await asyncio.to_thread(platform.write, render(reply))
            if reply.post is not None:  # /preview: the post as the console gets it
                with i18n.using(reply.post_locale):
                    shown = render(reply.post)
                await asyncio.to_thread(platform.write, shown)

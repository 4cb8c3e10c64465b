"""newsbrief's slash commands, and remembering which command set Discord already has.

Each command only names itself and passes its one option on; what a command means is the
core's business (``Core.handle``). Sync is explicit: Discord rate-limits command
registration hard, so the adapter syncs only when the hash of the command payloads (and the
application they belong to) differs from the one a :class:`SyncState` remembers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import discord
from discord import app_commands

Runner = Callable[["discord.Interaction[Any]", str, str], Awaitable[None]]
"""What a command does: ``run(interaction, command name, argument text)``."""


class SyncState(Protocol):
    """Remembers the hash of the command set last synced to Discord.

    Implementations raise ``OSError`` (or their store's error) when they cannot read or write.
    """

    async def load(self) -> str | None:
        """The last synced hash, or None if nothing was synced yet."""
        ...

    async def save(self, value: str) -> None:
        """Remember ``value`` as the last synced hash."""
        ...


class MemorySyncState:
    """Remembers for the life of the process: one sync per run, none per reconnect."""

    def __init__(self, value: str | None = None) -> None:
        self.value = value

    async def load(self) -> str | None:
        return self.value

    async def save(self, value: str) -> None:
        self.value = value


class FileSyncState:
    """Remembers in a small text file, so a restart with the same commands does not sync."""

    def __init__(self, path: Path) -> None:
        self.path = path

    async def load(self) -> str | None:
        return await asyncio.to_thread(self._read)

    async def save(self, value: str) -> None:
        await asyncio.to_thread(self._write, value)

    def _read(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def _write(self, value: str) -> None:
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_text(value + "\n", encoding="utf-8")
        temporary.replace(self.path)


def command_hash(tree: app_commands.CommandTree[Any], application_id: int | None) -> str:
    """A stable hash of the payloads ``tree.sync()`` would send, for one application."""
    payloads = sorted((c.to_dict(tree) for c in tree.get_commands()), key=lambda p: p["name"])
    text = json.dumps({"application": application_id, "commands": payloads}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def add_commands(tree: app_commands.CommandTree[Any], run: Runner) -> None:
    """Register newsbrief's slash commands on ``tree``; each one hands over to ``run``."""
    for command in _commands(run):
        tree.add_command(command)


def _commands(run: Runner) -> list[app_commands.Command[Any, ..., None]]:
    @app_commands.command(description="Summarize the latest news on a topic")
    @app_commands.describe(topic="What to summarize, e.g. venezuela")
    async def summary(
        interaction: discord.Interaction[Any], topic: app_commands.Range[str, 1, 200]
    ) -> None:
        await run(interaction, "summary", topic)

    @app_commands.command(description="The latest articles posted to this channel")
    async def latest(interaction: discord.Interaction[Any]) -> None:
        await run(interaction, "latest", "")

    @app_commands.command(description="Follow a news feed in this channel")
    @app_commands.describe(url="The feed's address (RSS, Atom or JSON Feed)")
    @app_commands.default_permissions(manage_channels=True)
    async def subscribe(
        interaction: discord.Interaction[Any], url: app_commands.Range[str, 1, 2048]
    ) -> None:
        await run(interaction, "subscribe", url)

    @app_commands.command(description="Stop following a feed in this channel")
    @app_commands.describe(feed="The feed's name or address, as /feeds lists it")
    @app_commands.default_permissions(manage_channels=True)
    async def unsubscribe(
        interaction: discord.Interaction[Any], feed: app_commands.Range[str, 1, 2048]
    ) -> None:
        await run(interaction, "unsubscribe", feed)

    return [summary, latest, subscribe, unsubscribe, *_plain_commands(run)]


_PLAIN = {
    "feeds": "The feeds this channel follows",
    "poll": "The open reader poll in this channel",
    "results": "Results of the latest reader poll",
    "status": "What newsbrief is doing: feeds, queue, last errors",
    "help": "What newsbrief can do",
}


def _plain_commands(run: Runner) -> list[app_commands.Command[Any, ..., None]]:
    """The commands without options, all alike."""

    def make(name: str, description: str) -> app_commands.Command[Any, ..., None]:
        async def callback(interaction: discord.Interaction[Any]) -> None:
            await run(interaction, name, "")

        return app_commands.Command(name=name, description=description, callback=callback)

    return [make(name, description) for name, description in _PLAIN.items()]

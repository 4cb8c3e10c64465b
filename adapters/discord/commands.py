"""newsbrief's slash commands, and remembering which command set Discord already has.

The commands are generated from the core's table (:mod:`bot.chat.commands`), so they take
the same arguments as on every other platform. Each command only names itself and passes
its one option on; what a command means is the core's business (``Core.handle``).

Descriptions are translated into each Discord locale newsbrief has a catalogue for
(:class:`CatalogueTranslator`, discord.py's own mechanism); names stay English.

Sync is explicit: Discord rate-limits command registration hard, so the adapter syncs only
when the hash of the command payloads (and the application they belong to) differs from
the one a :class:`SyncState` remembers.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import discord
from discord import app_commands

from bot import i18n
from bot.chat.commands import COMMANDS, CommandArg, CommandSpec

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


class CatalogueTranslator(app_commands.Translator):
    """Describes the commands and their options in each Discord locale newsbrief has a
    catalogue for (``de``; ``es-ES`` and ``es-419``; ``fr``), through the core's gettext
    catalogues. Names are never translated: they are the same on every platform."""

    _DESCRIPTIONS = frozenset(
        {
            app_commands.TranslationContextLocation.command_description,
            app_commands.TranslationContextLocation.parameter_description,
        }
    )

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """``string`` in ``locale``'s catalogue; None (no localization) for a name, a
        locale newsbrief does not speak, or a text its catalogue leaves in English."""
        ours = i18n.negotiate(locale.value)
        if context.location not in self._DESCRIPTIONS or ours == i18n.SOURCE:
            return None
        with i18n.using(ours):
            translated = i18n.gettext(string.message)
        return translated if translated != string.message else None


async def use_catalogues(tree: app_commands.CommandTree[Any]) -> None:
    """Let ``tree`` sync its commands with ``description_localizations`` from the
    catalogues (once per tree)."""
    if not isinstance(tree.translator, CatalogueTranslator):
        await tree.set_translator(CatalogueTranslator())


async def command_payloads(tree: app_commands.CommandTree[Any]) -> list[dict[str, Any]]:
    """The payloads ``tree.sync()`` sends, translations included, sorted by name."""
    translator = tree.translator
    payloads = [
        await c.get_translated_payload(tree, translator) if translator else c.to_dict(tree)
        for c in tree.get_commands()
    ]
    return sorted(payloads, key=lambda p: str(p["name"]))


async def command_hash(tree: app_commands.CommandTree[Any], application_id: int | None) -> str:
    """A stable hash of the payloads ``tree.sync()`` would send, for one application: a
    changed description or translation changes it."""
    payloads = await command_payloads(tree)
    text = json.dumps({"application": application_id, "commands": payloads}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def add_commands(tree: app_commands.CommandTree[Any], run: Runner) -> None:
    """Register one slash command per entry of the core's command table on ``tree``; each
    hands over to ``run``."""
    for spec in COMMANDS:
        tree.add_command(slash_command(spec, run))


def slash_command(spec: CommandSpec, run: Runner) -> app_commands.Command[Any, ..., None]:
    """The slash command for ``spec``: its argument, if any, becomes one string option of
    the same name, and an admin-only command is hidden from members without Manage
    Channels (the core checks again when it runs)."""
    callback = _callback(spec, run)
    if spec.arg is not None:
        app_commands.describe(**{spec.arg.name: spec.arg.description})(callback)
    if spec.admin_only:
        app_commands.default_permissions(manage_channels=True)(callback)
    return app_commands.Command(name=spec.name, description=spec.summary, callback=callback)


def _callback(spec: CommandSpec, run: Runner) -> Callable[..., Coroutine[Any, Any, None]]:
    async def callback(interaction: discord.Interaction[Any], **options: str | None) -> None:
        value = next(iter(options.values()), None)  # the one option; None when left out
        await run(interaction, spec.name, value or "")

    # discord.py builds a command's options from its callback's signature; the option's
    # name and length come from the table, so the signature is written out here.
    callback.__signature__ = _signature(spec.arg)  # type: ignore[attr-defined]
    return callback


def _signature(arg: CommandArg | None) -> inspect.Signature:
    interaction = inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if arg is None:
        return inspect.Signature([interaction])
    option = inspect.Parameter(
        arg.name,
        inspect.Parameter.KEYWORD_ONLY,
        annotation=app_commands.Range[str, 1, arg.max_chars],
        default=inspect.Parameter.empty if arg.required else None,
    )
    return inspect.Signature([interaction, option])

"""The registry of chat platforms: how to build each adapter from the settings.

Each entry imports its adapter package only when it is built, so the core and the one-shot
CLI commands never load a platform library they do not use. Adding a platform is adding an
entry here; nothing else in the app names a platform.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.app.settings import Settings
from bot.errors import ConfigError
from bot.ports import ChatAdapter, Clock, Core
from bot.types import CONSOLE, ChatRef, Message, record

if TYPE_CHECKING:
    from adapters.telegram.adapter import Webhook

Builder = Callable[[Settings, Core, Clock], ChatAdapter]
Previewer = Callable[[Message], list[dict[str, Any]]]
Setup = Callable[[Settings], Callable[[], None]]


def _nothing_to_undo() -> None:
    return None


def _no_setup(settings: Settings) -> Callable[[], None]:
    return _nothing_to_undo


def _any_chat(chat_id: str) -> str | None:
    return None


def _no_threads(thread: str) -> str | None:
    return "this platform has no topics to post into"


@record
class PlatformEntry:
    """How to build one platform's adapter.

    ``token`` reads the platform's token from the settings (no token, no adapter);
    ``secrets`` every setting of the platform that must never reach a log; ``chat_hint``
    how a config ``to`` names one of its chats, ``check_chat`` what is wrong with a
    chat id and ``check_thread`` with a thread (a topic) named after it (None when nothing
    is); ``setup`` applies what the platform library needs process-wide, once, and returns
    what undoes it.
    """

    token: Callable[[Settings], str]
    secrets: Callable[[Settings], list[str]]
    build: Builder
    preview: Previewer  # a message as the adapter sends it (each request's JSON)
    chat_hint: str
    check_chat: Callable[[str], str | None] = _any_chat
    check_thread: Callable[[str], str | None] = _no_threads
    setup: Setup = _no_setup


def _telegram_setup(settings: Settings) -> Callable[[], None]:
    from adapters.telegram.adapter import quiet_expected_faults

    # PTB logs Telegram's expected faults (a 5xx at shutdown, a revoked token) with a
    # traceback on its own loggers; one WARNING line each is what an operator needs
    unquiet = quiet_expected_faults()
    # PTB 22 warns on every RetryAfter it builds unless durations are timedeltas (its
    # 23 default, read from the environment); the adapter reads both forms
    if "PTB_TIMEDELTA" in os.environ:
        return unquiet
    os.environ["PTB_TIMEDELTA"] = "true"

    def undo() -> None:
        os.environ.pop("PTB_TIMEDELTA", None)
        unquiet()

    return undo


def _telegram(settings: Settings, core: Core, clock: Clock) -> ChatAdapter:
    from adapters.telegram import create_adapter

    return create_adapter(
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        core=core,
        clock=clock,
        webhook=_telegram_webhook(settings),
    )


def _telegram_preview(message: Message) -> list[dict[str, Any]]:
    from adapters.telegram.render import preview

    return preview(message)


def _discord_preview(message: Message) -> list[dict[str, Any]]:
    from adapters.discord.adapter import preview

    return preview(message)


def _telegram_webhook(settings: Settings) -> Webhook | None:
    if not settings.telegram_webhook_url:
        return None
    from adapters.telegram.adapter import Webhook

    host, _, port = settings.telegram_webhook_listen.rpartition(":")
    if not host or not (port.isascii() and port.isdigit()):
        raise ConfigError("TELEGRAM_WEBHOOK_LISTEN must be host:port, e.g. 127.0.0.1:8443")
    secret = settings.telegram_webhook_secret or None
    return Webhook(settings.telegram_webhook_url, host, int(port), secret)


def _discord_setup(settings: Settings) -> Callable[[], None]:
    from adapters.discord import point_discord_at, quiet_expected_faults

    # discord.py has no per-client REST or gateway address; pointing it elsewhere (a
    # Discord-compatible server, a test fake) is process-wide, so it is done here, once
    restore = point_discord_at(
        settings.discord_api_base_url or None, settings.discord_gateway_url or None
    )
    unquiet = quiet_expected_faults()  # a reconnect is one warning line, not a traceback

    def undo() -> None:
        unquiet()
        restore()

    return undo


def _discord(settings: Settings, core: Core, clock: Clock) -> ChatAdapter:
    from adapters.discord import create_adapter

    return create_adapter(
        token=settings.discord_bot_token,
        core=core,
        clock=clock,
        sync_state_path=discord_sync_state(settings),
    )


def discord_sync_state(settings: Settings) -> Path:
    """Where the Discord adapter remembers the last command set it synced: beside the SQLite
    file, or in the working folder when the store is PostgreSQL."""
    if settings.uses_postgres:
        return Path("newsbrief.discord-commands")
    path = settings.db_path
    return path.with_name(path.name + ".discord-commands")


def _discord_chat(chat_id: str) -> str | None:
    return None if chat_id.isascii() and chat_id.isdigit() else "a Discord channel id is a number"


def _discord_thread(thread: str) -> str | None:
    return "a Discord thread is a channel of its own: use discord:<thread id>"


def _telegram_topic(thread: str) -> str | None:
    if thread.isascii() and thread.isdigit():
        return None
    return "a Telegram forum topic is a number (the topic's message_thread_id)"


PLATFORMS: dict[str, PlatformEntry] = {
    "telegram": PlatformEntry(
        token=lambda s: s.telegram_bot_token,
        secrets=lambda s: [s.telegram_bot_token, s.telegram_webhook_secret],
        build=_telegram,
        preview=_telegram_preview,
        chat_hint="telegram:<@name|chat id>[/<topic>]",
        check_thread=_telegram_topic,
        setup=_telegram_setup,
    ),
    "discord": PlatformEntry(
        token=lambda s: s.discord_bot_token,
        secrets=lambda s: [s.discord_bot_token],
        build=_discord,
        preview=_discord_preview,
        chat_hint="discord:<channel id>",
        check_chat=_discord_chat,
        check_thread=_discord_thread,
        setup=_discord_setup,
    ),
}


def configured(settings: Settings) -> list[str]:
    """The platforms that have a token, in registry order."""
    return [name for name, entry in PLATFORMS.items() if entry.token(settings)]


def platform_secrets(settings: Settings) -> list[str]:
    """Every platform's secrets (unset ones are empty)."""
    return [secret for entry in PLATFORMS.values() for secret in entry.secrets(settings)]


def check_chat(ref: ChatRef) -> str | None:
    """What is wrong with a configured chat: an unknown platform, a malformed id or a
    thread the platform does not have."""
    if ref == CONSOLE:
        return None
    entry = PLATFORMS.get(ref.platform)
    if entry is None:
        hints = ", ".join(e.chat_hint for e in PLATFORMS.values())
        return f"expected {hints} or console"
    problem = entry.check_chat(ref.chat_id)
    if problem is None and ref.thread:
        return entry.check_thread(ref.thread)
    return problem


def render_preview(ref: ChatRef, message: Message) -> str:
    """A message as the chat's platform is sent it: its requests as one JSON list, or the
    text the console prints."""
    entry = PLATFORMS.get(ref.platform)
    if entry is None:
        from adapters.console.render import render

        return render(message)
    return json.dumps(entry.preview(message), ensure_ascii=False, indent=2)

"""The composition root: reads settings once, builds everything, runs it in one loop."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app.config import LoadedConfig, load_config
from bot.app.config_sync import sync_config
from bot.app.settings import Settings
from bot.chat.service import Service
from bot.clock import SystemClock, wait_until
from bot.delivery.dispatcher import Dispatcher
from bot.errors import ConfigError
from bot.feeds.fetch import HttpFetcher
from bot.ingest.pipeline import Ingestor
from bot.ports import ChatAdapter, Clock, Core, Fetcher, Platform
from bot.redact import SecretFilter
from bot.store.sqlite import SqliteStore
from bot.summaries import Summaries
from summarizer.registry import SummarizerOptions, make_summarizer

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 8.0

# platform name → "module:factory"; imported only when that platform has a token, so the
# core never loads a platform library it does not use
ADAPTER_FACTORIES = {
    "telegram": "adapters.telegram:create_adapter",
    "discord": "adapters.discord:create_adapter",
}


@dataclass
class App:
    """Everything the bot is made of, wired once."""

    settings: Settings
    config: LoadedConfig
    clock: Clock
    store: SqliteStore
    fetcher: Fetcher
    summaries: Summaries
    service: Service
    ingestor: Ingestor
    platforms: dict[str, Platform] = field(default_factory=dict)
    dispatcher: Dispatcher | None = None
    feeds_changed: asyncio.Event = field(default_factory=asyncio.Event)
    secret_filter: SecretFilter | None = None

    async def close(self) -> None:
        """Release the database and the HTTP client, then stop filtering secrets from logs."""
        try:
            await self.fetcher.aclose()
            await self.summaries.summarizer.aclose()
            await self.store.close()
        finally:
            if self.secret_filter is not None:
                self.secret_filter.uninstall()


def _summarizer_options(settings: Settings) -> SummarizerOptions:
    return SummarizerOptions(
        max_chars=settings.summary_chars,
        api_key=settings.openai_api_key or None,
        base_url=settings.openai_base_url or None,
        model=settings.llm_model,
        daily_token_budget=settings.llm_daily_tokens,
    )


async def build_app(
    settings: Settings, *, clock: Clock | None = None, fetcher: Fetcher | None = None
) -> App:
    """Open the store, sync the config, and build the core (no platform started yet).

    Raises:
        ConfigError: the config file is invalid.
        StoreError: the database cannot be opened.
    """
    config = load_config(settings.config_path())
    clock = clock or SystemClock()
    store = await SqliteStore.open(settings.db)
    await sync_config(store, config, clock.now())
    fetcher = fetcher or HttpFetcher(allow_private_hosts=settings.allow_private_hosts)
    kind = "llm" if settings.llm_enabled else "extractive"
    summaries = Summaries(
        store, make_summarizer(kind, options=_summarizer_options(settings)), clock
    )
    feeds_changed = asyncio.Event()
    service = Service(store, summaries, fetcher, clock, on_feeds_changed=feeds_changed.set)
    ingestor = Ingestor(store, fetcher, clock)
    secret_filter = SecretFilter(_secrets(settings))
    secret_filter.install()  # on the root logger's handlers: every logger's records
    return App(
        settings,
        config,
        clock,
        store,
        fetcher,
        summaries,
        service,
        ingestor,
        feeds_changed=feeds_changed,
        secret_filter=secret_filter,
    )


def _secrets(settings: Settings) -> list[str]:
    """Every configured secret, for the one log filter (unset ones are empty and ignored)."""
    return [
        settings.telegram_bot_token,
        settings.discord_bot_token,
        settings.openai_api_key,
        settings.telegram_webhook_secret,
    ]


def attach_platforms(app: App, platforms: dict[str, Platform]) -> Dispatcher:
    """Create the dispatcher over the given platforms (polls are closed on them too)."""
    app.platforms = platforms
    polls = app.service.polls
    polls.attach(platforms)
    app.dispatcher = Dispatcher(
        app.store, platforms, app.clock, app.service.compose, on_sent=polls.after_sent
    )
    return app.dispatcher


def chat_adapters(settings: Settings, core: Core) -> list[ChatAdapter]:
    """Build the adapter of every platform that has a token."""
    adapters: list[ChatAdapter] = []
    if settings.telegram_bot_token:
        factory = _factory("telegram")
        adapters.append(
            factory(
                token=settings.telegram_bot_token,
                base_url=settings.telegram_api_base_url,
                core=core,
                **telegram_webhook(settings),
            )
        )
    if settings.discord_bot_token:
        factory = _factory("discord")
        adapters.append(
            factory(
                token=settings.discord_bot_token,
                api_base_url=settings.discord_api_base_url or None,
                gateway_url=settings.discord_gateway_url or None,
                core=core,
                sync_state_path=discord_sync_state(settings),
            )
        )
    return adapters


def telegram_webhook(settings: Settings) -> dict[str, Any]:
    """The Telegram factory's webhook argument, when TELEGRAM_WEBHOOK_URL is set."""
    if not settings.telegram_webhook_url:
        return {}
    from adapters.telegram.adapter import Webhook

    host, _, port = settings.telegram_webhook_listen.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError("TELEGRAM_WEBHOOK_LISTEN must be host:port, e.g. 127.0.0.1:8443")
    secret = settings.telegram_webhook_secret or None
    return {"webhook": Webhook(settings.telegram_webhook_url, host, int(port), secret)}


def discord_sync_state(settings: Settings) -> Path:
    """Where the Discord adapter remembers the last command set it synced."""
    return settings.db.with_name(settings.db.name + ".discord-commands")


def _factory(platform: str) -> Callable[..., Any]:
    module_name, _, attr = ADAPTER_FACTORIES[platform].partition(":")
    factory: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    return factory


async def scheduler(app: App, dispatcher: Dispatcher) -> None:
    """Ingest each feed when it is due; wake the dispatcher when posts were queued."""
    while True:
        counts = await app.ingestor.run(only_due=True)
        if counts.queued_posts:
            dispatcher.wake()
        next_due = await app.store.next_feed_due()
        # at least a second between passes, so a feed due "now" cannot spin the loop
        when = None if next_due is None else max(next_due, app.clock.now() + 1.0)
        await wait_until(app.clock, when, app.feeds_changed)


async def poll_closer(app: App, dispatcher: Dispatcher) -> None:
    """Close reader polls at their close time (the schedule lives in the database, so a
    restart catches up) and wake the dispatcher for polls and results to post."""
    polls = app.service.polls
    while True:
        if await polls.close_due():
            dispatcher.wake()
        await wait_until(app.clock, await polls.next_close(), polls.changed)
        dispatcher.wake()


def install_signal_handlers(stop: asyncio.Event) -> Callable[[], None]:
    """SIGTERM and SIGINT set ``stop``; returns a function that removes the handlers."""
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)

    def remove() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return remove


def stdin_is_terminal() -> bool:
    """True when a person can type commands."""
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False

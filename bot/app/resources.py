"""What every command runs on, the bottom layer of the composition root: the config, the
secret filter, the store (brought in line with the config) and the fetcher.

``Runtime.build`` (``run``, the end-to-end tests) builds the rest of newsbrief on top of
these; a one-shot command (:mod:`bot.app.tools`) builds only the part it uses, so
``newsbrief ingest`` never imports the chat service, the dispatcher or the summarizer.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from urllib.parse import unquote, urlsplit

from bot.app.config import LoadedConfig, load_config
from bot.app.config_sync import sync_config
from bot.app.platforms import platform_secrets
from bot.app.settings import Settings
from bot.feeds.fetch import HttpFetcher
from bot.metrics import Metrics
from bot.ports import Clock, Fetcher
from bot.redact import SecretFilter
from bot.store import open_store
from bot.store.ports import Store
from bot.types import record
from summarizer.base import Summarizer

log = logging.getLogger(__name__)


@record
class Resources:
    """The config, and what holds connections or files: the store and the fetcher."""

    config: LoadedConfig
    store: Store
    fetcher: Fetcher


async def open_resources(
    stack: AsyncExitStack, settings: Settings, clock: Clock, fetcher: Fetcher | None
) -> Resources:
    """Read the config, filter secrets from the logs, open the store (brought in line with
    the config) and the fetcher (``fetcher`` if given); register how to undo each on
    ``stack``.

    Raises:
        ConfigError: the config file is invalid.
        StoreError: the database cannot be opened.
    """
    config = load_config(settings.config_path())
    secret_filter = SecretFilter(secrets(settings))
    secret_filter.install()
    stack.callback(secret_filter.uninstall)
    store = await open_store(settings.db)
    stack.push_async_callback(logged(store.close, "closing the store"))
    await sync_config(store, config, clock.now())
    fetcher = fetcher or HttpFetcher(
        allow_private_hosts=settings.allow_private_hosts, now=clock.now
    )
    stack.push_async_callback(logged(fetcher.aclose, "closing the HTTP client"))
    return Resources(config, store, fetcher)


def open_summarizer(
    stack: AsyncExitStack, settings: Settings, clock: Clock, metrics: Metrics
) -> Summarizer:
    """The summarizer the settings ask for (the LLM one when it is enabled), closed with
    ``stack``. The summarizers are imported here, when one is made: ``ingest`` needs none."""
    from summarizer.registry import SummarizerOptions, make_summarizer

    options = SummarizerOptions(
        max_chars=settings.summary_chars,
        api_key=settings.openai_api_key or None,
        base_url=settings.openai_base_url or None,
        model=settings.llm_model,
        daily_token_budget=settings.llm_daily_tokens,
        clock=clock,
        metrics=metrics,
    )
    summarizer = make_summarizer("llm" if settings.llm_enabled else "extractive", options=options)
    stack.push_async_callback(logged(summarizer.aclose, "closing the summarizer"))
    return summarizer


def secrets(settings: Settings) -> list[str]:
    """Every secret the settings hold, for the log filter: the LLM key, the platforms'
    tokens and the password of a ``postgresql://`` database URL."""
    return [settings.openai_api_key, *db_passwords(settings), *platform_secrets(settings)]


def db_passwords(settings: Settings) -> list[str]:
    """The password of a ``postgresql://`` NEWSBRIEF_DB, as written and as meant: in its
    ``user:password@`` part or a ``password=`` query parameter."""
    if not settings.uses_postgres:
        return []
    url = urlsplit(settings.db)
    pairs = (part.partition("=") for part in url.query.split("&"))
    given = [url.password or "", *(value for key, _, value in pairs if key == "password")]
    return [form for p in given if p for form in sorted({p, unquote(p)})]


def logged(close: Callable[[], Awaitable[None]], what: str) -> Callable[[], Awaitable[None]]:
    """``close``, with any error it raises logged instead of raised (shutdown goes on)."""

    async def run() -> None:
        try:
            await close()
        except Exception:
            log.exception("error while %s", what)

    return run

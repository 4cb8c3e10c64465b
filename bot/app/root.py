"""The composition root: the one place that knows every part of newsbrief.

``Runtime.build`` reads the config once and builds everything in one pass: the secret
filter, the store, the fetcher, the summarizer, polls, the chat service, ingest and its
scheduler, the dispatcher, the poll closer and (when serving) the chat adapters from the
platform registry, under one clock. ``newsbrief run``, ``run --once``, every one-shot CLI
action, ``discord sync`` and the end-to-end tests all use it.

Start order: store, fetcher, summarizer, adapters (connected and ready), then the loops.
Shutdown is the reverse: the scheduler and poll closer stop, the dispatcher finishes the
posts in flight, the adapters disconnect (last started first), the summarizer, fetcher and
store close. Every error met on the way down is logged.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TextIO

from adapters.console import ConsolePlatform, serve_console
from bot.app.config import LoadedConfig, load_config
from bot.app.config_sync import sync_config
from bot.app.platforms import PLATFORMS, configured, platform_secrets
from bot.app.settings import Settings
from bot.app.supervisor import Supervisor
from bot.chat.service import Service
from bot.clock import SystemClock
from bot.delivery.compose import Composer
from bot.delivery.dispatcher import Dispatcher, stop_delivering
from bot.feeds.fetch import HttpFetcher
from bot.health import Health
from bot.ingest.pipeline import Ingestor, ProgressCallback
from bot.ingest.scheduler import IngestScheduler
from bot.polls.closer import PollCloser
from bot.polls.lifecycle import Polls, delivered
from bot.ports import ChatAdapter, Clock, Fetcher, Platform
from bot.redact import SecretFilter
from bot.store.ports import Store
from bot.store.sqlite import SqliteStore
from bot.summaries import Summaries
from bot.types import Delivered, IngestCounts
from summarizer.base import Summarizer
from summarizer.registry import SummarizerOptions, make_summarizer

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 8.0  # seconds the posts in flight get to finish at shutdown


@dataclass
class Runtime:
    """Everything newsbrief is made of, built once by :meth:`build`."""

    settings: Settings
    config: LoadedConfig
    clock: Clock
    store: Store
    fetcher: Fetcher
    summarizer: Summarizer
    summaries: Summaries
    polls: Polls
    service: Service
    ingestor: Ingestor
    scheduler: IngestScheduler
    dispatcher: Dispatcher
    closer: PollCloser
    supervisor: Supervisor
    health: Health
    console: ConsolePlatform

    @classmethod
    @asynccontextmanager
    async def build(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        fetcher: Fetcher | None = None,
        serving: bool = True,
        stdout: TextIO | None = None,
    ) -> AsyncIterator[Runtime]:
        """Build newsbrief, and take it down again on exit.

        ``serving`` is for a process that runs the bot (``run``, ``run --once``, tests): it
        connects every chat adapter that has a token and takes over the outbox rows a
        crash left in flight. One-shot commands build with ``serving=False``: no adapter,
        and no outbox recovery (a running bot may have rows in flight).

        Raises:
            ConfigError: the config file is invalid, or a platform refused its token.
            StoreError: the database cannot be opened.
        """
        clock = clock or SystemClock()
        async with AsyncExitStack() as stack:
            runtime = await _assemble(stack, settings, clock, fetcher, stdout, serving)
            if serving:
                await runtime.dispatcher.recover()
                stack.push_async_callback(runtime.supervisor.stop_all)
                await runtime.supervisor.start_all()
            yield runtime

    @asynccontextmanager
    async def chat_adapter(self, platform: str) -> AsyncIterator[ChatAdapter]:
        """A new adapter for ``platform``, unstarted, with what its library needs set up
        for the block (``discord sync`` uses one); stopped and undone afterwards.

        Raises:
            KeyError: no such platform in the registry.
        """
        entry = PLATFORMS[platform]
        undo = entry.setup(self.settings)
        adapter = entry.build(self.settings, self.service, self.clock)
        try:
            yield adapter
        finally:
            try:
                await adapter.stop()
            finally:
                undo()

    async def ingest(self, progress: ProgressCallback | None = None) -> IngestCounts:
        """One ingest pass over every active feed."""
        return await self.ingestor.run(only_due=False, progress=progress)

    async def pass_once(self) -> IngestCounts:
        """One whole pass: ingest every active feed, deliver what is due, close the polls
        that are due and deliver their results."""
        counts = await self.ingest()
        await self.dispatcher.drain()
        if await self.closer.close_due():
            await self.dispatcher.drain()
        return counts

    async def answer_console(self, stdin: TextIO) -> None:
        """Answer console commands until end of input, delivering what they queue."""
        await serve_console(self.service, stdin, self.console)
        await self.dispatcher.drain()

    async def serve(self, stop: asyncio.Event, stdin: TextIO | None = None) -> None:
        """Run until ``stop`` is set (or, with ``stdin``, until its end): the scheduler,
        dispatcher, poll closer and every adapter's supervision under one TaskGroup, then
        stop them in reverse order: the loops, the dispatcher (finishing the posts in
        flight), the adapters' supervision.

        Raises:
            ExceptionGroup: a part failed unexpectedly (the others were stopped).
        """
        async with asyncio.TaskGroup() as group:
            watch = group.create_task(self.supervisor.watch(), name="adapters")
            delivery = group.create_task(self.dispatcher.run(), name="dispatcher")
            loops = [
                group.create_task(self.scheduler.run(), name="scheduler"),
                group.create_task(self.closer.run(), name="poll-closer"),
            ]
            if stdin is not None:
                console = serve_console(self.service, stdin, self.console)
                loops.append(group.create_task(_then_set(console, stop), name="console"))
            await stop.wait()
            log.info("stopping: finishing the posts in flight")
            for task in loops:
                task.cancel()
            await stop_delivering(self.dispatcher, delivery, SHUTDOWN_GRACE)
            watch.cancel()


@dataclass(frozen=True)
class _Resources:
    """What the core runs on: the config, and what holds connections or files."""

    config: LoadedConfig
    store: Store
    fetcher: Fetcher
    summarizer: Summarizer


async def _open(
    stack: AsyncExitStack, settings: Settings, clock: Clock, fetcher: Fetcher | None
) -> _Resources:
    """Read the config, filter secrets from the logs, open the store (brought in line with
    the config), the fetcher and the summarizer; register how to close each on ``stack``."""
    config = load_config(settings.config_path())
    secret_filter = SecretFilter(_secrets(settings))
    secret_filter.install()
    stack.callback(secret_filter.uninstall)
    store = await SqliteStore.open(settings.db)
    stack.push_async_callback(_logged(store.close, "closing the store"))
    await sync_config(store, config, clock.now())
    fetcher = fetcher or HttpFetcher(
        allow_private_hosts=settings.allow_private_hosts, now=clock.now
    )
    stack.push_async_callback(_logged(fetcher.aclose, "closing the HTTP client"))
    summarizer = make_summarizer(_summarizer_kind(settings), options=_options(settings, clock))
    stack.push_async_callback(_logged(summarizer.aclose, "closing the summarizer"))
    return _Resources(config, store, fetcher, summarizer)


async def _assemble(
    stack: AsyncExitStack,
    settings: Settings,
    clock: Clock,
    fetcher: Fetcher | None,
    stdout: TextIO | None,
    serving: bool,
) -> Runtime:
    """Build every part in dependency order, registering what undoes each on ``stack``."""
    res = await _open(stack, settings, clock, fetcher)
    store, outbox_ready, health = res.store, asyncio.Event(), Health()
    summaries = Summaries(store.summaries, res.summarizer, clock)
    polls = Polls(store, clock, on_queued=outbox_ready.set)
    ingestor = Ingestor(store, res.fetcher, clock)
    scheduler = IngestScheduler(ingestor, store.feeds, clock, on_queued=outbox_ready.set)
    service = Service(
        store,
        summaries,
        polls,
        res.fetcher,
        clock,
        health=health,
        on_feeds_changed=scheduler.feeds_changed.set,
    )
    adapters = _chat_adapters(stack, settings, service, clock) if serving else []
    console = ConsolePlatform(stdout or sys.stdout)
    platforms: dict[str, Platform] = {"console": console, **{a.name: a for a in adapters}}
    composer = Composer(store.articles, summaries, polls)
    return Runtime(
        settings=settings,
        config=res.config,
        clock=clock,
        store=store,
        fetcher=res.fetcher,
        summarizer=res.summarizer,
        summaries=summaries,
        polls=polls,
        service=service,
        ingestor=ingestor,
        scheduler=scheduler,
        dispatcher=_dispatcher(store, platforms, clock, composer, polls, outbox_ready, health),
        closer=PollCloser(store, polls, platforms, clock),
        supervisor=Supervisor(adapters, health, clock, on_up=outbox_ready.set),
        health=health,
        console=console,
    )


def _dispatcher(
    store: Store,
    platforms: dict[str, Platform],
    clock: Clock,
    composer: Composer,
    polls: Polls,
    wake: asyncio.Event,
    health: Health,
) -> Dispatcher:
    """The dispatcher: posts built by the composer; what a sent post opens (its poll) is
    recorded with it, and the poll closer is told; nothing is sent to a platform whose
    connection is down (its posts wait, no attempt counted)."""

    def available(platform: str) -> bool:
        status = health.get(platform)
        return status is None or status.healthy

    def on_delivered(outcome: Delivered) -> None:
        if outcome.opens_poll is not None:
            polls.changed.set()
        if outcome.poll_id is not None:  # votes held for the platform poll now count
            polls.recorded.set()

    return Dispatcher(
        store,
        platforms,
        clock,
        composer.compose,
        record=delivered,
        on_delivered=on_delivered,
        wake=wake,
        available=available,
    )


def _chat_adapters(
    stack: AsyncExitStack, settings: Settings, service: Service, clock: Clock
) -> list[ChatAdapter]:
    """Every configured platform's adapter, built (not started) from the registry."""
    adapters = []
    for name in configured(settings):
        entry = PLATFORMS[name]
        stack.callback(entry.setup(settings))
        adapters.append(entry.build(settings, service, clock))
    return adapters


def _secrets(settings: Settings) -> list[str]:
    return [settings.openai_api_key, *platform_secrets(settings)]


def _summarizer_kind(settings: Settings) -> str:
    return "llm" if settings.llm_enabled else "extractive"


def _options(settings: Settings, clock: Clock) -> SummarizerOptions:
    return SummarizerOptions(
        max_chars=settings.summary_chars,
        api_key=settings.openai_api_key or None,
        base_url=settings.openai_base_url or None,
        model=settings.llm_model,
        daily_token_budget=settings.llm_daily_tokens,
        clock=clock,
    )


def _logged(close: Callable[[], Awaitable[None]], what: str) -> Callable[[], Awaitable[None]]:
    """``close``, with any error it raises logged instead of raised (shutdown goes on)."""

    async def run() -> None:
        try:
            await close()
        except Exception:
            log.exception("error while %s", what)

    return run


async def _then_set(work: Awaitable[None], event: asyncio.Event) -> None:
    """Await ``work``, then set ``event`` (the end of console input ends the session)."""
    try:
        await work
    finally:
        event.set()

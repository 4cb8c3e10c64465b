"""The composition root: the one place that knows every part of newsbrief.

``Runtime.build`` reads the config once and builds everything in one pass: the secret
filter, the store, the fetcher, the summarizer, polls, the chat service, ingest and its
scheduler, the dispatcher, the poll closer and (when serving) the chat adapters from the
platform registry, under one clock. ``newsbrief run``, ``run --once``, ``preview``,
``discord sync`` and the end-to-end tests use it; the other one-shot commands build only
the part they use on the same resources (:mod:`bot.app.tools`).

Start order: store, fetcher, summarizer, adapters (connected and ready), then the loops.
Shutdown is the reverse: the scheduler and poll closer stop, the dispatcher finishes the
posts in flight, the adapters disconnect (last started first), the summarizer, fetcher and
store close. Every error met on the way down is logged.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TextIO

from adapters.console import ConsolePlatform, serve_console
from bot.app.config import LoadedConfig
from bot.app.observe import HealthReport, ObserveServer, PrometheusMetrics, listen_address
from bot.app.platforms import PLATFORMS, configured
from bot.app.resources import logged, open_resources, open_summarizer
from bot.app.settings import Settings
from bot.app.supervisor import Role, Supervisor
from bot.chat.service import Service
from bot.clock import IDLE, SystemClock
from bot.delivery.compose import Composer, delivered
from bot.delivery.dispatcher import Dispatcher, stop_delivering
from bot.digests.compose import DigestComposer
from bot.digests.scheduler import DigestScheduler
from bot.errors import NewsbriefError
from bot.health import Health
from bot.ingest.pipeline import Ingestor, ProgressCallback
from bot.ingest.scheduler import IngestScheduler
from bot.metrics import Metrics, NoMetrics
from bot.polls.closer import PollCloser
from bot.polls.lifecycle import Polls
from bot.ports import ChatAdapter, Clock, Fetcher, Platform
from bot.store.ports import Store
from bot.summaries import Summaries
from bot.types import Delivered, IngestCounts
from bot.workers import Heartbeat, worker_name
from summarizer.base import Summarizer

log = logging.getLogger(__name__)

SHUTDOWN_GRACE = 8.0  # seconds the posts in flight get to finish at shutdown
HEALTH_TIMEOUT = 2.0  # seconds the store gets to answer a health check
SHARED_LOOK_EVERY = 60.0  # an idle worker of a shared store looks again (a missed wake-up)


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
    composer: Composer
    ingestor: Ingestor
    scheduler: IngestScheduler
    dispatcher: Dispatcher
    closer: PollCloser
    digests: DigestScheduler
    supervisor: Supervisor
    health: Health
    console: ConsolePlatform
    metrics: Metrics
    heartbeat: Heartbeat
    roles: frozenset[Role]
    loops: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    observe_port: int = 0  # where /healthz and /metrics answer, when they do

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
        roles: frozenset[Role] = frozenset(Role),
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
            runtime = await _assemble(stack, settings, clock, fetcher, stdout, serving, roles)
            if serving:
                recovered = await runtime.heartbeat.start()
                if recovered:
                    log.warning(
                        "%d post(s) were in flight at a stop; sending them again", recovered
                    )
                stack.push_async_callback(logged(runtime.heartbeat.stop, "leaving the workers"))
                stack.push_async_callback(runtime.supervisor.stop_all)
                await runtime.supervisor.start_all()
                await runtime._observe(stack)
                await runtime._listen()
            yield runtime

    async def _ingest(self) -> None:
        """The ingest scheduler, when this worker's roles include ingest."""
        if Role.INGEST in self.roles:
            await self.scheduler.run()
        else:
            await asyncio.Event().wait()  # idle, alive, until stopped

    async def _queue_digests(self) -> None:
        """The digest scheduler, with ingest (which holds the articles digests gather)."""
        if Role.INGEST in self.roles:
            await self.digests.run()
        else:
            await asyncio.Event().wait()

    async def _deliver(self) -> None:
        """The dispatcher, when this worker's roles include delivering."""
        if Role.DELIVER in self.roles:
            await self.dispatcher.run()
        else:
            await asyncio.Event().wait()

    async def _close_polls(self) -> None:
        """The poll closer, when this worker's roles include delivering."""
        if Role.DELIVER in self.roles:
            await self.closer.run()
        else:
            await asyncio.Event().wait()

    async def _listen(self) -> None:
        """Wake this worker's loops when other workers sharing the store queue posts, add
        feeds or open polls (LISTEN/NOTIFY on PostgreSQL; nothing to do on SQLite)."""
        wakes = {
            "outbox": self.dispatcher.wake,
            "feeds": self.scheduler.feeds_changed.set,
            "polls": self.polls.changed.set,
        }
        try:
            for topic, wake in wakes.items():
                await self.store.changes.listen(topic, wake)
        except NewsbriefError as e:  # the loops still look every SHARED_LOOK_EVERY
            log.warning("not listening for other workers' changes: %s", e)

    async def _observe(self, stack: AsyncExitStack) -> None:
        """Serve /healthz and /metrics when ``NEWSBRIEF_METRICS_LISTEN`` asks for them."""
        if not self.settings.metrics_listen or not isinstance(self.metrics, PrometheusMetrics):
            return
        host, port = listen_address(self.settings.metrics_listen)
        server = ObserveServer(self.metrics, self.check_health, self.refresh_metrics)
        await server.start(host, port)
        stack.push_async_callback(server.stop)
        self.observe_port = server.port

    async def check_health(self) -> HealthReport:
        """Healthy when the store answers and no loop of this worker has stopped."""
        stopped = [name for name, task in self.loops.items() if task.done()]
        if stopped:
            return HealthReport(False, f"stopped: {', '.join(sorted(stopped))}")
        try:
            await asyncio.wait_for(self.store.feeds.counts(), HEALTH_TIMEOUT)
        except (TimeoutError, NewsbriefError) as e:
            return HealthReport(False, f"store unreachable: {str(e) or 'timed out'}")
        down = [a.platform for a in self.health.adapters() if not a.healthy]
        return HealthReport(True, "ok" + (f" (not connected: {', '.join(down)})" if down else ""))

    async def refresh_metrics(self) -> None:
        """Set the gauges read from the store (feeds, outbox rows, leases) before a scrape."""
        feeds = await self.store.feeds.counts()
        self.metrics.set("newsbrief_feeds", feeds.total - feeds.paused, state="active")
        self.metrics.set("newsbrief_feeds", feeds.paused, state="paused")
        for (platform, state), count in (await self.store.outbox.state_counts()).items():
            self.metrics.set("newsbrief_outbox_rows", count, platform=platform, state=state.value)
        for kind, count in (await self.store.workers.held(self.heartbeat.worker)).items():
            self.metrics.set("newsbrief_leases_held", count, kind=kind)
        self.metrics.set("newsbrief_leases_held", len(self.store.locks.held()), kind="locks")

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
        """One whole pass: ingest every active feed, queue the digests that are due, deliver
        what is due, close the polls that are due and deliver their results."""
        counts = await self.ingest()
        await self.digests.queue_due()
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
            delivery = group.create_task(self._deliver(), name="dispatcher")
            loops = [
                group.create_task(self._ingest(), name="scheduler"),
                group.create_task(self._queue_digests(), name="digests"),
                group.create_task(self._close_polls(), name="poll-closer"),
            ]
            if self.store.shared:  # other workers learn from the beat that this one lives
                loops.append(group.create_task(self.heartbeat.run(), name="heartbeat"))
            if stdin is not None:
                console = serve_console(self.service, stdin, self.console)
                loops.append(group.create_task(_then_set(console, stop), name="console"))
            self.loops = {t.get_name(): t for t in (watch, delivery, *loops)}
            await stop.wait()
            log.info("stopping: finishing the posts in flight")
            for task in loops:
                task.cancel()
            await stop_delivering(self.dispatcher, delivery, SHUTDOWN_GRACE)
            watch.cancel()
        self.loops = {}


def _metrics(settings: Settings) -> Metrics:
    return PrometheusMetrics() if settings.metrics_listen else NoMetrics()


async def _assemble(
    stack: AsyncExitStack,
    settings: Settings,
    clock: Clock,
    fetcher: Fetcher | None,
    stdout: TextIO | None,
    serving: bool,
    roles: frozenset[Role],
) -> Runtime:
    """Build every part in dependency order, registering what undoes each on ``stack``."""
    metrics, worker = _metrics(settings), worker_name()
    res = await open_resources(stack, settings, clock, fetcher)
    summarizer = open_summarizer(stack, settings, clock, metrics)
    store, outbox_ready, health = res.store, asyncio.Event(), Health()
    summaries = Summaries(store.summaries, summarizer, clock, metrics=metrics)
    polls = Polls(store, clock, on_queued=outbox_ready.set, metrics=metrics)
    ingestor = Ingestor(store, res.fetcher, clock, metrics=metrics, worker=worker)
    stack.callback(ingestor.close)
    scheduler = IngestScheduler(ingestor, store.feeds, clock, on_queued=outbox_ready.set)
    digests = DigestComposer(store, summaries, polls)
    composer = Composer(store.articles, store.stories, summaries, polls, digests)
    service = Service(
        store,
        summaries,
        polls,
        res.fetcher,
        clock,
        health=health,
        on_feeds_changed=scheduler.feeds_changed.set,
        preview=composer.preview,
    )
    adapters = _chat_adapters(stack, settings, service, clock) if serving else []
    console = ConsolePlatform(stdout or sys.stdout)
    platforms: dict[str, Platform] = {"console": console, **{a.name: a for a in adapters}}
    supervisor = Supervisor(
        adapters, health, clock, locks=store.locks, roles=roles, on_up=outbox_ready.set
    )
    return Runtime(
        settings=settings,
        config=res.config,
        clock=clock,
        store=store,
        fetcher=res.fetcher,
        summarizer=summarizer,
        summaries=summaries,
        polls=polls,
        service=service,
        composer=composer,
        ingestor=ingestor,
        scheduler=scheduler,
        dispatcher=_dispatcher(
            store, platforms, clock, composer, polls, outbox_ready, supervisor, metrics, worker
        ),
        closer=PollCloser(
            store, polls, platforms, clock, delivers=supervisor.delivers, serves=supervisor.serves
        ),
        digests=DigestScheduler(store, clock, on_queued=outbox_ready.set),
        supervisor=supervisor,
        health=health,
        console=console,
        metrics=metrics,
        heartbeat=Heartbeat(store, clock, worker),
        roles=roles,
    )


def _dispatcher(
    store: Store,
    platforms: dict[str, Platform],
    clock: Clock,
    composer: Composer,
    polls: Polls,
    wake: asyncio.Event,
    supervisor: Supervisor,
    metrics: Metrics,
    worker: str,
) -> Dispatcher:
    """The dispatcher: posts built by the composer; what a sent post opens (its poll) is
    recorded with it, and the poll closer is told; only the platforms this worker delivers
    for get posts (their posts wait while their connection is down, no attempt counted)."""

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
        available=supervisor.delivers,
        metrics=metrics,
        worker=worker,
        look_every=SHARED_LOOK_EVERY if store.shared else IDLE,
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


async def _then_set(work: Awaitable[None], event: asyncio.Event) -> None:
    """Await ``work``, then set ``event`` (the end of console input ends the session)."""
    try:
        await work
    finally:
        event.set()

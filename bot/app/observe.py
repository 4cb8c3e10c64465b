"""Health and metrics over HTTP (``NEWSBRIEF_METRICS_LISTEN``): ``/healthz`` answers 200
when the store is reachable and the worker's loops are alive (503 with the reason
otherwise), ``/metrics`` gives the catalogue in Prometheus text format.

aiohttp and prometheus-client load when metrics are turned on (about 150 ms and a few MiB
that ``newsbrief ingest`` would otherwise pay for nothing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.errors import ConfigError
from bot.metrics import CATALOGUE, Kind, MetricSpec

if TYPE_CHECKING:
    from aiohttp import web
    from prometheus_client import Counter, Gauge, Histogram

    _Metric = Counter | Gauge | Histogram

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"


def listen_address(value: str) -> tuple[str, int]:
    """``host:port``, ``:port`` or ``port`` → (host, port); loopback when no host is given
    (port 0 picks a free port).

    Raises:
        ConfigError: not an address with a port from 0 to 65535.
    """
    host, _, port = value.strip().rpartition(":")
    host = host.strip("[]") or DEFAULT_HOST
    if not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"NEWSBRIEF_METRICS_LISTEN must be host:port or :port, not {value!r}")
    return host, int(port)


class PrometheusMetrics:
    """Implements the metrics port on prometheus-client, in a registry of its own."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry

        self.registry = CollectorRegistry()
        self._metrics = {spec.name: self._make(spec) for spec in CATALOGUE}

    def _make(self, spec: MetricSpec) -> _Metric:
        from prometheus_client import Counter, Gauge, Histogram

        kinds: dict[Kind, type[_Metric]] = {
            Kind.COUNTER: Counter,
            Kind.GAUGE: Gauge,
            Kind.HISTOGRAM: Histogram,
        }
        return kinds[spec.kind](spec.name, spec.help, spec.labels, registry=self.registry)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add to a counter."""
        self._apply(name, labels, lambda m: m.inc(amount))  # type: ignore[union-attr]

    def set(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge."""
        self._apply(name, labels, lambda m: m.set(value))  # type: ignore[union-attr]

    def observe(self, name: str, value: float, **labels: str) -> None:
        """Record one value of a histogram."""
        self._apply(name, labels, lambda m: m.observe(value))  # type: ignore[union-attr]

    def render(self) -> bytes:
        """Every metric in Prometheus text format."""
        from prometheus_client import generate_latest

        return bytes(generate_latest(self.registry))

    def _apply(self, name: str, labels: dict[str, str], action: Callable[[_Metric], None]) -> None:
        metric = self._metrics.get(name)
        if metric is None:
            return
        try:
            action(metric.labels(**labels) if labels else metric)
        except (ValueError, AttributeError) as e:  # wrong labels: a bug, never a crash
            log.debug("metric %s not recorded: %s", name, e)


@dataclass(frozen=True)
class HealthReport:
    """The answer ``/healthz`` gives: healthy or not, and why."""

    ok: bool
    reason: str


class ObserveServer:
    """The HTTP server for ``/healthz`` and ``/metrics``."""

    def __init__(
        self,
        metrics: PrometheusMetrics,
        check: Callable[[], Awaitable[HealthReport]],
        refresh: Callable[[], Awaitable[None]],
    ) -> None:
        self._metrics = metrics
        self._check = check
        self._refresh = refresh
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` (port 0: a free one, in :attr:`port`).

        Raises:
            OSError: the address cannot be bound.
        """
        from aiohttp import web

        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._render)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("health and metrics on http://%s:%d/", host, self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        from aiohttp import web

        health = await self._check()
        status = 200 if health.ok else 503
        return web.Response(status=status, text=health.reason + "\n")

    async def _render(self, request: web.Request) -> web.Response:
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST

        try:
            await asyncio.wait_for(self._refresh(), 5)
        except Exception as e:  # the store may be down: the counters still answer
            log.warning("metrics from the store not refreshed: %s", e)
        return web.Response(
            body=self._metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

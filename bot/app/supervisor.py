"""Supervising the chat adapters: start them, watch their connections, restart one whose
connection ends, stop them in reverse order. Every state change is logged and shown in
``/status`` through :class:`~bot.health.Health`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from bot.errors import ConfigError
from bot.health import AdapterState, Health
from bot.ports import ChatAdapter, Clock

log = logging.getLogger(__name__)

FIRST_RETRY = 5.0  # seconds before restarting a connection that ended
MAX_RETRY = 300.0


def restart_delay(failures: int) -> float:
    """Seconds before the ``failures``-th restart in a row: 5 s doubling, capped at 5 min."""
    return min(FIRST_RETRY * 2.0 ** max(0, failures - 1), MAX_RETRY)


def describe(error: BaseException | None) -> str:
    """One line an operator can read: why a connection ended."""
    if error is None:
        return "the connection closed"
    text = str(error)
    return text if text else type(error).__name__


class Supervisor:
    """Starts, watches, restarts and stops the chat adapters."""

    def __init__(
        self,
        adapters: Sequence[ChatAdapter],
        health: Health,
        clock: Clock,
        *,
        on_up: Callable[[], None] = lambda: None,
    ) -> None:
        self._adapters = list(adapters)
        self._health = health
        self._clock = clock
        self._on_up = on_up  # an adapter is back: what waited for it may go on
        self._running: list[ChatAdapter] = []

    @property
    def adapters(self) -> list[ChatAdapter]:
        """Every supervised adapter, in start order."""
        return list(self._adapters)

    async def start_all(self) -> None:
        """Start every adapter in order, each ready before the next.

        Raises:
            ConfigError: an adapter's token was refused (the bot does not start).
            Exception: whatever an adapter raised when it could not connect.
        """
        for adapter in self._adapters:
            self._health.set(adapter.name, AdapterState.STARTING, self._clock.now())
            await adapter.start()
            self._running.append(adapter)
            self._health.set(adapter.name, AdapterState.UP, self._clock.now(), "connected")

    async def watch(self) -> None:
        """Watch every started adapter until cancelled, restarting any whose connection
        ends; one that is refused for good stays stopped and is reported."""
        async with asyncio.TaskGroup() as group:
            for adapter in list(self._running):
                group.create_task(self._watch(adapter), name=f"supervise-{adapter.name}")

    async def stop_all(self) -> None:
        """Stop every running adapter, last started first; errors are logged, not raised."""
        while self._running:
            await self._stop(self._running.pop())

    async def _watch(self, adapter: ChatAdapter) -> None:
        while adapter in self._running:
            reason = await self._until_closed(adapter)
            log.warning("%s: connection ended (%s); restarting it", adapter.name, reason)
            self._running.remove(adapter)
            await self._stop(adapter)
            if not await self._restart(adapter, reason):
                return

    async def _until_closed(self, adapter: ChatAdapter) -> str:
        try:
            await adapter.wait_closed()
        except Exception as e:
            return describe(e)
        return describe(None)

    async def _restart(self, adapter: ChatAdapter, reason: str) -> bool:
        """Start the adapter again with backoff; False if it is refused for good."""
        failures = 0
        while True:
            failures += 1
            status = self._health.get(adapter.name)
            restarts = (status.restarts if status else 0) + 1
            delay = restart_delay(failures)
            now = self._clock.now()
            self._health.set(
                adapter.name,
                AdapterState.RESTARTING,
                now,
                reason,
                restarts=restarts,
                retry_at=now + delay,
            )
            await self._clock.sleep(delay)
            try:
                await adapter.start()
            except ConfigError as e:
                log.error("%s: stopped for good: %s", adapter.name, e)
                self._health.set(adapter.name, AdapterState.STOPPED, self._clock.now(), str(e))
                return False
            except Exception as e:
                reason = describe(e)
                log.warning("%s: restart %d failed: %s", adapter.name, restarts, reason)
                await self._stop(adapter)
                continue
            except BaseException:  # shut down while starting: leave nothing half-started
                await self._stop(adapter)
                raise
            self._running.append(adapter)
            self._health.set(adapter.name, AdapterState.UP, self._clock.now(), "reconnected")
            log.info("%s: reconnected after %d restart(s)", adapter.name, restarts)
            self._on_up()
            return True

    async def _stop(self, adapter: ChatAdapter) -> None:
        try:
            await adapter.stop()
        except Exception:
            log.exception("%s: error while stopping", adapter.name)

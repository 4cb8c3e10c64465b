"""Supervising chat adapters: restarts with backoff, permanent refusals, ordered stops,
every state visible in Health and nothing swallowed silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bot.app.supervisor import Supervisor, restart_delay
from bot.clock import ManualClock
from bot.errors import ConfigError
from bot.health import AdapterState, AdapterStatus, Health
from bot.ports import RateLimits
from bot.types import ChatRef, Message, Sent


@dataclass
class FakeAdapter:
    """A chat adapter whose connection the test drops, and whose starts it scripts."""

    name: str
    log: list[str]
    start_errors: list[Exception] = field(default_factory=list)
    stop_error: Exception | None = None
    limits: RateLimits = field(default_factory=RateLimits)
    _dropped: asyncio.Future[None] | None = None

    async def start(self, *, receive: bool = True) -> None:
        self.log.append(f"start {self.name}")
        if self.start_errors:
            raise self.start_errors.pop(0)
        self._dropped = asyncio.get_running_loop().create_future()

    async def wait_closed(self) -> None:
        if self._dropped is not None:
            await asyncio.shield(self._dropped)

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")
        if self.stop_error is not None:
            raise self.stop_error

    def drop(self, error: Exception) -> None:
        """The connection ends with ``error``."""
        assert self._dropped is not None
        self._dropped.set_exception(error)

    async def send(self, chat: ChatRef, message: Message, nonce: str) -> Sent:
        return Sent("1")

    async def close_poll(self, chat: ChatRef, message_id: str) -> tuple[int, ...] | None:
        return None


async def _until(
    health: Health, name: str, wanted: Callable[[AdapterStatus], bool]
) -> AdapterStatus:
    """Wait (bounded, never a sleep) for the adapter's status to satisfy ``wanted``."""
    async with asyncio.timeout(5):
        while True:
            status = health.get(name)
            if status is not None and wanted(status):
                return status
            await health.changed.wait()
            health.changed.clear()


def test_restart_delay_doubles_and_caps() -> None:
    """5 s, 10 s, 20 s ... never more than five minutes."""
    assert [restart_delay(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    assert restart_delay(50) == 300.0


class History(Health):
    """Health that remembers every state it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[AdapterStatus] = []

    def set(self, *args: object, **kwargs: object) -> AdapterStatus:
        status = super().set(*args, **kwargs)  # type: ignore[arg-type]
        self.seen.append(status)
        return status


async def test_dropped_connection_restarts_with_growing_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A connection that ends is logged (an expected fault: one WARNING line), shown as
    restarting with when it is retried, restarted after the backoff (longer after each
    failed try), and back up."""
    caplog.set_level(logging.INFO)
    clock, health, log = ManualClock(autojump=True), History(), []
    adapter = FakeAdapter("chat", log, start_errors=[])
    supervisor = Supervisor([adapter], health, clock)
    await supervisor.start_all()
    assert health.get("chat") == AdapterStatus("chat", AdapterState.UP, "connected", clock.now())
    watch = asyncio.create_task(supervisor.watch())
    adapter.start_errors = [OSError("network down")]
    adapter.drop(OSError("connection reset"))
    up = await _until(health, "chat", lambda s: s.restarts == 2 and s.healthy)
    watch.cancel()
    restarting = [s for s in health.seen if s.state is AdapterState.RESTARTING]
    assert [(s.reason, s.restarts, s.retry_at - s.since) for s in restarting] == [  # type: ignore[operator]
        ("connection reset", 1, 5.0),
        ("network down", 2, 10.0),
    ]
    assert up.reason == "reconnected"
    await supervisor.stop_all()
    assert log == ["start chat", "stop chat", "start chat", "stop chat", "start chat", "stop chat"]
    ended = [r for r in caplog.records if "connection ended" in r.getMessage()]
    assert [(r.levelno, r.exc_info) for r in ended] == [(logging.WARNING, None)]


async def test_refused_token_on_restart_stops_for_good() -> None:
    """A restart refused with a config error (a revoked token) is not retried: the adapter
    is shown stopped with the reason, and nothing starts it again."""
    clock, health, log = ManualClock(autojump=True), Health(), []
    adapter = FakeAdapter("chat", log)
    supervisor = Supervisor([adapter], health, clock)
    await supervisor.start_all()
    adapter.start_errors = [ConfigError("the token was refused")]
    adapter.drop(RuntimeError("kicked off"))
    watch = asyncio.create_task(supervisor.watch())
    await _until(health, "chat", lambda s: s.state is AdapterState.STOPPED)
    watch.cancel()
    status = health.get("chat")
    assert status is not None
    assert (status.state, status.reason) == (AdapterState.STOPPED, "the token was refused")
    await supervisor.stop_all()
    assert log == ["start chat", "stop chat", "start chat", "stop chat"]


async def test_first_start_failure_is_raised() -> None:
    """At start-up a refused token stops the bot with the error, as before supervision."""
    health = Health()
    supervisor = Supervisor(
        [FakeAdapter("chat", [], start_errors=[ConfigError("bad token")])], health, ManualClock()
    )
    with pytest.raises(ConfigError, match="bad token"):
        await supervisor.start_all()
    assert health.get("chat") is not None


async def test_stop_all_goes_in_reverse_and_logs_every_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Adapters stop last-started first; an adapter failing to stop is logged with its
    traceback and the others still stop."""
    log: list[str] = []
    first = FakeAdapter("first", log, stop_error=RuntimeError("socket already gone"))
    second = FakeAdapter("second", log)
    supervisor = Supervisor([first, second], Health(), ManualClock())
    await supervisor.start_all()
    with caplog.at_level(logging.ERROR):
        await supervisor.stop_all()
    assert log == ["start first", "start second", "stop second", "stop first"]
    assert "first: error while stopping" in caplog.text
    assert "socket already gone" in caplog.text


async def test_shutdown_while_restarting_leaves_nothing_half_started() -> None:
    """Cancelling the watch while an adapter is starting again stops that adapter."""
    clock, health, log = ManualClock(autojump=True), Health(), []
    starting = asyncio.Event()

    class Slow(FakeAdapter):
        async def start(self, *, receive: bool = True) -> None:
            await super().start(receive=receive)
            if len(self.log) > 1:
                starting.set()
                await asyncio.Event().wait()  # never ready

    adapter = Slow("chat", log)
    supervisor = Supervisor([adapter], health, clock)
    await supervisor.start_all()
    watch = asyncio.create_task(supervisor.watch())
    adapter.drop(OSError("reset"))
    await starting.wait()
    watch.cancel()
    await asyncio.wait({watch})
    await supervisor.stop_all()
    assert log == ["start chat", "stop chat", "start chat", "stop chat"]

"""Supervising the chat adapters: which platforms this worker serves, starting them in the
right mode, watching their connections, restarting one whose connection ends, stopping them
in reverse order. Every state change is logged and shown in ``/status`` through
:class:`~bot.health.Health`.

Workers sharing a store divide the platforms between them with two locks per platform:
``gateway:<platform>`` (receive commands and votes: one worker, so each is answered once)
and ``deliver:<platform>`` (send the platform's posts and close its polls: one worker, so a
bot token's rate limit holds across workers). A worker takes the locks its roles ask for
when they are free, and a worker that dies frees its locks for another within
``LEAD_EVERY`` seconds. On a store only one process uses, every lock is this worker's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.errors import ConfigError, NewsbriefError
from bot.health import AdapterState, Health
from bot.ports import ChatAdapter, Clock
from bot.store.ports import LockStore

log = logging.getLogger(__name__)

FIRST_RETRY = 5.0  # seconds before restarting a connection that ended
MAX_RETRY = 300.0
LEAD_EVERY = 10.0  # seconds between looks at the locks (a dead worker's are taken over)


class Role(StrEnum):
    """What a worker does (``newsbrief run --role``)."""

    INGEST = "ingest"  # fetch feeds
    DELIVER = "deliver"  # send posts, close polls
    CHAT = "chat"  # receive commands and votes

    @classmethod
    def parse(cls, text: str) -> frozenset[Role]:
        """``all`` or one role.

        Raises:
            ValueError: not a role.
        """
        if text == "all":
            return frozenset(cls)
        return frozenset({cls(text)})


@dataclass(frozen=True)
class Mode:
    """How an adapter runs here: receiving updates (the gateway), sending posts, or both."""

    receive: bool
    deliver: bool


def restart_delay(failures: int) -> float:
    """Seconds before the ``failures``-th restart in a row: 5 s doubling, capped at 5 min."""
    return min(FIRST_RETRY * 2.0 ** max(0, failures - 1), MAX_RETRY)


def describe(error: BaseException | None) -> str:
    """One line an operator can read: why a connection ended."""
    if error is None:
        return "the connection closed"
    text = str(error)
    return text if text else type(error).__name__


@dataclass
class _Slot:
    """One adapter and what the supervisor knows of it."""

    adapter: ChatAdapter
    running: Mode | None = None
    closed: asyncio.Future[None] | None = None  # resolves when its connection ends
    failures: int = 0
    retry_at: float = 0.0
    stopped_for_good: bool = False
    locks: set[str] = field(default_factory=set)


class Supervisor:
    """Starts, watches, restarts and stops the chat adapters."""

    def __init__(
        self,
        adapters: Sequence[ChatAdapter],
        health: Health,
        clock: Clock,
        *,
        locks: LockStore | None = None,
        roles: Collection[Role] = frozenset(Role),
        on_up: Callable[[], None] = lambda: None,
    ) -> None:
        self._slots = [_Slot(a) for a in adapters]
        self._health = health
        self._clock = clock
        self._locks = locks
        self._roles = frozenset(roles)
        self._on_up = on_up  # an adapter is back: what waited for it may go on
        self._started: list[_Slot] = []  # in start order, for stopping in reverse

    @property
    def adapters(self) -> list[ChatAdapter]:
        """Every supervised adapter."""
        return [s.adapter for s in self._slots]

    def delivers(self, platform: str) -> bool:
        """Whether this worker sends the platform's posts now (it holds its deliver lock
        and its adapter is up)."""
        slot = self._slot(platform)
        if slot is None:
            return True  # not a supervised platform (the console): always ours
        status = self._health.get(platform)
        up = status is not None and status.state is AdapterState.UP
        return bool(slot.running and slot.running.deliver and up)

    def serves(self, platform: str) -> bool:
        """Whether the platform is configured and not refused for good (another worker may
        be the one serving it)."""
        slot = self._slot(platform)
        return slot is None or not slot.stopped_for_good

    async def start_all(self) -> None:
        """Take the locks this worker's roles ask for and start those adapters, each ready
        before the next.

        Raises:
            ConfigError: an adapter's token was refused (the bot does not start).
            Exception: whatever an adapter raised when it could not connect.
        """
        for slot in self._slots:
            mode = await self._wanted(slot)
            if mode is None:
                self._standby(slot)
                continue
            self._health.set(slot.adapter.name, AdapterState.STARTING, self._clock.now())
            await self._start(slot, mode)

    async def watch(self) -> None:
        """Keep every adapter in the mode its locks give until cancelled: restart one whose
        connection ended (with backoff), take over a platform another worker left, stop one
        whose lock was lost; a refused token stops it for good."""
        while True:
            await self._reconcile()
            await self._wait()

    async def stop_all(self) -> None:
        """Stop every running adapter, last started first, and give up their locks; errors
        are logged, not raised."""
        while self._started:
            slot = self._started.pop()
            await self._stop(slot)
        for slot in self._slots:
            await self._release(slot)

    # -- reconciling ------------------------------------------------------------------------

    async def _reconcile(self) -> None:
        if self._locks is not None and not await self._alive():
            for slot in self._slots:
                slot.locks.clear()
        for slot in self._slots:
            await self._reconcile_one(slot)

    async def _reconcile_one(self, slot: _Slot) -> None:
        if slot.stopped_for_good:
            return
        if slot.closed is not None and slot.closed.done():
            await self._connection_ended(slot)
        mode = await self._wanted(slot)
        if slot.running is not None and mode != slot.running:
            log.info("%s: now %s here", slot.adapter.name, _describe_mode(mode))
            await self._stop(slot)
        if mode is None:
            self._standby(slot)
        elif slot.running is None and self._clock.now() >= slot.retry_at:
            await self._restart(slot, mode)

    async def _connection_ended(self, slot: _Slot) -> None:
        assert slot.closed is not None
        error = slot.closed.exception() if not slot.closed.cancelled() else None
        reason = describe(error)
        log.warning("%s: connection ended (%s); restarting it", slot.adapter.name, reason)
        await self._stop(slot)
        self._failed(slot, reason)

    async def _restart(self, slot: _Slot, mode: Mode) -> None:
        try:
            await self._start(slot, mode)
        except ConfigError as e:
            log.error("%s: stopped for good: %s", slot.adapter.name, e)
            slot.stopped_for_good = True
            await self._stop(slot)
            await self._release(slot)
            self._health.set(slot.adapter.name, AdapterState.STOPPED, self._clock.now(), str(e))
            return
        except Exception as e:
            log.warning("%s: restart failed: %s", slot.adapter.name, describe(e))
            await self._stop(slot)
            self._failed(slot, describe(e))
            return
        except BaseException:  # shut down while starting: leave nothing half-started
            await self._stop(slot)
            raise
        if slot.failures:
            log.info("%s: reconnected", slot.adapter.name)
        slot.failures = 0
        self._on_up()

    async def _start(self, slot: _Slot, mode: Mode) -> None:
        await slot.adapter.start(receive=mode.receive)
        slot.running = mode
        slot.closed = asyncio.ensure_future(slot.adapter.wait_closed())
        self._started.append(slot)
        reason = "reconnected" if slot.failures else "connected"
        self._health.set(slot.adapter.name, AdapterState.UP, self._clock.now(), reason)

    def _failed(self, slot: _Slot, reason: str) -> None:
        slot.failures += 1
        status = self._health.get(slot.adapter.name)
        restarts = (status.restarts if status else 0) + 1
        delay = restart_delay(slot.failures)
        now = self._clock.now()
        slot.retry_at = now + delay
        self._health.set(
            slot.adapter.name,
            AdapterState.RESTARTING,
            now,
            reason,
            restarts=restarts,
            retry_at=slot.retry_at,
        )

    def _standby(self, slot: _Slot) -> None:
        status = self._health.get(slot.adapter.name)
        if status is None or status.state is not AdapterState.STANDBY:
            log.info("%s: standing by, another worker serves it", slot.adapter.name)
            self._health.set(
                slot.adapter.name, AdapterState.STANDBY, self._clock.now(), "another worker"
            )

    async def _wait(self) -> None:
        now = self._clock.now()
        waits = [s.retry_at for s in self._slots if s.running is None and s.retry_at > now]
        until = min([now + LEAD_EVERY, *waits])
        sleeper = asyncio.ensure_future(self._clock.sleep(max(0.0, until - now)))
        closes = {s.closed for s in self._slots if s.closed is not None and not s.closed.done()}
        try:
            await asyncio.wait({sleeper, *closes}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()

    # -- locks ------------------------------------------------------------------------------

    async def _wanted(self, slot: _Slot) -> Mode | None:
        """The mode the locks this worker holds (or can take now) give the adapter."""
        name = slot.adapter.name
        receive = Role.CHAT in self._roles and await self._hold(slot, f"gateway:{name}")
        deliver = Role.DELIVER in self._roles and await self._hold(slot, f"deliver:{name}")
        return Mode(receive, deliver) if receive or deliver else None

    async def _hold(self, slot: _Slot, lock: str) -> bool:
        if lock in slot.locks:
            return True
        if self._locks is None:
            held = True
        else:
            try:
                held = await self._locks.acquire(lock)
            except NewsbriefError as e:
                log.warning("lock %s not taken: %s", lock, e)
                held = False
        if held:
            slot.locks.add(lock)
        return held

    async def _alive(self) -> bool:
        assert self._locks is not None
        try:
            alive = await self._locks.alive()
        except NewsbriefError:
            alive = False
        if not alive:
            log.error("the locks of this worker were lost; taking them again")
        return alive

    async def _release(self, slot: _Slot) -> None:
        for lock in sorted(slot.locks):
            try:
                if self._locks is not None:
                    await self._locks.release(lock)
            except NewsbriefError as e:
                log.warning("lock %s not released: %s", lock, e)
        slot.locks.clear()

    # -- stopping ---------------------------------------------------------------------------

    async def _stop(self, slot: _Slot) -> None:
        closed, slot.closed, slot.running = slot.closed, None, None
        if closed is not None and closed.done() and not closed.cancelled():
            closed.exception()  # seen: an unexpected end was already logged or is moot
        if slot in self._started:
            self._started.remove(slot)
        try:
            await slot.adapter.stop()
        except Exception:
            log.exception("%s: error while stopping", slot.adapter.name)
        if closed is not None and not closed.done():
            closed.cancel()

    def _slot(self, platform: str) -> _Slot | None:
        return next((s for s in self._slots if s.adapter.name == platform), None)


def _describe_mode(mode: Mode | None) -> str:
    if mode is None:
        return "served by another worker"
    parts = [p for p, on in (("receiving", mode.receive), ("delivering", mode.deliver)) if on]
    return " and ".join(parts)

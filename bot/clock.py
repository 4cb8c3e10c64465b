"""Clocks: the system one, and a manual one for tests and replays."""

from __future__ import annotations

import asyncio
import time

from bot.ports import Clock


class SystemClock:
    """Wall-clock time and real sleeping."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told; sleepers wake when it passes their deadline.

    With ``autojump`` a sleep moves the clock itself (simulated time: pacing and backoff
    pass instantly while the order of events stays real).
    """

    def __init__(self, start: float = 1_800_000_000.0, *, autojump: bool = False) -> None:
        self._now = start
        self._autojump = autojump
        self._changed = asyncio.Condition()
        self._deadlines: list[float] = []  # of the sleepers waiting now

    def now(self) -> float:
        """The clock's current time."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock has been advanced past ``now + seconds``."""
        deadline = self._now + max(0.0, seconds)
        if self._autojump and deadline > self._now:
            await self.advance(deadline - self._now)
        async with self._changed:
            self._deadlines.append(deadline)
            self._changed.notify_all()
            try:
                await self._changed.wait_for(lambda: self._now >= deadline)
            finally:
                self._deadlines.remove(deadline)

    async def sleeping_until(self, deadline: float) -> None:
        """Wait until something sleeps on this clock until ``deadline`` or later (so a test
        can advance time knowing who it wakes)."""
        async with self._changed:
            await self._changed.wait_for(lambda: any(d >= deadline for d in self._deadlines))

    async def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline passed."""
        self._now += seconds
        async with self._changed:
            self._changed.notify_all()


IDLE = 3600.0  # how long a loop with nothing scheduled waits before looking again


async def wait_until(clock: Clock, when: float | None, event: asyncio.Event) -> None:
    """Wait until ``when`` on ``clock`` (``IDLE`` if None) or until ``event`` is set,
    whichever comes first; the event is cleared afterwards."""
    delay = IDLE if when is None else max(0.0, when - clock.now())
    sleeper = asyncio.ensure_future(clock.sleep(delay))
    waker = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
        waker.cancel()
    event.clear()

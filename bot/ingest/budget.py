"""What bounds ingest's work in flight: bytes of fetched feed bodies waiting for the parser
(:class:`Backlog`), and a feed's hold on a work slot between its parse and its save, given
up while it waits on the network (:class:`Turn`)."""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Backlog", "Turn"]


class Backlog:
    """Bytes of fetched feed bodies not read yet. A fetch starts only while they, plus what
    the fetches under way are expected to bring (the mean body so far each), are under the
    limit; fetches that wait start in turn as room comes back. So while the parser is
    behind, fetches start one at a time; while bodies are small or nothing waits to be
    read, one slow fetch never holds up the others."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._held = 0
        self._starting = 0  # fetches under way
        self._bodies = self._total = 0  # bodies seen, and their bytes
        self._queue: deque[asyncio.Future[None]] = deque()

    async def admit(self) -> None:
        """Wait for this fetch's turn to start; end it with ``arrived``."""
        if self._room() and not self._queue:
            self._starting += 1
            return
        turn = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.arrived(0)  # woken, then cancelled: the next one goes instead
            raise
        finally:
            if turn in self._queue:
                self._queue.remove(turn)

    def arrived(self, size: int) -> None:
        """A fetch that was let start ended with a body of ``size`` bytes (0: none)."""
        self._starting -= 1
        if size:
            self._bodies += 1
            self._total += size
        self.read(-size)

    def read(self, size: int) -> None:
        """``size`` bytes were read (taken out of the backlog); let waiting fetches start
        if there is room."""
        self._held -= size
        while self._queue and self._room():
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                self._starting += 1

    def _room(self) -> bool:
        # a fetch under way is expected to bring the mean body, at most a quarter of the
        # limit (so one 10 MB feed never leaves one fetch at a time for good), at least 1
        mean = self._total // self._bodies if self._bodies else 0
        expected = self._starting * max(1, min(mean, self._limit // 4)) if self._bodies else 0
        return self._held + expected < self._limit


class Turn:
    """One feed's hold on a work slot, which it may give up while it waits on the network
    (and takes back after); giving up a slot not held does nothing."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self._slots = slots
        self._held = False

    async def take(self) -> None:
        """Wait for a slot and hold it."""
        if not self._held:
            await self._slots.acquire()
            self._held = True

    def give(self) -> None:
        """Give the slot back, if held."""
        if self._held:
            self._held = False
            self._slots.release()

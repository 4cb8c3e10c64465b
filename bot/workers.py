"""This worker among the others sharing a store: its name, its heartbeat, and taking back
what a worker that stopped beating held (its posts in flight, its feeds)."""

from __future__ import annotations

import logging
import os
import secrets
import socket

from bot.errors import StoreError
from bot.ports import Clock
from bot.store.ports import Store

log = logging.getLogger(__name__)

BEAT_EVERY = 5.0  # seconds between heartbeats
DEAD_AFTER = 30.0  # a worker silent this long is dead: its claims go back


def worker_name() -> str:
    """A name for this process, unique among the workers: host, pid and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Heartbeat:
    """Keeps this worker alive in the store and frees what dead workers held."""

    def __init__(self, store: Store, clock: Clock, worker: str) -> None:
        self._store = store
        self._clock = clock
        self.worker = worker

    async def start(self) -> int:
        """Announce this worker and take back what a crash left behind: on a store only
        this process uses, everything in flight; on a shared one, what dead workers held.
        Returns how many posts go back to the queue (they may be sent once more)."""
        if not self._store.shared:
            return await self._store.outbox.recover_in_flight()
        await self._store.workers.beat(self.worker, self._clock.now())
        return await self._store.workers.recover(self._clock.now(), DEAD_AFTER)

    async def run(self) -> None:
        """Beat, and recover dead workers' claims, every few seconds until cancelled."""
        while True:
            await self._clock.sleep(BEAT_EVERY)
            try:
                await self._beat()
            except StoreError as e:  # the next beat may do; others wait DEAD_AFTER
                log.warning("heartbeat failed: %s", e)

    async def stop(self) -> None:
        """Leave cleanly: the others need not wait to know."""
        if self._store.shared:
            await self._store.workers.stop(self.worker)

    async def _beat(self) -> None:
        await self._store.workers.beat(self.worker, self._clock.now())
        freed = await self._store.workers.recover(self._clock.now(), DEAD_AFTER)
        if freed:
            log.warning("%d post(s) of a stopped worker go back to the queue", freed)

"""What the running parts report about themselves, for ``/status`` and operators.

The supervisor in the app writes here; the chat service reads. Plain data, no platform.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum


class AdapterState(StrEnum):
    """Where a chat adapter's connection stands."""

    STARTING = "starting"
    UP = "up"
    RESTARTING = "restarting"  # the connection ended; a restart is scheduled
    STOPPED = "stopped"  # ended for good (a refused token): needs the operator
    STANDBY = "standby"  # another worker sharing the store serves this platform


@dataclass(frozen=True)
class AdapterStatus:
    """One adapter's state, why, since when, and how often it was restarted."""

    platform: str
    state: AdapterState
    reason: str = ""
    since: float = 0.0
    restarts: int = 0
    retry_at: float | None = None

    @property
    def healthy(self) -> bool:
        """Connected here, or served by another worker: nothing for an operator to do."""
        return self.state in (AdapterState.UP, AdapterState.STANDBY)


class Health:
    """The latest status of every supervised adapter."""

    def __init__(self) -> None:
        self._adapters: dict[str, AdapterStatus] = {}
        self.changed = asyncio.Event()  # set on every change, for whoever watches

    def set(
        self,
        platform: str,
        state: AdapterState,
        now: float,
        reason: str = "",
        *,
        restarts: int | None = None,
        retry_at: float | None = None,
    ) -> AdapterStatus:
        """Record an adapter's new state; the restart count is kept unless given."""
        old = self._adapters.get(platform)
        count = restarts if restarts is not None else (old.restarts if old else 0)
        status = AdapterStatus(platform, state, reason, now, count, retry_at)
        self._adapters[platform] = status
        self.changed.set()
        return status

    def get(self, platform: str) -> AdapterStatus | None:
        """One adapter's status."""
        return self._adapters.get(platform)

    def adapters(self) -> list[AdapterStatus]:
        """Every adapter's status, by platform name."""
        return [self._adapters[name] for name in sorted(self._adapters)]

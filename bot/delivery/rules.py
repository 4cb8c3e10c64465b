"""Delivery rules: how long to back off a failed post and when it is dead. Pure."""

from __future__ import annotations

import math

from bot.errors import ConfigError, NotFound, UserInputError

DELIVERY_MAX_ATTEMPTS = 6
DELIVERY_BASE_BACKOFF = 15.0
DELIVERY_MAX_BACKOFF = 3600.0


def delivery_backoff(attempts: int) -> float:
    """Seconds before retrying a post that failed ``attempts`` times (1-based)."""
    return min(DELIVERY_BASE_BACKOFF * math.pow(2.0, max(0, attempts - 1)), DELIVERY_MAX_BACKOFF)


def delivery_is_dead(attempts: int) -> bool:
    """After this many failed attempts a post is dead (kept, reported, never dropped)."""
    return attempts >= DELIVERY_MAX_ATTEMPTS


def build_failure_is_permanent(error: BaseException) -> bool:
    """A post that could not be built: permanent when what it names is gone or invalid
    (no retry can help), transient otherwise (a store hiccup, a bug worth a retry)."""
    return isinstance(error, NotFound | UserInputError | ConfigError | ValueError)

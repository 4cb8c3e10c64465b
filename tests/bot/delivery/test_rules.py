"""Delivery rules and pacing: backoff, dead posts, send slots."""

from __future__ import annotations

import pytest

from bot.delivery import rules as delivery_rules
from bot.delivery.pacing import Pacer
from bot.ports import RateLimits


def test_delivery_backoff_grows_and_caps() -> None:
    """Delivery retries back off exponentially up to an hour; the sixth failure is final."""
    assert delivery_rules.delivery_backoff(1) == 15.0
    assert delivery_rules.delivery_backoff(3) == 60.0
    assert delivery_rules.delivery_backoff(50) == 3600.0
    assert delivery_rules.delivery_is_dead(6) and not delivery_rules.delivery_is_dead(5)


def test_pacer_spaces_sends_globally_and_per_chat() -> None:
    """30/s overall and 20/min per chat: slots are evenly spaced."""
    pacer = Pacer(RateLimits(per_second=30, per_chat_per_minute=20))
    slots = [pacer.reserve(f"c{i}", 0.0) for i in range(3)]
    assert slots == pytest.approx([0.0, 1.04 / 30, 2.08 / 30])
    assert pacer.reserve("c0", 0.0) == pytest.approx(3.12)

"""Adapter tests run each adapter on its own, so they make the process-wide settings the
composition root makes for it (``bot.app.platforms``)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB reads durations as timedeltas, as the root's Telegram setup asks."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")

"""Pacing sends within a platform's limits. Pure bookkeeping; the caller does the waiting."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.ports import RateLimits

MARGIN = 1.04  # spacing factor: 4% under the limit


@dataclass
class Pacer:
    """Hands out send slots: at most ``per_second`` overall and ``per_chat_per_minute`` per
    chat, evenly spaced (a steady pace keeps clear of 429s better than bursts do), with a
    small margin so network jitter never puts one send too many in a platform's window."""

    limits: RateLimits
    _next_global: float = 0.0
    _next_chat: dict[str, float] = field(default_factory=dict)

    def reserve(self, chat: str, now: float) -> float:
        """Book the earliest slot for ``chat`` at or after ``now``; return when it is."""
        slot = max(now, self._next_global, self._next_chat.get(chat, 0.0))
        if self.limits.per_second > 0:
            self._next_global = slot + MARGIN / self.limits.per_second
        if self.limits.per_chat_per_minute > 0:
            self._next_chat[chat] = slot + MARGIN * 60.0 / self.limits.per_chat_per_minute
        return slot

"""A fake chat platform with behaviour: records sends, fails on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.errors import DeliveryError
from bot.ports import RateLimits
from bot.types import ChatRef, Message, PollPost, Sent


@dataclass
class FakePlatform:
    """Implements the Platform port in memory."""

    name: str = "fake"
    limits: RateLimits = field(default_factory=lambda: RateLimits(concurrency=4))
    sent: list[tuple[ChatRef, Message, str]] = field(default_factory=list)
    # chat id → list of errors to raise on the next sends (consumed in order)
    failures: dict[str, list[DeliveryError]] = field(default_factory=dict)
    on_send: Callable[[ChatRef, Message], None] | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # message id → final counts close_poll answers with (absent: the poll message is gone)
    final_counts: dict[str, tuple[int, ...]] = field(default_factory=dict)
    closed: list[tuple[ChatRef, str]] = field(default_factory=list)

    async def send(self, chat: ChatRef, message: Message, nonce: str) -> Sent:
        """Record the message or raise the next scripted failure for that chat."""
        queued = self.failures.get(chat.chat_id)
        if queued:
            raise queued.pop(0)
        self.sent.append((chat, message, nonce))
        if self.on_send is not None:
            self.on_send(chat, message)
        self.changed.set()
        message_id = f"{self.name}-{len(self.sent)}"
        if isinstance(message, PollPost):
            return Sent(message_id=message_id, poll_id=f"poll-{message_id}")
        return Sent(message_id=message_id)

    async def close_poll(self, chat: ChatRef, message_id: str) -> tuple[int, ...] | None:
        """Record the close; answer the scripted final counts, None if not scripted."""
        self.closed.append((chat, message_id))
        return self.final_counts.get(message_id)

    def to(self, chat_id: str) -> list[Message]:
        """Messages sent to one chat."""
        return [m for c, m, _ in self.sent if c.chat_id == chat_id]

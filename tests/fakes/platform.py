"""A fake chat platform with behaviour: records sends, fails on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.errors import DeliveryError
from bot.ports import RateLimits
from bot.types import ChatRef, Message, Sent


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

    async def send(self, chat: ChatRef, message: Message, nonce: str) -> Sent:
        """Record the message or raise the next scripted failure for that chat."""
        queued = self.failures.get(chat.chat_id)
        if queued:
            raise queued.pop(0)
        self.sent.append((chat, message, nonce))
        if self.on_send is not None:
            self.on_send(chat, message)
        self.changed.set()
        return Sent(message_id=str(len(self.sent)))

    async def close_poll(self, chat: ChatRef, message_id: str) -> tuple[int, ...] | None:
        """No native polls here."""
        return None

    def to(self, chat_id: str) -> list[Message]:
        """Messages sent to one chat."""
        return [m for c, m, _ in self.sent if c.chat_id == chat_id]

"""Telegram: python-telegram-bot between the core and the Bot API.

The composition root imports this package lazily (only when a token is set), so ``bot/``
never loads ``telegram``.
"""

from adapters.telegram.adapter import TelegramAdapter, create_adapter

__all__ = ["TelegramAdapter", "create_adapter"]

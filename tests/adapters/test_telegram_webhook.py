"""Telegram webhook mode: updates POSTed to newsbrief's webhook reach the core; a request
without Telegram's secret header is refused."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.telegram import create_adapter
from adapters.telegram.adapter import Webhook
from bot.clock import ManualClock
from bot.types import Command
from tests.adapters.test_telegram import GROUP, MEMBER, FakeCore
from tests.fakes.telegram_api import FakeTelegramAPI

SECRET = "webhook-secret-123"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
async def api() -> AsyncIterator[FakeTelegramAPI]:
    """A fake Bot API with one group."""
    async with FakeTelegramAPI() as fake:
        fake.add_chat(GROUP, "supergroup")
        yield fake


async def test_webhook_updates_reach_the_core(api: FakeTelegramAPI) -> None:
    """setWebhook names our URL and secret; a POSTed command reaches the core and its reply
    is sent; a POST without the secret is refused and reaches nothing."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    core = FakeCore()
    adapter = create_adapter(
        token=api.token,
        base_url=api.base_url,
        core=core,
        clock=ManualClock(),
        webhook=Webhook(url, "127.0.0.1", port, SECRET),
    )
    await adapter.start()
    try:
        assert api.webhook["url"] == url and api.webhook["secret_token"] == SECRET
        update = {"update_id": 1, **api.message(GROUP, "/summary venezuela", user_id=MEMBER)}
        async with httpx.AsyncClient() as client:
            refused = await client.post(url, content=json.dumps(update))
            accepted = await client.post(
                url,
                content=json.dumps({**update, "update_id": 2}),
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": SECRET,
                    "Content-Type": "application/json",
                },
            )
        calls = await core.wait_for(1)
        await api.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == GROUP)
    finally:
        await adapter.stop()
    assert refused.status_code == 403 and accepted.status_code == 200
    assert len(calls) == 1
    assert isinstance(calls[0], Command) and calls[0].args == "venezuela"

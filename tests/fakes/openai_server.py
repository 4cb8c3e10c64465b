"""A fake OpenAI-compatible server on loopback, for driving the real ``openai`` client.

It serves ``POST /v1/chat/completions`` with scripted replies, one per request in order,
then the default reply. It records every request body, so a test can count calls and read
the prompt the client sent. Point the client's ``base_url`` at :attr:`FakeOpenAI.base_url`.

Usage::

    async with FakeOpenAI() as server:
        server.script(rate_limited(retry_after=3), completion({"headline": ...}))
        ...
        assert server.calls == 2

Replies: :func:`completion` (a valid chat completion whose message is the given JSON or
text), :func:`rate_limited` (429 with Retry-After), :func:`server_error` (500),
:func:`schema_unsupported` (400 for a JSON-schema ``response_format``) and
:func:`hang` (accepts the request and never answers until the server stops; use it with a
small client timeout).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    """One scripted answer."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


def completion(content: dict[str, Any] | str, *, total_tokens: int = 120) -> Reply:
    """A successful chat completion whose assistant message is ``content``.

    A dict is sent as its JSON text, as a model in JSON mode answers.
    """
    text = content if isinstance(content, str) else json.dumps(content)
    return Reply(
        body={
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "fake-model",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": total_tokens - 20,
                "completion_tokens": 20,
                "total_tokens": total_tokens,
            },
        }
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"message": message, "type": "fake_error", "code": None}}
    return Reply(status=status, body=body, headers=headers or {})


def rate_limited(retry_after: float) -> Reply:
    """429 Too Many Requests with a Retry-After header in seconds."""
    return _error(429, "Rate limit reached", {"Retry-After": f"{retry_after:g}"})


def server_error() -> Reply:
    """500 Internal Server Error."""
    return _error(500, "The server had an error")


def schema_unsupported() -> Reply:
    """400 as a server without structured outputs answers ``response_format`` of type
    ``json_schema`` (the wording of OpenAI's older models)."""
    return _error(
        400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported"
    )


def hang() -> Reply:
    """Accept the request and answer nothing until the server stops."""
    return Reply(hang=True)


class FakeOpenAI:
    """The fake server; see the module doc."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.default: Reply = server_error()
        self._script: deque[Reply] = deque()
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        """The API root to give the client (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def calls(self) -> int:
        """How many completion requests arrived."""
        return len(self.requests)

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        self._script.extend(replies)

    def prompt(self, index: int = -1) -> str:
        """The user message of a recorded request (the last one by default)."""
        messages = self.requests[index]["messages"]
        return "\n".join(m["content"] for m in messages if m["role"] == "user")

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Release hanging requests and shut down."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenAI:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(await request.json())
        reply = self._script.popleft() if self._script else self.default
        if reply.hang:
            await self._release.wait()
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

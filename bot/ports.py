"""Ports: the small Protocols the core depends on. Implementations live at the edges."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from bot.types import ChatRef, Command, Message, PollCounts, Reply, Sent, VoteEvent, record
from summarizer.base import Clock

__all__ = [
    "ChatAdapter",
    "Clock",
    "CommandRegistry",
    "Core",
    "FetchRequest",
    "FetchResult",
    "Fetcher",
    "Platform",
    "RateLimits",
]


@record
class FetchRequest:
    """One guarded fetch.

    ``trusted`` is True for URLs from the operator (config file, CLI): only those may be local
    file paths, and only those may reach private hosts when the operator allows it.
    """

    url: str
    max_bytes: int
    trusted: bool = False
    etag: str | None = None
    last_modified: str | None = None


@record
class FetchResult:
    """A fetched body (``not_modified`` means a 304 and an empty body)."""

    url: str
    body: bytes
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = ""


class Fetcher(Protocol):
    """Fetches feeds and pages behind every guard.

    Raises:
        BlockedURL: bad scheme, a private/loopback address (after DNS and on every
            redirect), too many redirects, a file path from an untrusted request.
        TooLarge: the body passed ``max_bytes`` after decompression.
        FetchTimeout: connect or total time passed.
        HTTPStatusError: 4xx/5xx, with ``retry_after`` when the server sent one.
        FetchError: any other network failure.
    """

    async def fetch(self, request: FetchRequest) -> FetchResult: ...

    async def aclose(self) -> None: ...


@record
class RateLimits:
    """A platform's sending limits, enforced by the dispatcher."""

    per_second: float = 0.0  # overall; 0 means unlimited
    per_chat_per_minute: float = 0.0  # per chat; 0 means unlimited
    concurrency: int = 1


class Platform(Protocol):
    """Sends posts and replies to chats of one platform.

    Raises:
        RateLimited: wait ``retry_after`` for this chat; not counted as a failure.
        ChatUnavailable: the chat is gone or forbids us; the channel gets paused.
        ChatMigrated: the chat has a new id; the channel moves and the post is resent.
        TransientDeliveryError: anything else; retried with backoff, then dead.
    """

    @property
    def name(self) -> str: ...

    @property
    def limits(self) -> RateLimits: ...

    async def send(self, chat: ChatRef, message: Message, nonce: str) -> Sent:
        """Send one message (post, reply, poll, poll results) and say what the platform
        gave back. ``nonce`` is unique per outbox row (Discord deduplicates with it)."""
        ...

    async def close_poll(self, chat: ChatRef, message_id: str) -> tuple[int, ...] | None:
        """Close a native poll; return the final counts per option if the platform gives
        them, None if the poll message is gone."""
        ...


class Core(Protocol):
    """The service API that adapters call, with core types only."""

    async def handle(self, command: Command) -> Reply:
        """Answer a chat command. Never raises for user input: errors become a Reply with
        ``ok=False`` and a clear text."""
        ...

    async def chat_membership(self, chat: ChatRef, active: bool, reason: str) -> None:
        """The bot was added to (``active``) or removed from a chat."""
        ...

    async def chat_migrated(self, old: ChatRef, new: ChatRef) -> None:
        """A chat got a new id (Telegram group upgraded to a supergroup)."""
        ...

    async def record_vote(self, vote: VoteEvent) -> None:
        """A reader voted, changed or retracted a vote. Idempotent."""
        ...

    async def record_counts(self, counts: PollCounts) -> None:
        """A counts-only platform reported a poll's current counts. Idempotent."""
        ...


class ChatAdapter(Platform, Protocol):
    """A platform adapter the composition root starts, supervises and stops.

    ``start`` may be called again after ``stop`` (the supervisor restarts a connection that
    ended).
    """

    async def start(self, *, receive: bool = True) -> None:
        """Connect and begin receiving updates; returns once ready. Without ``receive`` it
        connects for sending only (another worker receives this platform's updates).

        Raises:
            ConfigError: the platform refused the token (a restart cannot help).
            Exception: anything else that kept it from connecting (worth a restart).
        """
        ...

    async def wait_closed(self) -> None:
        """Return when the connection has ended for good after ``start`` (it returns at
        once when not started); raise the reason if it ended by failing."""
        ...

    async def stop(self) -> None:
        """Stop receiving, finish the handlers in flight, disconnect. Safe to call twice."""
        ...


@runtime_checkable
class CommandRegistry(Protocol):
    """A platform that keeps a registry of the bot's commands (Discord's slash commands)."""

    async def sync_commands(self) -> int:
        """Register the command table with the platform now; returns how many it has.

        Raises:
            ConfigError: the platform refused the token.
            NewsbriefError: the platform could not be reached or refused the commands.
        """
        ...

"""The one exception tree of newsbrief.

Every error the core raises derives from :class:`NewsbriefError` and carries the data an
operator or an adapter needs to explain it. Third-party errors are wrapped at the edge
with ``raise ... from e``.
"""

from __future__ import annotations


class NewsbriefError(Exception):
    """Root of every error newsbrief raises on purpose."""


class ConfigError(NewsbriefError):
    """The settings or the TOML config file are invalid."""


class UserInputError(NewsbriefError):
    """A chat user or CLI user gave an argument we cannot act on; the message is user text."""


class NotFound(UserInputError):
    """The thing the user named does not exist."""


class FeedError(NewsbriefError):
    """A feed could not be fetched or parsed."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class FetchError(FeedError):
    """Fetching a URL failed (network, status, guard)."""


class BlockedURL(FetchError):
    """The URL is not allowed: bad scheme, private address, file path from a chat user."""


class TooLarge(FetchError):
    """The body exceeded the byte cap (measured after decompression)."""


class FetchTimeout(FetchError):
    """Connecting or reading took longer than allowed."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class ParseError(FeedError):
    """The bytes are not a feed we can read."""


class StoreError(NewsbriefError):
    """The database failed or is in an unexpected state.

    ``transient`` is True when trying again may succeed (a locked or busy database, a lost
    connection), False when the same write would fail again (a broken constraint).
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class DeliveryError(NewsbriefError):
    """A platform refused or failed a send. Subclasses tell the dispatcher what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RateLimited(DeliveryError):
    """The platform asks us to wait ``retry_after`` seconds for this chat; not a failure."""

    def __init__(self, retry_after: float, reason: str = "rate limited") -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class ChatUnavailable(DeliveryError):
    """The chat is gone or forbids us (kicked, blocked, unknown): pause the channel."""


class ChatMigrated(DeliveryError):
    """The chat moved to a new id (Telegram group → supergroup); resend there."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(f"chat migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class TransientDeliveryError(DeliveryError):
    """Anything else; retried with backoff, then dead."""

"""The summarizer port and the types it speaks.

This package sits below ``bot/`` and imports nothing from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """Time, as every part of newsbrief sees it: one clock, handed down by the composition
    root (``bot.ports`` re-exports this Protocol; tests pass a clock they step by hand)."""

    def now(self) -> float:
        """Seconds since the epoch (UTC)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time. Never raises but CancelledError."""
        ...


class Metrics(Protocol):
    """Counting what happens, by metric name and labels (the catalogue is
    ``bot.metrics.CATALOGUE``). Never raises; a name it does not know is ignored."""

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        """Add to a counter."""
        ...

    def set(self, name: str, value: float, **labels: str) -> None:
        """Set a gauge."""
        ...

    def observe(self, name: str, value: float, **labels: str) -> None:
        """Record one value of a histogram."""
        ...


class NoMetrics:
    """Metrics that go nowhere (the default)."""

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        return None

    def set(self, name: str, value: float, **labels: str) -> None:
        return None

    def observe(self, name: str, value: float, **labels: str) -> None:
        return None


@dataclass(frozen=True)
class Document:
    """An article handed to a summarizer: its title, plain text and where it came from.

    ``language`` asks for the summary (headline, poll) in that language (``"de"``); empty
    keeps the article's own. Only a summarizer that writes (the LLM) can honour it.
    """

    title: str
    text: str
    url: str = ""
    source: str = ""
    language: str = ""


@dataclass(frozen=True)
class PollProposal:
    """A reader poll suggested for an article: a question and 2-10 options."""

    question: str
    options: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """A summary of one article or of several.

    ``sentences`` are the summary's sentences in order; for topic summaries ``cites`` gives,
    per sentence, the 0-based indexes of the documents it rests on, at least one each, the
    one it came from first (empty otherwise).
    ``method`` is ``"extractive"`` or ``"llm"``.
    """

    text: str
    sentences: tuple[str, ...]
    method: str
    headline: str = ""
    poll: PollProposal | None = None
    cites: tuple[tuple[int, ...], ...] = ()


class Summarizer(Protocol):
    """Turns documents into summaries.

    ``key`` names the summarizer and its version or model, for caching
    (``"extractive-1"``, ``"llm:gpt-4o-mini"``).

    Neither method raises: an empty or odd document gives a short or empty summary, and the
    LLM implementation falls back to the extractive one on any failure.
    """

    @property
    def key(self) -> str: ...

    async def summarize(self, doc: Document) -> Summary:
        """Summarize one article in 2-3 sentences."""
        ...

    async def summarize_topic(self, topic: str, docs: Sequence[Document]) -> Summary:
        """Summarize several articles on one topic together; ``cites`` says which docs each
        sentence rests on (every sentence cites at least one doc it was given)."""
        ...

    async def aclose(self) -> None:
        """Release connections (the LLM client); a no-op for offline summarizers."""
        ...

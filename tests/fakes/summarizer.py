"""A summarizer with behaviour: first two sentences, counted calls."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from summarizer.base import Document, Summary


@dataclass
class FakeSummarizer:
    """Summarizes by taking leading sentences; counts calls so tests can prove caching."""

    calls: int = 0
    topic_calls: int = 0

    @property
    def key(self) -> str:
        """Cache key."""
        return "fake-1"

    async def summarize(self, doc: Document) -> Summary:
        """The first two sentences."""
        self.calls += 1
        sentences = tuple(s.strip() + "." for s in doc.text.split(".")[:2] if s.strip())
        return Summary(" ".join(sentences), sentences, "extractive")

    async def aclose(self) -> None:
        """Nothing to release."""

    async def summarize_topic(self, topic: str, docs: Sequence[Document]) -> Summary:
        """The first sentence of each doc, citing it."""
        self.topic_calls += 1
        sentences = tuple(d.text.split(".")[0].strip() + "." for d in docs)
        return Summary(
            " ".join(sentences),
            sentences,
            "extractive",
            cites=tuple((n,) for n in range(len(docs))),
        )

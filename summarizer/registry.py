"""Summarizers by name: the composition root asks for "extractive" or "llm".

Importing this module loads no SDK: the LLM summarizer (and with it :mod:`openai`) is
imported only when one is made, so the core can import the registry freely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from summarizer.base import Clock, Metrics, Summarizer
from summarizer.extractive import DEFAULT_MAX_CHARS, ExtractiveSummarizer

__all__ = ["SummarizerOptions", "known_kinds", "make_summarizer"]


@dataclass(frozen=True)
class SummarizerOptions:
    """Everything a summarizer may be built from; each kind reads what it needs.

    Attributes:
        max_chars: Longest article summary in characters (the extractive limit).
        api_key: The LLM server's key; None or "" for keyless local servers.
        base_url: The LLM server's API root; None for OpenAI.
        model: The LLM model name.
        connect_timeout: Seconds to connect to the LLM server.
        timeout: Seconds one LLM request may take in total.
        daily_token_budget: LLM tokens per UTC day before falling back; None for no limit.
        clock: The bot's clock (the LLM summarizer needs it).
        metrics: Where the LLM summarizer counts the tokens it uses.
    """

    max_chars: int = DEFAULT_MAX_CHARS
    api_key: str | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    connect_timeout: float = 5.0
    timeout: float = 30.0
    daily_token_budget: int | None = 200_000
    clock: Clock | None = None
    metrics: Metrics | None = None


Factory = Callable[[SummarizerOptions], Summarizer]


def _extractive(options: SummarizerOptions) -> Summarizer:
    return ExtractiveSummarizer(max_chars=options.max_chars)


def _llm(options: SummarizerOptions) -> Summarizer:
    from summarizer.llm import LLMSummarizer  # the one place that loads openai

    if options.clock is None:
        raise ValueError("the LLM summarizer needs the bot's clock (SummarizerOptions.clock)")
    return LLMSummarizer(
        api_key=options.api_key,
        base_url=options.base_url,
        model=options.model,
        fallback=_extractive(options),
        connect_timeout=options.connect_timeout,
        timeout=options.timeout,
        daily_token_budget=options.daily_token_budget,
        clock=options.clock,
        metrics=options.metrics,
    )


_REGISTRY: dict[str, Factory] = {"extractive": _extractive, "llm": _llm}


def known_kinds() -> tuple[str, ...]:
    """The names :func:`make_summarizer` accepts, sorted."""
    return tuple(sorted(_REGISTRY))


def make_summarizer(kind: str, *, options: SummarizerOptions) -> Summarizer:
    """Build the summarizer registered under ``kind``.

    Args:
        kind: "extractive" (offline) or "llm" (OpenAI-compatible, extractive fallback).
        options: Limits, credentials and endpoints.

    Returns:
        A ready summarizer.

    Raises:
        ValueError: If ``kind`` is not registered; the message lists the known names.
    """
    try:
        factory = _REGISTRY[kind]
    except KeyError:
        known = ", ".join(known_kinds())
        raise ValueError(f"unknown summarizer {kind!r}; known: {known}") from None
    return factory(options)

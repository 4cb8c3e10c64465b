"""Summarizers by name."""

from __future__ import annotations

import pytest

from bot.clock import ManualClock
from summarizer.extractive import ExtractiveSummarizer
from summarizer.llm import LLMSummarizer
from summarizer.registry import SummarizerOptions, known_kinds, make_summarizer
from tests.conftest import python_prints


def test_extractive_by_name() -> None:
    """ "extractive" builds the offline summarizer with the given limit."""
    summarizer = make_summarizer("extractive", options=SummarizerOptions(max_chars=200))
    assert isinstance(summarizer, ExtractiveSummarizer)
    article = "The bridge reopened on Monday after repairs. " * 20
    assert len(summarizer.summarize_text("", article).text) <= 200


async def test_llm_by_name_names_its_model() -> None:
    """ "llm" builds the LLM summarizer; its key carries the model."""
    options = SummarizerOptions(
        api_key="sk-test", base_url="http://127.0.0.1:9/v1", model="m1", clock=ManualClock()
    )
    summarizer = make_summarizer("llm", options=options)
    assert isinstance(summarizer, LLMSummarizer)
    assert summarizer.key == "llm:m1"
    await summarizer.aclose()


def test_llm_needs_the_bots_clock() -> None:
    """There is one clock: the LLM summarizer is never built on a wall clock of its own."""
    with pytest.raises(ValueError, match="clock"):
        make_summarizer("llm", options=SummarizerOptions(api_key="k"))


def test_unknown_kind_lists_the_known_ones() -> None:
    """A typo is an error that says what exists."""
    with pytest.raises(ValueError, match="extractive, llm"):
        make_summarizer("lexrank", options=SummarizerOptions())
    assert known_kinds() == ("extractive", "llm")


def test_registry_import_does_not_load_openai() -> None:
    """The core may import the registry: the SDK loads only when an LLM summarizer is made."""
    code = "import sys, summarizer.registry; print('openai' in sys.modules)"
    assert python_prints(code).strip() == "False"

"""The quality bar of issue 3: the extractive summarizer scores at least Lead-3's ROUGE.

Measured by the benchmark's own harness on the human-written summaries in
``../shared/corpus/summaries/dev.jsonl`` (ROUGE-1/2/L F1 with stemming, best over each
article's references). sumy's baselines are left to ``python -m bench summaries``.
"""

from __future__ import annotations

import pytest

from bench.summaries import CORPUS, Score, compare, extractive, lead_3, load_examples


@pytest.fixture(scope="module")
def scores() -> dict[str, Score]:
    """Both systems scored in one run of the harness (skipped without the corpus)."""
    if not CORPUS.is_file():
        pytest.skip(f"corpus not available at {CORPUS} (it is beside the repo in CI)")
    examples = load_examples(CORPUS)
    return compare({"ours": extractive, "lead3": lead_3}, examples, rounds=1)


@pytest.mark.parametrize("metric", ["rouge1", "rouge2", "rougeL"])
def test_extractive_at_least_lead_3(scores: dict[str, Score], metric: str) -> None:
    """ROUGE F1 of the product configuration is at least Lead-3's on this metric."""
    ours, lead3 = getattr(scores["ours"], metric), getattr(scores["lead3"], metric)
    assert ours >= lead3, f"{metric}: extractive {ours} < Lead-3 {lead3}"


def test_summaries_are_about_as_long_as_the_references(scores: dict[str, Score]) -> None:
    """Summaries average 250-450 characters, the band the references sit in."""
    assert 250 <= scores["ours"].chars <= 450

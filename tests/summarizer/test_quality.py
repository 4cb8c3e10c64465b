"""Regression guards on the extractive summarizer's quality, with the benchmark's harness.

On the human-written summaries in ``../shared/corpus/summaries/dev.jsonl`` (ROUGE-1/2/L F1
with stemming, best over each article's references). These are scores on the data the
settings were chosen on, so they guard against regressions and prove nothing about unseen
news: the held-out result is the cross-validation of ``python -m bench summaries``.
"""

from __future__ import annotations

import pytest

from bench.summaries import (
    CORPUS,
    Score,
    compare,
    cross_validate,
    extractive,
    lead_3,
    lead_to_length,
    length_sensitivity,
    load_examples,
)
from summarizer.extractive import Tuning


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


def test_cross_validation_chooses_on_training_folds_only() -> None:
    """Each fold's choice comes from the grid and is scored on its held-out articles."""
    if not CORPUS.is_file():
        pytest.skip(f"corpus not available at {CORPUS} (it is beside the repo in CI)")
    examples = load_examples(CORPUS)[:15]
    grid = {"target_chars": (150, 300), "position_decay": (3.0,)}
    cv = cross_validate(examples, grid, k=3, repeats=1)
    assert len(cv.folds) == 3
    allowed = {Tuning(target_chars=150), Tuning(target_chars=300)}
    assert {f.chosen for f in cv.folds} <= allowed and cv.best_on_all in allowed
    for fold in cv.folds:
        assert set(fold.scores) == {"extractive", "lead to length", "Lead-3"}
        assert all(0 < value < 100 for value in fold.scores["Lead-3"])


def test_lead_to_length_stops_at_the_target() -> None:
    """The length-matched lead takes first sentences until the target, within the cap."""
    text = "One short sentence here. " * 3 + "A fourth one follows. And a fifth."
    assert lead_to_length(text, 30) == "One short sentence here. One short sentence here."
    assert len(lead_to_length(text, 1000, max_chars=60)) <= 60


def test_length_sensitivity_scores_every_system_in_every_regime() -> None:
    """The reference-length table has one row per (regime, system), scores in range."""
    if not CORPUS.is_file():
        pytest.skip(f"corpus not available at {CORPUS} (it is beside the repo in CI)")
    table = length_sensitivity(load_examples(CORPUS)[:6]).splitlines()
    rows = table[2:]
    assert len(rows) == 4 * 4
    assert all(0 < float(cell) < 100 for row in rows for cell in row.strip("| ").split(" | ")[2:])

"""Cross-validation splits and fold statistics used by the quality benches."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.crossval import folds, spread


@given(st.integers(min_value=5, max_value=80), st.integers(min_value=2, max_value=5))
def test_each_shuffle_holds_out_every_item_exactly_once(n: int, k: int) -> None:
    """Per shuffle, the held-out folds partition the items and never meet their training."""
    splits = list(folds(n, k=k, repeats=2, seed=1))
    assert len(splits) == 2 * k
    for start in (0, k):
        held = np.concatenate([h for _, h in splits[start : start + k]])
        assert sorted(held.tolist()) == list(range(n))
    for train, held_out in splits:
        assert not set(train.tolist()) & set(held_out.tolist())
        assert len(train) + len(held_out) == n


def test_same_seed_same_splits() -> None:
    """Splits are reproducible from their seed and differ between shuffles."""
    first = [h.tolist() for _, h in folds(20, seed=3)]
    again = [h.tolist() for _, h in folds(20, seed=3)]
    assert first == again
    assert first[:5] != first[5:10]


def test_fewer_items_than_folds_is_an_error() -> None:
    """Three items cannot make five folds."""
    with pytest.raises(ValueError, match="cannot make"):
        list(folds(3, k=5))


def test_spread_reports_mean_sd_and_range() -> None:
    """Mean, sample standard deviation and range of per-fold numbers."""
    s = spread([1.0, 2.0, 3.0])
    assert (s.mean, s.sd, s.low, s.high) == (2.0, 1.0, 1.0, 3.0)
    assert str(s) == "2.00 ± 1.00"
    assert spread([4.0]).sd == 0.0

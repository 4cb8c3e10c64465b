"""K-fold cross-validation helpers shared by the quality benches.

A setting chosen by looking at scores is chosen on training folds and scored on the fold
it never saw; :func:`folds` makes the splits (repeated over shuffles, so a lucky split
cannot carry the result) and :func:`spread` summarizes held-out numbers across folds.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Spread", "folds", "spread"]


@dataclass(frozen=True)
class Spread:
    """A held-out number across folds: mean, sample standard deviation, range."""

    mean: float
    sd: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.mean:.2f} ± {self.sd:.2f}"


def folds(
    n: int, k: int = 5, repeats: int = 4, seed: int = 0
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Split ``range(n)`` into ``k`` folds, ``repeats`` times over fresh shuffles.

    Args:
        n: How many items.
        k: Folds per shuffle.
        repeats: How many shuffles.
        seed: Seed of the shuffles (the same seed gives the same splits).

    Yields:
        (training indices, held-out indices) per fold, ``k * repeats`` in all.

    Raises:
        ValueError: If there are fewer items than folds.
    """
    if n < k:
        raise ValueError(f"{n} items cannot make {k} folds")
    rng = np.random.default_rng(seed)
    for _ in range(repeats):
        order = rng.permutation(n)
        for held_out in np.array_split(order, k):
            yield np.setdiff1d(order, held_out), np.sort(held_out)


def spread(values: Sequence[float]) -> Spread:
    """Mean, standard deviation (0 for one value) and range of per-fold numbers."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return Spread(statistics.fmean(values), sd, min(values), max(values))

"""Process-wide settings the CLI applies before any work starts."""

from __future__ import annotations

from bot.app.memory import limit_blas_threads


def test_blas_threads_default_to_one_unless_the_operator_chose() -> None:
    """OPENBLAS_NUM_THREADS becomes 1 when unset; a value the operator set is kept, and so
    is an OMP_NUM_THREADS (which OpenBLAS also reads)."""
    unset: dict[str, str] = {}
    limit_blas_threads(unset)
    assert unset == {"OPENBLAS_NUM_THREADS": "1"}
    chosen = {"OPENBLAS_NUM_THREADS": "4"}
    limit_blas_threads(chosen)
    assert chosen == {"OPENBLAS_NUM_THREADS": "4"}
    omp = {"OMP_NUM_THREADS": "2"}
    limit_blas_threads(omp)
    assert omp == {"OMP_NUM_THREADS": "2"}

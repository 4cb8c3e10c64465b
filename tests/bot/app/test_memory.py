"""Process-wide settings the CLI applies before any work starts."""

from __future__ import annotations

import platform

import pytest

from bot.app.memory import limit_blas_threads
from tests.conftest import python_prints


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


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt's arena cap is glibc's")
def test_malloc_arenas_are_capped_on_glibc_without_a_subprocess() -> None:
    """On glibc the arena cap is applied, and finding ``mallopt`` starts no process
    (``ldconfig``): the call is made through the symbols the interpreter already has."""
    probe = (
        "import subprocess, sys\n"
        "started = []\n"
        "sys.addaudithook(lambda e, a: started.append(e) if e == 'subprocess.Popen' else None)\n"
        "from bot.app.memory import limit_malloc_arenas\n"
        "print(limit_malloc_arenas(), started)\n"
    )
    assert python_prints(probe).strip() == "True []"


def test_start_up_runs_without_the_collector_then_freezes_what_it_made() -> None:
    """The collector rests while modules load; when the command starts it collects again,
    with the objects start-up made frozen out of its walks."""
    probe = (
        "import gc\n"
        "from bot.app.memory import collect_after_start_up, start_collecting\n"
        "collect_after_start_up()\n"
        "resting = not gc.isenabled()\n"
        "start_collecting()\n"
        "print(resting, gc.isenabled(), gc.get_freeze_count() > 0)\n"
    )
    assert python_prints(probe).split() == ["True", "True", "True"]

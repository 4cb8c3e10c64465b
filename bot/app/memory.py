"""Process-wide memory and thread settings, applied once by the CLI before any thread
starts.

glibc gives every thread that allocates its own malloc arena (up to 8 per core), and an
arena keeps the memory its thread freed. Ingest parses in worker threads and SQLite writes
in another, so a cold ingest of 137 feeds peaked 30 MiB higher with the default arenas than
with one (144 against 111 MiB; ``python -m bench ingest`` shows the peak RSS), at the same
speed: the threads take turns on the GIL anyway. Elsewhere this does nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
from collections.abc import MutableMapping

_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h
MALLOC_ARENAS = 1


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process; whether it was applied.

    ``mallopt`` is looked up among the symbols the process already has (the interpreter
    links the C library): ``ctypes.util.find_library`` would run ``ldconfig -p`` in a
    subprocess on every start, 10-30 ms and 2 MiB for a name already loaded.
    """
    with contextlib.suppress(OSError, AttributeError):
        return bool(ctypes.CDLL(None).mallopt(_M_ARENA_MAX, arenas))
    return False


def limit_blas_threads(environ: MutableMapping[str, str] = os.environ) -> None:
    """Keep numpy's BLAS (OpenBLAS) on the calling thread unless the operator chose
    (``OPENBLAS_NUM_THREADS`` or ``OMP_NUM_THREADS``).

    newsbrief's own code no longer uses numpy (fingerprints are computed with the standard
    library); matplotlib still imports it when ``run`` draws a poll chart. OpenBLAS starts
    its threads when numpy is imported and they spin between calls: when fingerprints
    still used numpy they cost a cold ingest about 0.15 s of CPU for no speed. Read when
    numpy is first imported, so this runs before that.
    """
    if "OMP_NUM_THREADS" not in environ:  # OpenBLAS reads that one too: a choice as well
        environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def collect_after_start_up() -> None:
    """Let the garbage collector rest while newsbrief starts (see :func:`start_collecting`).

    Loading modules makes hundreds of thousands of objects that live as long as the
    process, and the collector, run every 700 allocations, kept walking them: about 45 ms
    of the 0.34 s of CPU that ``newsbrief ingest`` took with no feeds.
    """
    gc.disable()


def start_collecting() -> None:
    """Collect garbage again, once the command has started, leaving what start-up made
    (modules, classes, functions) out of every later collection (``gc.freeze``)."""
    gc.freeze()
    gc.enable()

"""Benchmarks: ``python -m bench NAME`` (or ``make bench`` for all). Not tests: each prints a
table that measures newsbrief against the competing approach in the same run."""

import asyncio
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

Rows = list[tuple[str, str]]


def run_table(name: str, run: Callable[[Path], Coroutine[Any, Any, Rows]]) -> int:
    """Run a benchmark in a temporary folder and print its two-column table."""
    with tempfile.TemporaryDirectory() as tmp:
        rows = asyncio.run(run(Path(tmp)))
    width = max(len(key) for key, _ in rows)
    print(f"\n## {name} (python -m bench {name})\n")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0

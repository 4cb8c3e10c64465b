"""Stories as readers see them: the words shared by every platform's rendering of a
story's posts and of ``/summary`` answered by story. Pure."""

from __future__ import annotations


def sources_line(count: int) -> str:
    """How a story's number of sources reads: ``1 source so far``, ``3 sources so far``."""
    return f"{count} source so far" if count == 1 else f"{count} sources so far"

"""Regex filters: newsbrief's RE2 filters beside Python's backtracking ``re`` on the same
patterns and texts, in the same run.

Hostile: ``(a+)+$`` against ``"a" * n + "!"``. ``re`` runs in a child process (a stuck
C-level match cannot be interrupted in-process) with a deadline; its time doubles with
each extra character. RE2 runs on titles up to 100,000 characters.

Honest: 20 ordinary include/exclude patterns (words, alternations, anchors on tags) over the
real corpus articles' titles and texts, what routing does for each new article and channel.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import Rows, run_table
from bot.feeds.parse import parse_feed
from bot.ingest.filters import passes
from bot.types import Filters

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"
HOSTILE = "(a+)+$"
RE_DEADLINE = 20.0  # seconds one stdlib match may take before it counts as "never"
INCLUDE = (
    r"venezuela|caracas",
    r"\bukrain\w*",
    r"oil (price|output)s?",
    r"^(politics|world)$",
    r"elect(ion|ed|oral)",
    r"climate|emission",
    r"\b(nato|un|eu)\b",
    r"interest rates?",
    r"strike(s|rs)?\b",
    r"earthquake|flood|storm",
)
EXCLUDE = (
    r"^sports?$",
    r"football|soccer|cricket",
    r"horoscope",
    r"\bsponsored\b",
    r"celebrity|gossip",
    r"recipe",
    r"crossword",
    r"\blive blog\b",
    r"opinion:",
    r"(?:deal|offer)s? of the day",
)


def _stdlib_seconds(n: int) -> float | None:
    """Seconds ``re`` takes on ``(a+)+$`` against ``"a" * n + "!"``; None past the deadline."""
    code = (
        f"import re,time;s='a'*{n}+'!';t=time.perf_counter();"
        f"re.search({HOSTILE!r},s);print(time.perf_counter()-t)"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=RE_DEADLINE
        )
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout)


def _re2_seconds(n: int) -> float:
    text = "a" * n + "!"
    started = time.perf_counter()
    assert not passes(Filters((HOSTILE,)), text, text)
    return time.perf_counter() - started


def _articles() -> list[tuple[str, str, tuple[str, ...]]]:
    found = []
    for path in sorted(CORPUS.glob("*.xml")):
        try:
            feed = parse_feed(path.read_bytes())
        except Exception:  # a corpus file that is no feed is skipped
            continue
        found += [(e.title, e.text, e.tags) for e in feed.entries]
    return found


def _stdlib_passes(
    include: Sequence[re.Pattern[str]], exclude: Sequence[re.Pattern[str]]
) -> Callable[[str, str, tuple[str, ...]], bool]:
    def check(title: str, text: str, tags: tuple[str, ...]) -> bool:
        fields = (title, text, *tags)
        if any(p.search(f) for p in exclude for f in fields):
            return False
        return any(p.search(f) for p in include for f in fields)

    return check


def _best_of(runs: int, work: Callable[[], int]) -> tuple[float, int]:
    best, result = float("inf"), 0
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


async def _run(tmp: Path) -> Rows:
    rows: Rows = [("hostile pattern", f"{HOSTILE} against 'a' * n + '!'")]
    for n in (20, 22, 24, 26, 28, 30):
        seconds = _stdlib_seconds(n)
        shown = f"{seconds * 1000:.0f} ms" if seconds is not None else f"> {RE_DEADLINE:g} s"
        rows.append((f"  python re, n = {n}", shown))
        if seconds is None:
            break
    for n in (30, 1_000, 100_000):
        rows.append((f"  newsbrief (RE2), n = {n:,}", f"{_re2_seconds(n) * 1e6:.0f} µs"))
    articles = _articles()
    filters = Filters(INCLUDE, EXCLUDE)
    ours, kept = _best_of(3, lambda: sum(passes(filters, *a) for a in articles))
    flags = re.IGNORECASE
    stdlib = _stdlib_passes(
        [re.compile(p, flags) for p in INCLUDE], [re.compile(p, flags) for p in EXCLUDE]
    )
    theirs, kept_re = _best_of(3, lambda: sum(stdlib(*a) for a in articles))
    count = max(len(articles), 1)
    rows += [
        ("honest patterns (10 include, 10 exclude)", f"{len(articles)} corpus articles"),
        ("  newsbrief (RE2)", f"{ours:.3f} s, {ours / count * 1e6:.0f} µs/article, kept {kept}"),
        ("  python re", f"{theirs:.3f} s, {theirs / count * 1e6:.0f} µs/article, kept {kept_re}"),
    ]
    return rows


def main() -> int:
    """Print the table."""
    return run_table("regex", _run)

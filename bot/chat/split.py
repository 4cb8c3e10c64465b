"""The one message splitter: cut text to a platform's length limit at natural places.

Every platform counts its limits differently (Telegram and Discord both count UTF-16 code
units; Discord's escaping may add a backslash before some characters), so the cost of each
character is a parameter. Platforms lay text out as :class:`Span` runs, split them here and
serialize each chunk themselves, so a cut never falls inside a tag, an entity or an escape.

Where a chunk ends, in order of preference: a blank line, a line break, the end of a
sentence, a space; the strongest kind that still fills at least half of the chunk wins,
else the last boundary of any kind. Without any, the cut falls between grapheme clusters
(what a reader sees as one character: an emoji with its joiners, a flag, a letter with its
accents), and only inside a cluster when one cluster alone exceeds the limit.

Whitespace at a cut starts the next part, so every part keeps within its budget and the
parts joined are exactly the text; renderers may strip it (:func:`strip_spans`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate

import regex

Cost = Callable[[str], int]
"""The cost of one code point towards a limit (non-negative)."""

PARAGRAPH, LINE, SENTENCE, WORD = 4, 3, 2, 1

_CLUSTER = regex.compile(r"\X")
# Whitespace a line may break at: not the no-break spaces, which exist to prevent that.
_GAP = re.compile(r"[^\S\xa0\u2007\u202f]+")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_SENTENCE_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")


@dataclass(frozen=True)
class Mark:
    """Formatting around a run of text; each platform decides how to write it.

    Attributes:
        tag: what the run is, e.g. ``"b"``, ``"i"``, ``"a"``, ``"blockquote"``.
        href: the target of a link (empty for other marks).
    """

    tag: str
    href: str = ""


@dataclass(frozen=True)
class Span:
    """A run of raw (unescaped) text and the marks around it, outermost first.

    Attributes:
        text: the visible text.
        marks: the formatting around it, outermost first.
        keep_whole: never cut inside this run unless it alone exceeds a chunk (a link
            written out in full, for example).
    """

    text: str
    marks: tuple[Mark, ...] = ()
    keep_whole: bool = False


@dataclass(frozen=True)
class _Layout:
    """Where a text may be cut, and what each prefix of it costs."""

    text: str
    units: list[int]  # units[i] is the cost of text[:i]
    cuttable: list[bool]  # cuttable[i]: a preferred cut may fall before text[i]
    allowed: list[int]  # cluster boundaries outside kept runs, ascending
    clusters: list[int]  # every cluster boundary, ascending


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (a character outside the BMP counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_units(char: str) -> int:
    """The UTF-16 code units of one code point: the default :data:`Cost`."""
    return 2 if ord(char) > 0xFFFF else 1


def chunk_ranges(
    text: str,
    limit: int,
    *,
    first_limit: int | None = None,
    cost: Cost | None = None,
    keep: Sequence[tuple[int, int]] = (),
) -> list[tuple[int, int]]:
    """Cut ``text`` into consecutive ``(start, end)`` ranges, each within its budget.

    Args:
        text: the visible text.
        limit: the budget of every chunk but the first.
        first_limit: the budget of the first chunk (e.g. a photo caption); ``limit`` if None.
        cost: the cost of one code point; UTF-16 code units if None.
        keep: ``(start, end)`` runs not to cut inside unless one alone exceeds a budget.

    Returns:
        Ranges covering the whole text in order (none for an empty text). Each costs at
        most its budget, unless a single code point costs more than the budget.

    Raises:
        ValueError: a limit below 1.
    """
    if limit < 1 or (first_limit is not None and first_limit < 1):
        raise ValueError(f"limits must be at least 1, not {limit} and {first_limit}")
    layout = _layout(text, cost or utf16_units, keep)
    ranges: list[tuple[int, int]] = []
    start, budget = 0, limit if first_limit is None else first_limit
    while start < len(text):
        end = _next_cut(layout, start, budget)
        ranges.append((start, end))
        start, budget = end, limit
    return ranges


def split_text(
    text: str, limit: int, *, first_limit: int | None = None, cost: Cost | None = None
) -> list[str]:
    """Cut plain text into parts within the limits; joined, the parts are ``text``.

    Raises:
        ValueError: a limit below 1.
    """
    ranges = chunk_ranges(text, limit, first_limit=first_limit, cost=cost)
    return [text[start:end] for start, end in ranges]


def split_spans(
    spans: Sequence[Span], limit: int, *, first_limit: int | None = None, cost: Cost | None = None
) -> list[list[Span]]:
    """Cut spans into chunks within the limits, measured on their visible text.

    Each chunk holds the slices of the spans that fall in it, marks kept, so a serializer
    can close a tag at the end of one chunk and reopen it in the next.

    Raises:
        ValueError: a limit below 1.
    """
    text = "".join(span.text for span in spans)
    keep = _kept_runs(spans)
    ranges = chunk_ranges(text, limit, first_limit=first_limit, cost=cost, keep=keep)
    return [slice_spans(spans, start, end) for start, end in ranges]


def slice_spans(spans: Sequence[Span], start: int, end: int) -> list[Span]:
    """The spans' content between visible offsets ``start`` and ``end`` (no empty span)."""
    sliced: list[Span] = []
    offset = 0
    for span in spans:
        low, high = max(start, offset), min(end, offset + len(span.text))
        if low < high:
            sliced.append(replace(span, text=span.text[low - offset : high - offset]))
        offset += len(span.text)
    return sliced


def join_blocks(blocks: Sequence[Sequence[Span]], separator: str) -> list[Span]:
    """Lay blocks out one after another with ``separator`` between them; blank blocks
    (whitespace only) are left out."""
    kept = [block for block in blocks if "".join(span.text for span in block).strip()]
    spans: list[Span] = []
    for block in kept:
        if spans:
            spans.append(Span(separator))
        spans.extend(block)
    return spans


def strip_spans(spans: Sequence[Span]) -> list[Span]:
    """The spans without the whitespace at the start and end of their visible text."""
    text = "".join(span.text for span in spans)
    start, end = len(text) - len(text.lstrip()), len(text.rstrip())
    return slice_spans(spans, start, end) if start < end else []


# -- layout -------------------------------------------------------------------------------


def _layout(text: str, cost: Cost, keep: Sequence[tuple[int, int]]) -> _Layout:
    clusters = [match.start() for match in _CLUSTER.finditer(text)] + [len(text)]
    cuttable = [False] * (len(text) + 1)
    for position in clusters:
        cuttable[position] = True
    for low, high in keep:
        for position in range(low + 1, high):
            cuttable[position] = False
    allowed = [position for position in clusters if cuttable[position]]
    units = [0, *accumulate(map(cost, text))]
    return _Layout(text, units, cuttable, allowed, clusters)


def _kept_runs(spans: Sequence[Span]) -> list[tuple[int, int]]:
    starts = [0, *accumulate(len(span.text) for span in spans)]
    return [(starts[i], starts[i + 1]) for i, span in enumerate(spans) if span.keep_whole]


# -- cutting ------------------------------------------------------------------------------


def _next_cut(layout: _Layout, start: int, budget: int) -> int:
    """Where the chunk starting at ``start`` ends."""
    ceiling = layout.units[start] + budget
    if layout.units[-1] <= ceiling:
        return len(layout.text)
    end = _furthest(layout.allowed, layout.units, ceiling)
    if end <= start:
        return _hard_cut(layout, start, ceiling)
    return _boundary(layout, start, end, budget) or end


def _furthest(positions: Sequence[int], units: list[int], ceiling: int) -> int:
    """The last of ascending ``positions`` whose prefix costs at most ``ceiling``."""
    return positions[bisect_right(positions, ceiling, key=units.__getitem__) - 1]


def _boundary(layout: _Layout, start: int, end: int, budget: int) -> int | None:
    """The last boundary in (start, end] of the strongest kind that fills at least half
    the budget; else the last boundary of any kind; None if there is none."""
    last: dict[int, int] = {}
    for gap in _GAP.finditer(layout.text, start):
        if gap.start() > end:
            break
        if gap.start() > start and layout.cuttable[gap.start()]:
            last[_strength(layout.text, gap)] = gap.start()
    for strength in (PARAGRAPH, LINE, SENTENCE, WORD):
        position = last.get(strength)
        if position is not None and 2 * (layout.units[position] - layout.units[start]) >= budget:
            return position
    return max(last.values(), default=None)


def _strength(text: str, gap: re.Match[str]) -> int:
    breaks = len(_LINE_BREAK.findall(gap.group()))
    if breaks >= 2:
        return PARAGRAPH
    if breaks == 1:
        return LINE
    return SENTENCE if _SENTENCE_END.search(text, max(0, gap.start() - 8), gap.start()) else WORD


def _hard_cut(layout: _Layout, start: int, ceiling: int) -> int:
    """Cut between clusters; inside a kept run or a cluster only when it alone is too big."""
    end = _furthest(layout.clusters, layout.units, ceiling)
    if end <= start:
        end = bisect_right(layout.units, ceiling) - 1
    return max(end, start + 1)

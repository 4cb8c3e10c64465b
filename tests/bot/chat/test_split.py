"""The one message splitter: parts that fit, cut at natural places, never inside a
character a reader sees as one."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.chat.split import (
    Mark,
    Span,
    chunk_ranges,
    join_blocks,
    slice_spans,
    split_spans,
    split_text,
    strip_spans,
    utf16_len,
)

# Pieces dense in what splitting gets wrong: astral characters, joined emoji, flags,
# combining marks, CRLF, long words, whitespace runs, sentence ends.
_PIECES = [
    *("a", "word", "Sentence.", "Why?", "x" * 30, ".", "*"),
    *(" ", "   ", "\t", "\xa0", "\n", "\r\n", "\n\n", "\r\n\r\n", " \n \n "),
    *("😀", "👩\u200d👩\u200d👧", "🇫🇷", "🇩🇪", "👍🏽", "e\u0301", "\u0301", "\u200d", "\ufe0f"),
    *("\u0600 ", "क्षि", "\u1100\u1161\u11a8"),
]
TEXTS = st.text(st.characters(codec="utf-8")) | st.lists(st.sampled_from(_PIECES)).map("".join)
LIMITS = st.integers(min_value=2, max_value=60)
FIRST_LIMITS = st.none() | LIMITS


def cluster_sizes(text: str) -> dict[int, int]:
    """For every offset inside a grapheme cluster (not at its start), the cluster's size."""
    inside: dict[int, int] = {}
    for cluster in regex.finditer(r"\X", text):
        for offset in range(cluster.start() + 1, cluster.end()):
            inside[offset] = utf16_len(cluster.group())
    return inside


def budgets(count: int, limit: int, first_limit: int | None) -> list[int]:
    first = [limit if first_limit is None else first_limit]
    return (first + [limit] * count)[:count]


@settings(deadline=None)
@given(text=TEXTS, limit=LIMITS, first_limit=FIRST_LIMITS)
def test_parts_rebuild_the_text_within_their_budgets(
    text: str, limit: int, first_limit: int | None
) -> None:
    """Joined, the parts are the text; each is non-empty and within its budget in UTF-16."""
    parts = split_text(text, limit, first_limit=first_limit)
    assert "".join(parts) == text
    assert all(parts)
    for part, budget in zip(parts, budgets(len(parts), limit, first_limit), strict=True):
        assert utf16_len(part) <= budget


@settings(deadline=None)
@given(text=TEXTS, limit=LIMITS, first_limit=FIRST_LIMITS)
def test_no_cut_inside_a_grapheme_cluster_that_fits(
    text: str, limit: int, first_limit: int | None
) -> None:
    """A cut falls between grapheme clusters, unless one cluster alone exceeds the budget."""
    ranges = chunk_ranges(text, limit, first_limit=first_limit)
    inside = cluster_sizes(text)
    for (_, end), budget in zip(ranges, budgets(len(ranges), limit, first_limit), strict=True):
        assert end not in inside or inside[end] > budget, (text, end)


_MARK_SETS = st.lists(st.sampled_from([Mark("b"), Mark("i"), Mark("a", "https://e.org")]))
SPANS = st.lists(st.builds(Span, TEXTS, _MARK_SETS.map(tuple), st.booleans()), max_size=6)


@settings(deadline=None)
@given(spans=SPANS, limit=LIMITS, first_limit=FIRST_LIMITS)
def test_span_chunks_keep_text_order_and_marks(
    spans: list[Span], limit: int, first_limit: int | None
) -> None:
    """Span chunks hold the text in order, each slice keeping the marks of its span."""
    chunks = split_spans(spans, limit, first_limit=first_limit)
    owners = [span for span in spans for _ in span.text]
    slices = [piece for chunk in chunks for piece in chunk]
    assert "".join(piece.text for piece in slices) == "".join(span.text for span in spans)
    offset = 0
    for piece in slices:
        assert piece.text
        assert (piece.marks, piece.keep_whole) == (
            owners[offset].marks,
            owners[offset].keep_whole,
        )
        offset += len(piece.text)
    texts = ["".join(piece.text for piece in chunk) for chunk in chunks]
    assert all(
        utf16_len(t) <= b
        for t, b in zip(texts, budgets(len(texts), limit, first_limit), strict=True)
    )


@settings(deadline=None)
@given(spans=SPANS, limit=st.integers(min_value=2, max_value=200))
def test_a_kept_run_that_fits_is_never_cut(spans: list[Span], limit: int) -> None:
    """A ``keep_whole`` span no bigger than a chunk ends up whole in one chunk (unless it
    starts or ends inside a grapheme cluster: the cluster is kept whole first)."""
    chunks = split_spans(spans, limit)
    pieces = [piece.text for chunk in chunks for piece in chunk if piece.keep_whole]
    inside = cluster_sizes("".join(span.text for span in spans))
    start = 0
    for span in spans:
        end = start + len(span.text)
        fits = span.text and utf16_len(span.text) <= limit
        if span.keep_whole and fits and start not in inside and end not in inside:
            assert span.text in pieces
        start = end


def test_a_paragraph_beats_a_sentence_and_a_sentence_beats_a_word() -> None:
    """The strongest boundary that fills half the budget wins: blank line, sentence, word."""
    text = "First part here. Still the first.\n\nSecond part. More words follow here."
    assert split_text(text, 50)[0] == "First part here. Still the first."
    text = "One two three four five. Six seven eight nine ten eleven"
    assert split_text(text, 30) == [
        "One two three four five.",
        " Six seven eight nine ten",
        " eleven",
    ]


def test_a_line_break_beats_a_sentence() -> None:
    """A single line break is preferred to a sentence end later in the chunk."""
    text = "A line that ends here\nand goes on. Then more words come."
    assert split_text(text, 40)[0] == "A line that ends here"


def test_no_tiny_first_chunk() -> None:
    """A blank line near the start is not used when it would leave the chunk mostly empty."""
    text = "Title\n\n" + "word " * 30
    first = split_text(text, 60)[0]
    assert first.startswith("Title\n\nword") and utf16_len(first) >= 30


def test_without_a_big_enough_boundary_the_last_one_is_used() -> None:
    """A boundary too early for the half rule is still better than cutting a word."""
    assert split_text("a " + "x" * 30, 20) == ["a", " " + "x" * 19, "x" * 11]


def test_whitespace_at_a_cut_starts_the_next_part() -> None:
    """The space a cut falls on goes with the next part, so the part before stays in budget."""
    assert split_text("aaa bbb", 5) == ["aaa", " bbb"]


def test_a_word_longer_than_a_chunk_is_cut_between_characters() -> None:
    """With no whitespace at all, the cut falls between characters."""
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_astral_characters_joined_emoji_and_flags_stay_whole() -> None:
    """Emoji count two units; joiner sequences and flags move whole to the next part."""
    assert split_text("😀" * 7, 4) == ["😀😀", "😀😀", "😀😀", "😀"]
    family = "👩\u200d👩\u200d👧"
    assert split_text("abcdef" + family, 10) == ["abcdef", family]
    assert split_text("🇫🇷🇩🇪", 5) == ["🇫🇷", "🇩🇪"]
    assert split_text("abcde\u0301", 5) == ["abcd", "e\u0301"]


def test_a_cluster_bigger_than_a_chunk_is_cut_between_code_points() -> None:
    """Only a single cluster over the budget is cut inside, and never inside a code point."""
    assert split_text("e" + "\u0301" * 5, 3) == ["e\u0301\u0301", "\u0301" * 3]
    assert split_text("👩\u200d👩\u200d👧", 3) == ["👩\u200d", "👩\u200d", "👧"]


def test_crlf_paragraphs_count_as_paragraphs() -> None:
    """``\\r\\n\\r\\n`` is a blank line, and ``\\r\\n`` is never split."""
    assert split_text("Para one.\r\n\r\nPara two is longer.", 16) == [
        "Para one.",
        "\r\n\r\nPara two is",
        " longer.",
    ]


def test_first_limit_applies_to_the_first_part_only() -> None:
    """A caption-sized first part, full-sized parts after it."""
    parts = split_text("word " * 40, 50, first_limit=12)
    assert utf16_len(parts[0]) <= 12 < utf16_len(parts[1]) <= 50


def test_cost_counts_per_character() -> None:
    """A custom cost (an escape before ``*``) shrinks how much text fits."""
    parts = split_text("*" * 10, 10, cost=lambda char: 2 if char == "*" else 1)
    assert parts == ["*" * 5, "*" * 5]


def test_a_kept_run_moves_whole_to_the_next_chunk() -> None:
    """A link written out in full is not cut when it fits a chunk of its own."""
    spans = [Span("see:"), Span("<https://e.org/a>", keep_whole=True)]
    chunks = split_spans(spans, 20)
    assert chunks == [[Span("see:")], [Span("<https://e.org/a>", keep_whole=True)]]


def test_marks_survive_a_cut() -> None:
    """Both halves of a cut span keep its marks, for the serializer to reopen."""
    bold = (Mark("b"),)
    assert split_spans([Span("aaaa bbbb", bold)], 5) == [
        [Span("aaaa", bold)],
        [Span(" bbbb", bold)],
    ]


def test_strip_and_slice_spans() -> None:
    """Whitespace at the edges goes, whatever span it sits in; slices drop empty spans."""
    spans = [Span("  "), Span(" a b ", (Mark("i"),)), Span("\n")]
    assert strip_spans(spans) == [Span("a b", (Mark("i"),))]
    assert strip_spans([Span(" \n ")]) == []
    assert slice_spans(spans, 1, 4) == [Span(" "), Span(" a", (Mark("i"),))]


def test_join_blocks_skips_blank_blocks() -> None:
    """Blocks are separated once each; a whitespace-only block leaves no double separator."""
    title, blank, body = [Span("T", (Mark("b"),))], [Span("  ")], [Span("x"), Span("y")]
    assert join_blocks([title, blank, body], "\n\n") == [*title, Span("\n\n"), *body]
    assert join_blocks([blank], "\n") == []


def test_empty_text_has_no_parts_and_limits_must_be_positive() -> None:
    """Nothing to split gives nothing; a zero limit is a programming error."""
    assert split_text("", 10) == []
    assert split_spans([], 10) == []
    with pytest.raises(ValueError):
        split_text("abc", 0)
    with pytest.raises(ValueError):
        split_text("abc", 10, first_limit=0)

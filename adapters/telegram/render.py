"""Core messages → Telegram HTML. Pure functions, no PTB.

Every piece of feed or model text is escaped; the only tags in the output are the ones added
here (``b``, ``i``, ``a href``, ``blockquote``). Text is first laid out as :class:`Span` runs
(text plus the tags around it) and only serialized after splitting, so a split can never
fall inside a tag or an entity, and every chunk opens and closes its own tags.

Limits are Telegram's, counted like Telegram counts them: UTF-16 code units of the visible
text (after entity parsing), 4096 for a message and 1024 for a caption.

Splitting contract (what the property test pins): the visible texts of the chunks, in order,
are consecutive slices of the whole visible text; what lies between two slices, and before
the first or after the last, is whitespace only. That whitespace is dropped (Telegram would
trim it from each message anyway); nothing else is lost, added or reordered.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import accumulate
from urllib.parse import urlsplit

from bot.types import PollPost, Post, Reply, ResultsPost, Source

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
POLL_QUESTION_LIMIT = 300
POLL_OPTION_LIMIT = 100

_WHITESPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")
_TAG = re.compile(r"<[^>]*>")  # safe on our own output: text never holds a raw < or >
_GLUE = frozenset("\u200d\ufe0f\ufe0e")  # zero-width joiner, variation selectors


@dataclass(frozen=True)
class Mark:
    """A tag newsbrief puts around text: ``b``, ``i``, ``blockquote``, or ``a`` with href."""

    tag: str
    href: str = ""

    def opening(self) -> str:
        if self.tag == "a":
            return f'<a href="{html.escape(self.href, quote=True)}">'
        return f"<{self.tag}>"

    def closing(self) -> str:
        return f"</{self.tag}>"


BOLD = Mark("b")
ITALIC = Mark("i")
QUOTE = Mark("blockquote")


@dataclass(frozen=True)
class Span:
    """A run of raw (unescaped) text and the tags around it, outermost first."""

    text: str
    marks: tuple[Mark, ...] = ()


def render_post(post: Post) -> list[str]:
    """An article post: bold title, summary, then the source linked to the article."""
    return split_html(_post_spans(post))


def render_reply(reply: Reply) -> list[str]:
    """A command reply: optional bold title, the text, then numbered linked sources."""
    return split_html(_reply_spans(reply))


def render_results(results: ResultsPost) -> tuple[str, list[str]]:
    """A photo caption (≤ 1024) for a results chart, and the rest as follow-up messages."""
    chunks = split_html(_reply_spans(results.reply), first_limit=CAPTION_LIMIT)
    return (chunks[0], chunks[1:]) if chunks else ("", [])


def render_poll(poll: PollPost) -> tuple[str, list[str]]:
    """A poll's question and options, cut to Telegram's poll limits (plain text)."""
    question = _truncate(poll.question.strip(), POLL_QUESTION_LIMIT)
    options = [_truncate(option.strip(), POLL_OPTION_LIMIT) for option in poll.options]
    return question, options


def plain_text(chunk: str) -> str:
    """The visible text of a chunk this module rendered (for a plain-text resend)."""
    return html.unescape(_TAG.sub("", chunk))


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits."""
    return len(text.encode("utf-16-le")) // 2


def split_html(
    spans: Sequence[Span], limit: int = MESSAGE_LIMIT, *, first_limit: int | None = None
) -> list[str]:
    """Serialize ``spans`` to HTML chunks whose visible text fits ``limit`` UTF-16 units
    (``first_limit`` for the first chunk, e.g. a caption).

    Splits at the strongest boundary that still fills at least half the chunk: a blank line,
    a line break, a sentence end, a space; a word longer than a chunk is cut between
    characters (never inside a surrogate pair or before a joiner). Whitespace-only input
    gives no chunks.
    """
    text = "".join(span.text for span in spans)
    return [
        _serialize(_slice(spans, start, end)) for start, end in _ranges(text, limit, first_limit)
    ]


# -- layout -------------------------------------------------------------------------------


def _post_spans(post: Post) -> list[Span]:
    footer = [_link(post.source.strip() or _host(post.url) or "Read more", post.url)]
    if post.published > 0:
        footer += [Span(" · "), Span(_date(post.published), (ITALIC,))]
    blocks = [[Span(post.title.strip(), (BOLD,))], [Span(post.summary.strip())], footer]
    return _join(blocks, "\n\n")


def _reply_spans(reply: Reply) -> list[Span]:
    blocks = [[Span(reply.title.strip(), (BOLD,))], [Span(reply.text.strip())]]
    if reply.sources:
        lines = [_source_line(n, source) for n, source in enumerate(reply.sources, 1)]
        blocks.append(_join(lines, "\n"))
    return _join(blocks, "\n\n")


def _source_line(number: int, source: Source) -> list[Span]:
    line = [Span(f"{number}. "), _link(source.title.strip() or source.url, source.url)]
    if source.feed.strip():
        line += [Span(" — "), Span(source.feed.strip(), (ITALIC,))]
    return line


def _link(label: str, url: str) -> Span:
    # Only web links become tags; anything else stays visible text and cannot misbehave.
    scheme = urlsplit(url.strip()).scheme.lower()
    marks = (Mark("a", url.strip()),) if scheme in ("http", "https") else ()
    return Span(label, marks)


def _join(blocks: Sequence[list[Span]], separator: str) -> list[Span]:
    kept = [block for block in blocks if "".join(span.text for span in block).strip()]
    spans: list[Span] = []
    for block in kept:
        if spans:
            spans.append(Span(separator))
        spans.extend(block)
    return spans


def _host(url: str) -> str:
    return urlsplit(url.strip()).hostname or ""


def _date(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return f"{moment.day} {moment:%b %Y}"


def _truncate(text: str, limit: int) -> str:
    if utf16_len(text) <= limit:
        return text
    kept, used = [], 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit - 1:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


# -- splitting ----------------------------------------------------------------------------


def _ranges(text: str, limit: int, first_limit: int | None) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each chunk's visible text, whitespace at the cuts dropped."""
    units = [0, *accumulate(2 if ord(char) > 0xFFFF else 1 for char in text)]
    start = _skip_space(text, 0)
    budget = first_limit or limit
    while start < len(text):
        end = _fit(units, start, budget)
        cut = len(text) if end == len(text) else _cut(text, units, start, end, budget)
        yield start, len(text[start:cut].rstrip()) + start
        start = _skip_space(text, cut)
        budget = limit


def _fit(units: list[int], start: int, budget: int) -> int:
    """The furthest end such that text[start:end] fits ``budget`` (at least one character)."""
    low, high = start + 1, len(units) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if units[middle] - units[start] <= budget:
            low = middle
        else:
            high = middle - 1
    return low


def _cut(text: str, units: list[int], start: int, end: int, budget: int) -> int:
    """Where to end a chunk that cannot hold everything from ``start``: the last boundary
    of the strongest kind in (start, end] that keeps at least half the budget; else the
    last boundary of any kind; else a hard cut."""
    last: dict[int, int] = {}  # strength -> last position
    for gap in _WHITESPACE.finditer(text, start + 1):
        if gap.start() > end:
            break
        last[_strength(text, gap)] = gap.start()
    for strength in (4, 3, 2, 1):
        position = last.get(strength)
        if position is not None and units[position] - units[start] >= budget // 2:
            return position
    return max(last.values()) if last else _hard_cut(text, start, end)


def _strength(text: str, gap: re.Match[str]) -> int:
    newlines = gap.group().count("\n")
    if newlines >= 2:
        return 4
    if newlines == 1:
        return 3
    return 2 if _SENTENCE_END.search(text, max(0, gap.start() - 8), gap.start()) else 1


def _hard_cut(text: str, start: int, end: int) -> int:
    # Back off so a joiner, a variation selector or a combining mark stays with its base.
    cut = end
    while cut > start + 1 and (
        text[cut] in _GLUE or text[cut - 1] in _GLUE or unicodedata.combining(text[cut])
    ):
        cut -= 1
    return cut


def _skip_space(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _slice(spans: Sequence[Span], start: int, end: int) -> list[Span]:
    """The spans' content between visible offsets ``start`` and ``end``."""
    sliced: list[Span] = []
    offset = 0
    for span in spans:
        low, high = max(start, offset), min(end, offset + len(span.text))
        if low < high:
            sliced.append(Span(span.text[low - offset : high - offset], span.marks))
        offset += len(span.text)
    return sliced


def _serialize(spans: Sequence[Span]) -> str:
    """HTML for spans: escape text, open and close tags so that they nest properly."""
    parts: list[str] = []
    open_marks: tuple[Mark, ...] = ()
    for span in spans:
        shared = _shared_prefix(open_marks, span.marks)
        parts.extend(mark.closing() for mark in reversed(open_marks[shared:]))
        parts.extend(mark.opening() for mark in span.marks[shared:])
        parts.append(html.escape(span.text, quote=False))
        open_marks = span.marks
    parts.extend(mark.closing() for mark in reversed(open_marks))
    return "".join(parts)


def _shared_prefix(left: tuple[Mark, ...], right: tuple[Mark, ...]) -> int:
    shared = 0
    while shared < min(len(left), len(right)) and left[shared] == right[shared]:
        shared += 1
    return shared

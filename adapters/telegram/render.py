"""Core messages → Telegram HTML. Pure functions, no PTB.

Every piece of feed or model text is escaped; the only tags in the output are the ones added
here (``b``, ``i``, ``a href``, ``blockquote``). Text is first laid out as :class:`Span` runs
(text plus the tags around it) and only serialized after splitting, so a split can never
fall inside a tag or an entity, and every chunk opens and closes its own tags.

Limits are Telegram's, counted like Telegram counts them: UTF-16 code units of the visible
text (after entity parsing), 4096 for a message and 1024 for a caption. Where to cut is the
core's decision (:mod:`bot.chat.split`); this module only lays out and serializes.

Splitting contract (what the property test pins): the visible texts of the chunks, in order,
are consecutive slices of the whole visible text; what lies between two slices, and before
the first or after the last, is whitespace only. That whitespace is dropped (Telegram would
trim it from each message anyway); nothing else is lost, added or reordered.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from bot.chat.split import Mark, Span, join_blocks, split_spans, strip_spans, utf16_len, utf16_units
from bot.chat.stories import sources_line
from bot.i18n import day_month_year
from bot.types import Message, Piece, PollPost, Post, Reply, ResultsPost, Source, StoryUpdate

__all__ = [
    "BOLD",
    "CAPTION_LIMIT",
    "ITALIC",
    "MESSAGE_LIMIT",
    "QUOTE",
    "Call",
    "Mark",
    "Span",
    "plain_text",
    "preview",
    "render_poll",
    "render_post",
    "render_post_calls",
    "render_reply",
    "render_results",
    "render_update",
    "split_html",
    "utf16_len",
]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
POLL_QUESTION_LIMIT = 300
POLL_OPTION_LIMIT = 100

_TAG = re.compile(r"<[^>]*>")  # safe on our own output: text never holds a raw < or >

# The tags newsbrief writes; a Mark's tag is the HTML tag name (``a`` takes its href).
BOLD = Mark("b")
ITALIC = Mark("i")
QUOTE = Mark("blockquote")


@dataclass(frozen=True)
class Call:
    """One Bot API request of a message, beside its chat and topic: ``sendPhoto`` of
    ``photo`` (an http(s) URL Telegram fetches) with ``text`` as its caption, or
    ``sendMessage`` of ``text`` whose link preview shows ``preview_image`` (large, above
    the text), else the page at ``preview_url`` (the article, not whatever link comes
    first in a title or template), else Telegram's default. ``text`` is Telegram HTML."""

    method: str
    text: str
    photo: str = ""
    preview_image: str = ""
    preview_url: str = ""

    def params(self) -> dict[str, Any]:
        """The request's parameters as the Bot API takes them (chat and topic aside)."""
        if self.method == "sendPhoto":
            return {"photo": self.photo, "caption": self.text, "parse_mode": "HTML"}
        params: dict[str, Any] = {"text": self.text, "parse_mode": "HTML"}
        if self.preview_image:
            params["link_preview_options"] = preview_options(self.preview_image)
        elif self.preview_url:
            params["link_preview_options"] = {"url": self.preview_url}
        return params


def preview_options(image: str) -> dict[str, Any]:
    """``link_preview_options`` that show ``image`` large, above the message's text."""
    return {"url": image, "prefer_large_media": True, "show_above_text": True}


def render_post(post: Post) -> list[str]:
    """An article post: bold title, summary, then the source linked to the article (or
    the channel's template, every value escaped); without its image."""
    return split_html(_post_spans(post))


def render_post_calls(post: Post, *, image: bool = True) -> list[Call]:
    """The requests that send a post: with its image (and ``image``), a photo whose
    caption is the whole post when it fits Telegram's 1,024 units, else messages whose
    first shows the image as its link preview; without, plain messages."""
    chunks = render_post(post)
    if not (image and post.image):
        article = post.url.strip() if _linkable(post.url) else ""
        first = Call("sendMessage", chunks[0], preview_url=article)
        return [first, *(Call("sendMessage", chunk) for chunk in chunks[1:])]
    if len(chunks) == 1 and utf16_len(plain_text(chunks[0])) <= CAPTION_LIMIT:
        return [Call("sendPhoto", chunks[0], photo=post.image)]
    first = Call("sendMessage", chunks[0], preview_image=post.image)
    return [first, *(Call("sendMessage", chunk) for chunk in chunks[1:])]


def preview(message: Message) -> list[dict[str, Any]]:
    """The Bot API requests a post or a story update is sent as (method and parameters,
    the chat aside): what ``newsbrief preview`` shows. Other messages give none."""
    if isinstance(message, Post):
        return [{"method": call.method, **call.params()} for call in render_post_calls(message)]
    if isinstance(message, StoryUpdate):
        return [
            {"method": "sendMessage", "text": chunk, "parse_mode": "HTML"}
            for chunk in render_update(message)
        ]
    return []


def render_update(update: StoryUpdate) -> list[str]:
    """A story update: the new article's bold title, only what is new, then its source
    linked, its date and how many sources the story has."""
    return split_html(_update_spans(update))


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


def split_html(
    spans: Sequence[Span], limit: int = MESSAGE_LIMIT, *, first_limit: int | None = None
) -> list[str]:
    """Serialize ``spans`` to HTML chunks whose visible text fits ``limit`` UTF-16 units
    (``first_limit`` for the first chunk, e.g. a caption).

    Cuts are :func:`bot.chat.split.split_spans`'s: at the strongest boundary that still
    fills at least half the chunk (a blank line, a line break, a sentence end, a space), a
    word longer than a chunk between grapheme clusters. Whitespace at the edges of a chunk
    is dropped, as Telegram would; whitespace-only input gives no chunks.
    """
    chunks = split_spans(strip_spans(spans), limit, first_limit=first_limit)
    return [_serialize(kept) for kept in map(strip_spans, chunks) if kept]


# -- layout -------------------------------------------------------------------------------


def _post_spans(post: Post) -> list[Span]:
    if post.layout:
        return _layout_spans(post.layout)
    footer = [_link(post.source.strip() or _host(post.url) or "Read more", post.url)]
    if post.published > 0:
        footer += [Span(" · "), Span(_date(post.published), (ITALIC,))]
    blocks = [[Span(post.title.strip(), (BOLD,))], [Span(post.summary.strip())], footer]
    return join_blocks(blocks, "\n\n")


def _layout_spans(layout: Sequence[Piece]) -> list[Span]:
    """A channel's template filled in: every piece plain escaped text (the operator's
    too), a web link's value linked."""
    return [_link(p.text, p.text) if p.field == "url" else Span(p.text) for p in layout]


def _update_spans(update: StoryUpdate) -> list[Span]:
    footer = [_link(update.source.strip() or _host(update.url) or "Read more", update.url)]
    if update.published > 0:
        footer += [Span(" · "), Span(_date(update.published), (ITALIC,))]
    footer.append(Span(f" · {sources_line(update.sources)}"))
    blocks = [[Span(update.title.strip(), (BOLD,))], [Span(" ".join(update.new).strip())]]
    return join_blocks([*blocks, footer], "\n\n")


def _reply_spans(reply: Reply) -> list[Span]:
    blocks = [[Span(reply.title.strip(), (BOLD,))], [Span(reply.text.strip())]]
    if reply.sources:
        lines = [_source_line(n, source) for n, source in enumerate(reply.sources, 1)]
        blocks.append(join_blocks(lines, "\n"))
    return join_blocks(blocks, "\n\n")


def _source_line(number: int, source: Source) -> list[Span]:
    line = [Span(f"{number}. "), _link(source.title.strip() or source.url, source.url)]
    if source.feed.strip():
        line += [Span(" — "), Span(source.feed.strip(), (ITALIC,))]
    return line


def _link(label: str, url: str) -> Span:
    # Only web links become tags; anything else stays visible text and cannot misbehave.
    marks = (Mark("a", url.strip()),) if _linkable(url) else ()
    return Span(label, marks)


def _linkable(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in ("http", "https")


def _host(url: str) -> str:
    return urlsplit(url.strip()).hostname or ""


def _date(timestamp: float) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return day_month_year(moment.day, moment.month, moment.year)


def _truncate(text: str, limit: int) -> str:
    if utf16_len(text) <= limit:
        return text
    kept, used = [], 0
    for char in text:
        used += utf16_units(char)
        if used > limit - 1:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


# -- serializing --------------------------------------------------------------------------


def _serialize(spans: Sequence[Span]) -> str:
    """HTML for spans: escape text, open and close tags so that they nest properly."""
    parts: list[str] = []
    open_marks: tuple[Mark, ...] = ()
    for span in spans:
        shared = _shared_prefix(open_marks, span.marks)
        parts.extend(_closing(mark) for mark in reversed(open_marks[shared:]))
        parts.extend(_opening(mark) for mark in span.marks[shared:])
        parts.append(html.escape(span.text, quote=False))
        open_marks = span.marks
    parts.extend(_closing(mark) for mark in reversed(open_marks))
    return "".join(parts)


def _opening(mark: Mark) -> str:
    if mark.tag == "a":
        return f'<a href="{html.escape(mark.href, quote=True)}">'
    return f"<{mark.tag}>"


def _closing(mark: Mark) -> str:
    return f"</{mark.tag}>"


def _shared_prefix(left: tuple[Mark, ...], right: tuple[Mark, ...]) -> int:
    shared = 0
    while shared < min(len(left), len(right)) and left[shared] == right[shared]:
        shared += 1
    return shared

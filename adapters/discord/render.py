"""Pure rendering of core messages for Discord: embeds as dicts, content as strings.

Nothing here talks to Discord; every function is a function of its arguments. Limits are
measured in UTF-16 code units, which is never less than the code-point count Discord may use,
so a rendered value fits whichever way Discord counts.

Message contents are laid out as :class:`~bot.chat.split.Span` runs, cut by the core's
splitter, and only then escaped, chunk by chunk: an escape is never separated from its
character, a link is never cut, and a chunk starting with ``>``, ``#`` or ``-`` is escaped
like any line start.

Feed and model text is escaped for markdown and its mentions are defused; the real guard
against pings is ``allowed_mentions=AllowedMentions.none()`` on every send.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from discord.utils import escape_markdown

from bot.chat.split import Mark, Span, join_blocks, split_spans, strip_spans, utf16_len, utf16_units
from bot.chat.stories import sources_line
from bot.types import Piece, PollPost, Post, Reply, Source, StoryUpdate

CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FOOTER_LIMIT = 256  # Discord allows 2048; a source name never needs that much
EMBED_TOTAL_LIMIT = 6000
THREAD_NAME_LIMIT = 100
POLL_QUESTION_LIMIT = 300
POLL_ANSWER_LIMIT = 55
POLL_MAX_ANSWERS = 10
POLL_MAX_HOURS = 32 * 24  # Discord's longest poll

ELLIPSIS = "…"
EMPTY_CONTENT = "\u200b"  # Discord refuses an empty message
_MENTION_RE = re.compile(r"@(everyone|here|[!&]?\d+)")

BOLD = Mark("b")
LINK = Mark("link")  # its text is already markdown, ``<url>``: sent as it is, never cut
_BOLD_MARKUP = len("****")
# Escaping adds at most one character for each of these: a backslash (escape_markdown
# doubles ``\``, and prefixes ``*_~|`` and each ``>`` quote, ``#`` heading, ``-`` list item
# or ``[`` link it finds), or a zero-width space after ``@``. Charging them 2 units keeps
# every escaped chunk within the limit the splitter measured.
_PREFIXED = frozenset("\\*_~|`>#-[@")


@dataclass(frozen=True)
class PollSpec:
    """A native poll ready for ``discord.Poll``: texts within limits, duration in hours."""

    question: str
    answers: tuple[str, ...]
    hours: int


size = utf16_len  # Discord's limits are in UTF-16 code units, counted by the core


def escape(text: str) -> str:
    """Escape markdown and defuse ``@everyone``, ``@here`` and user/role mentions."""
    return _MENTION_RE.sub("@\u200b\\1", escape_markdown(text))


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` units, ending with an ellipsis when cut.

    The cut prefers a word boundary and never leaves a lone escaping backslash at the end.
    """
    if size(text) <= limit:
        return text
    head = _prefix(text, limit - 1)
    space = head.rfind(" ")
    if space > len(head) * 3 // 4:
        head = head[:space]
    return _drop_dangling_escape(head.rstrip()) + ELLIPSIS


def post_embed(post: Post) -> dict[str, Any]:
    """Render an article post as an embed dict: linked title, summary, source and time."""
    embed: dict[str, Any] = {
        "type": "rich",
        "title": clip(escape(post.title.strip()) or "Untitled", EMBED_TITLE_LIMIT),
    }
    if _is_web_url(post.url):
        embed["url"] = post.url
    if post.summary.strip():
        embed["description"] = clip(escape(post.summary.strip()), EMBED_DESCRIPTION_LIMIT)
    if post.source.strip():
        # Footers render no markdown, so the source name is shown as it is.
        embed["footer"] = {"text": clip(_defuse(post.source.strip()), EMBED_FOOTER_LIMIT)}
    if post.published > 0:
        embed["timestamp"] = datetime.fromtimestamp(post.published, UTC).isoformat()
    return _fit_total(embed)


def post_messages(post: Post, *, image: bool = True) -> list[dict[str, Any]]:
    """The messages a post is sent as, each a ``{"content", "embeds"}`` payload: the
    standard embed (with the article's image, when ``image``), or the channel's template
    as escaped message contents split within Discord's limit, the first carrying an embed
    of the image only."""
    picture = post.image if image and _is_web_url(post.image) else ""
    if not post.layout:
        embed = post_embed(post)
        if picture:
            embed["image"] = {"url": picture}
        return [{"embeds": [embed]}]
    chunks = _chunks(_layout_spans(post.layout), CONTENT_LIMIT) or [EMPTY_CONTENT]
    first: dict[str, Any] = {"content": chunks[0]}
    if picture:
        first["embeds"] = [{"type": "rich", "image": {"url": picture}}]
    return [first, *({"content": chunk} for chunk in chunks[1:])]


def _layout_spans(layout: Sequence[Piece]) -> list[Span]:
    """A channel's template filled in: every piece plain text, escaped when serialized
    (links are left as links by the escaping, mentions defused)."""
    return [Span(piece.text) for piece in layout]


def update_embed(update: StoryUpdate) -> dict[str, Any]:
    """Render a story update as an embed: the new article's linked title, only what is
    new, and a footer with its source and how many sources the story has."""
    embed: dict[str, Any] = {
        "type": "rich",
        "title": clip(escape(update.title.strip()) or "Update", EMBED_TITLE_LIMIT),
    }
    if _is_web_url(update.url):
        embed["url"] = update.url
    new = " ".join(update.new).strip()
    if new:
        embed["description"] = clip(escape(new), EMBED_DESCRIPTION_LIMIT)
    footer = " · ".join(p for p in (update.source.strip(), sources_line(update.sources)) if p)
    embed["footer"] = {"text": clip(_defuse(footer), EMBED_FOOTER_LIMIT)}
    if update.published > 0:
        embed["timestamp"] = datetime.fromtimestamp(update.published, UTC).isoformat()
    return _fit_total(embed)


def thread_name(title: str) -> str:
    """A thread's (a forum post's) name for a story: its title, cut to Discord's 100.
    Names render no markdown, so they are cut but not escaped."""
    return clip(_defuse(" ".join(title.split())), THREAD_NAME_LIMIT) or "News"


def embed_size(embed: dict[str, Any]) -> int:
    """What Discord counts towards an embed's 6000 limit (title, description, footer...)."""
    parts = [embed.get("title", ""), embed.get("description", "")]
    parts.append(embed.get("footer", {}).get("text", ""))
    parts.append(embed.get("author", {}).get("name", ""))
    for item in embed.get("fields", []):
        parts += [item.get("name", ""), item.get("value", "")]
    return sum(size(p) for p in parts)


def reply_text(reply: Reply) -> str:
    """A reply as one markdown text: bold title, escaped text, numbered sources."""
    return _markdown(strip_spans(_reply_spans(reply))) or EMPTY_CONTENT


def reply_chunks(reply: Reply, limit: int = CONTENT_LIMIT) -> list[str]:
    """A reply as one or more message contents, each within ``limit`` UTF-16 units."""
    return _chunks(_reply_spans(reply), limit) or [EMPTY_CONTENT]


def split_content(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Escape raw ``text`` into non-empty message contents of at most ``limit`` units.

    Cuts are the core splitter's (a paragraph break, line break, sentence end or space,
    else between characters); each piece is escaped on its own, so one that starts with
    ``>``, ``#`` or ``-`` (a quote, heading or list on Discord) is escaped there too.
    Blank text gives no pieces.
    """
    return _chunks([Span(text)], limit)


def poll_spec(poll: PollPost, now: float) -> PollSpec:
    """Fit a reader poll to Discord: question ≤300, 2-10 answers ≤55, whole hours ≥1.

    Poll texts render no markdown, so they are cut but not escaped.
    """
    answers = tuple(
        clip(_defuse(option.strip()), POLL_ANSWER_LIMIT) or f"Option {i}"
        for i, option in enumerate(poll.options[:POLL_MAX_ANSWERS], 1)
    )
    question = clip(_defuse(poll.question.strip()), POLL_QUESTION_LIMIT) or "Poll"
    return PollSpec(question, answers, poll_hours(poll.close_at, now))


def poll_hours(close_at: float, now: float) -> int:
    """Discord's poll duration for a poll closing at ``close_at``: whole hours, 1 to 768.

    Rounded up, so Discord never ends a poll before newsbrief closes it.
    """
    hours = math.ceil(max(close_at - now, 0.0) / 3600)
    return min(max(hours, 1), POLL_MAX_HOURS)


def _defuse(text: str) -> str:
    return _MENTION_RE.sub("@\u200b\\1", text)


def _reply_spans(reply: Reply) -> list[Span]:
    blocks = [[Span(reply.title.strip(), (BOLD,))], [Span(reply.text.strip())]]
    if reply.sources:
        lines = [_source_line(n, source) for n, source in enumerate(reply.sources, 1)]
        blocks.append(join_blocks(lines, "\n"))
    return join_blocks(blocks, "\n\n")


def _source_line(number: int, source: Source) -> list[Span]:
    label = source.title.strip() or source.url
    if source.feed.strip():
        label += f" ({source.feed.strip()})"
    line = [Span(f"{number}. {label}")]
    if _is_web_url(source.url):
        # Angle brackets keep Discord from unfurling a preview for every source.
        line += [Span(" — "), Span(f"<{_bracket_safe(source.url)}>", (LINK,), keep_whole=True)]
    return line


def _chunks(spans: Sequence[Span], limit: int) -> list[str]:
    """Cut spans to ``limit`` after escaping, leaving room for each bold run's ``**``."""
    reserve = _BOLD_MARKUP * sum(BOLD in span.marks for span in spans)
    chunks = split_spans(strip_spans(spans), limit - reserve, cost=_escaped_units)
    return [_markdown(kept) for kept in map(strip_spans, chunks) if kept]


def _escaped_units(char: str) -> int:
    return 2 if char in _PREFIXED else utf16_units(char)


def _markdown(spans: Sequence[Span]) -> str:
    return "".join(_span_markdown(span) for span in spans)


def _span_markdown(span: Span) -> str:
    if LINK in span.marks and span.text.startswith("<") and span.text.endswith(">"):
        return span.text
    text = escape(span.text)  # includes a link too long for one message, cut
    return f"**{text}**" if BOLD in span.marks else text


def _is_web_url(url: str) -> bool:
    return url.startswith(("https://", "http://")) and not any(c.isspace() for c in url)


def _bracket_safe(url: str) -> str:
    return url.replace("<", "%3C").replace(">", "%3E")


def _fit_total(embed: dict[str, Any]) -> dict[str, Any]:
    excess = embed_size(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and "description" in embed:
        description = embed["description"]
        embed["description"] = clip(description, max(size(description) - excess, 1))
    return embed


def _prefix(text: str, limit: int) -> str:
    """The longest prefix of ``text`` that fits in ``limit`` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def _drop_dangling_escape(text: str) -> str:
    trailing = len(text) - len(text.rstrip("\\"))
    return text[:-1] if trailing % 2 else text

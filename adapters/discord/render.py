"""Pure rendering of core messages for Discord: embeds as dicts, content as strings.

Nothing here talks to Discord; every function is a function of its arguments. Limits are
measured in UTF-16 code units, which is never less than the code-point count Discord may use,
so a rendered value fits whichever way Discord counts.

Feed and model text is escaped for markdown and its mentions are defused; the real guard
against pings is ``allowed_mentions=AllowedMentions.none()`` on every send.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from discord.utils import escape_markdown

from bot.types import PollPost, Post, Reply, Source

CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
EMBED_FOOTER_LIMIT = 256  # Discord allows 2048; a source name never needs that much
EMBED_TOTAL_LIMIT = 6000
POLL_QUESTION_LIMIT = 300
POLL_ANSWER_LIMIT = 55
POLL_MAX_ANSWERS = 10
POLL_MAX_HOURS = 32 * 24  # Discord's longest poll

ELLIPSIS = "…"
_MENTION_RE = re.compile(r"@(everyone|here|[!&]?\d+)")
_LINE_START_MARKUP_RE = re.compile(r"[>#-]")  # a quote, heading or list if a line begins so
_SPLIT_SEPARATORS = ("\n\n", "\n", ". ", " ")


@dataclass(frozen=True)
class PollSpec:
    """A native poll ready for ``discord.Poll``: texts within limits, duration in hours."""

    question: str
    answers: tuple[str, ...]
    hours: int


def size(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


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
    blocks = []
    if reply.title.strip():
        blocks.append(f"**{escape(reply.title.strip())}**")
    if reply.text.strip():
        blocks.append(escape(reply.text.strip()))
    if reply.sources:
        blocks.append("\n".join(_source_line(i, s) for i, s in enumerate(reply.sources, 1)))
    return "\n\n".join(blocks) or "\u200b"


def reply_chunks(reply: Reply, limit: int = CONTENT_LIMIT) -> list[str]:
    """A reply as one or more message contents, each within ``limit``."""
    return split_content(reply_text(reply), limit)


def split_content(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Split ``text`` into non-empty pieces of at most ``limit`` units.

    Cuts fall on the last paragraph break, line break, sentence end or space that fits,
    and only when none does, inside a word. A piece that would start with ``>``, ``#``
    or ``-`` (a quote, heading or list on Discord) gets that character escaped.
    """
    budget = limit - 1  # room for the escape a new line start may need
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        cut = len(rest) if size(rest) <= budget else _cut_point(rest, budget)
        chunk, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if chunk:
            chunks.append(_guard_line_start(chunk) if chunks else chunk)
    return chunks


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


def _source_line(number: int, source: Source) -> str:
    label = escape(source.title.strip() or source.url)
    if source.feed.strip():
        label += f" ({escape(source.feed.strip())})"
    if not _is_web_url(source.url):
        return f"{number}. {label}"
    # Angle brackets keep Discord from unfurling a preview for every source.
    return f"{number}. {label} — <{_bracket_safe(source.url)}>"


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


def _cut_point(text: str, budget: int) -> int:
    head = _prefix(text, budget)
    for separator in _SPLIT_SEPARATORS:
        index = head.rfind(separator)
        if index > 0:
            return index + (1 if separator == ". " else len(separator))
    return max(len(_drop_dangling_escape(head)), 1)


def _guard_line_start(chunk: str) -> str:
    return "\\" + chunk if _LINE_START_MARKUP_RE.match(chunk) else chunk

"""Plain-text rendering for the terminal. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.chat.stories import sources_line
from bot.types import Message, PollPost, Post, Reply, ResultsPost, Source, StoryUpdate


def _when(published: float) -> str:
    return datetime.fromtimestamp(published, UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_post(post: Post) -> str:
    """An article post: title, summary, source line and link (or the channel's template
    filled in, as plain text), then its image's link when it has one."""
    if post.layout:
        lines = ["".join(piece.text for piece in post.layout).strip()]
    else:
        lines = [
            f"■ {post.title}",
            "",
            post.summary,
            "",
            f"{post.source} · {_when(post.published)}",
        ]
        lines.append(post.url)
    if post.image:
        lines.append(f"🖼 {post.image}")
    return "\n".join(lines)


def render_update(update: StoryUpdate) -> str:
    """A story update: what is new, the source, and how many sources the story has."""
    lines = [f"↳ {update.title}", ""]
    if update.new:
        lines += [" ".join(update.new), ""]
    when = f" · {_when(update.published)}" if update.published > 0 else ""
    lines += [f"{update.source}{when} · {sources_line(update.sources)}", update.url]
    return "\n".join(lines)


def render_sources(sources: tuple[Source, ...]) -> list[str]:
    """Numbered sources: ``[1] Title (outlets) url``."""
    lines = []
    for number, source in enumerate(sources, start=1):
        outlets = f" ({source.feed})" if source.feed else ""
        lines.append(f"[{number}] {source.title}{outlets}\n    {source.url}")
    return lines


def render_reply(reply: Reply) -> str:
    """A command's answer with its sources."""
    lines = [f"■ {reply.title}", ""] if reply.title else []
    lines.append(reply.text)
    if reply.sources:
        lines += ["", *render_sources(reply.sources)]
    return "\n".join(lines)


def render(message: Message) -> str:
    """Any message as terminal text."""
    if isinstance(message, Post):
        return render_post(message)
    if isinstance(message, StoryUpdate):
        return render_update(message)
    if isinstance(message, Reply):
        return render_reply(message)
    if isinstance(message, PollPost):
        options = "\n".join(f"  {i}. {o}" for i, o in enumerate(message.options, start=1))
        return f"▣ Poll: {message.question}\n{options}"
    if isinstance(message, ResultsPost):
        return render_reply(message.reply)
    raise TypeError(f"cannot render {type(message).__name__}")

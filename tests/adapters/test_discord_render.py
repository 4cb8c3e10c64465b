"""Discord rendering: pure functions from core messages to embeds, contents and polls."""

from __future__ import annotations

import operator
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord import render
from bot.types import PollPost, Post, Reply, Source, StoryTold, StoryUpdate

# Any text, including astral characters (two UTF-16 units), markdown and mention syntax;
# a repeated snippet makes the long texts (past 2000, 4096, 6000) that random text rarely is.
characters = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(["*", "_", "`", "~", "|", ">", "#", "-", "\\", "@", "\n", " ", "😀"]),
)
texts = st.one_of(
    st.text(characters, max_size=300),
    st.builds(operator.mul, st.text(characters, min_size=1, max_size=60), st.integers(1, 400)),
)
# Long inputs take a while per example; a loaded CI machine must not make these flaky.
slow_ok = settings(deadline=None)
urls = st.one_of(st.just("https://example.org/a_b?x=1"), st.text(max_size=50))
titles = st.text(max_size=400)


def _post(title: str = "Title", summary: str = "Summary", source: str = "World") -> Post:
    return Post(title, summary, "https://example.org/a", source, 1_700_000_000.0)


def _shown(text: str) -> str:
    """Text without whitespace and what escaping adds (backslashes, the zero-width space
    that defuses a mention)."""
    return re.sub(r"[\s\\\u200b]", "", text)


def test_post_embed_links_the_title_and_puts_source_and_time_in_the_footer() -> None:
    """An article post is one embed: linked title, summary, source footer, ISO time."""
    embed = render.post_embed(_post())
    assert embed["title"] == "Title"
    assert embed["url"] == "https://example.org/a"
    assert embed["description"] == "Summary"
    assert embed["footer"] == {"text": "World"}
    assert embed["timestamp"] == "2023-11-14T22:13:20+00:00"


def test_post_embed_escapes_markdown_and_defuses_mentions() -> None:
    """Feed text cannot format the embed nor look like a ping."""
    embed = render.post_embed(_post("**Big** news", "Hi @everyone and <@&123> _now_"))
    assert embed["title"] == "\\*\\*Big\\*\\* news"
    assert "@everyone" not in embed["description"]
    assert "<@&123>" not in embed["description"]
    assert "\\_now\\_" in embed["description"]


def test_post_embed_leaves_out_a_link_that_is_not_http() -> None:
    """A ``javascript:`` or empty URL is not put on the title (Discord would refuse it)."""
    post = Post("T", "S", "javascript:alert(1)", "", 0.0)
    embed = render.post_embed(post)
    assert "url" not in embed
    assert "footer" not in embed
    assert "timestamp" not in embed


@slow_ok
@given(title=titles, summary=texts, source=titles)
def test_post_embed_respects_every_limit(title: str, summary: str, source: str) -> None:
    """Whatever the feed says, the embed fits Discord's limits."""
    embed = render.post_embed(_post(title, summary, source))
    assert 0 < render.size(embed["title"]) <= render.EMBED_TITLE_LIMIT
    assert render.size(embed.get("description", "")) <= render.EMBED_DESCRIPTION_LIMIT
    assert render.size(embed.get("footer", {}).get("text", "")) <= 2048
    assert render.embed_size(embed) <= render.EMBED_TOTAL_LIMIT


def test_reply_lists_numbered_sources_without_previews() -> None:
    """Sources are numbered, name their feed, and wrap links in <> to stop unfurling."""
    reply = Reply(
        "Venezuela held talks.",
        (Source("Talks begin", "https://a.org/1", "world"), Source("More", "https://b.org/2")),
        title="venezuela",
    )
    assert render.reply_chunks(reply) == [
        "**venezuela**\n\nVenezuela held talks.\n\n"
        "1. Talks begin (world) — <https://a.org/1>\n2. More — <https://b.org/2>"
    ]


def test_long_reply_splits_on_paragraphs() -> None:
    """A reply over 2000 characters becomes several messages cut between paragraphs."""
    paragraphs = [f"Paragraph {i}. " + "word " * 150 for i in range(6)]
    chunks = render.reply_chunks(Reply("\n\n".join(p.strip() for p in paragraphs)))
    assert len(chunks) > 1
    assert all(c.startswith("Paragraph") for c in chunks)
    assert all(render.size(c) <= render.CONTENT_LIMIT for c in chunks)


def test_split_prefers_sentences_to_words() -> None:
    """Without line breaks, a cut falls after a sentence's full stop."""
    text = "First sentence here. Second sentence is longer than that."
    assert render.split_content(text, 30) == [
        "First sentence here.",
        "Second sentence is longer",
        "than that.",
    ]


def test_split_escapes_markup_at_a_new_line_start() -> None:
    """A cut that puts ``#`` at the start of a message escapes it (no accidental heading)."""
    assert render.split_content("aaaa # b", 6) == ["aaaa", "\\# b"]


@slow_ok
@given(text=texts, limit=st.integers(min_value=2, max_value=2000))
def test_split_content_fits_and_keeps_the_text(text: str, limit: int) -> None:
    """Every piece is non-empty and within the limit; together they keep all the text."""
    chunks = render.split_content(text, limit)
    assert all(chunk and render.size(chunk) <= limit for chunk in chunks)
    assert _shown("".join(chunks)) == _shown(text)


@slow_ok
@given(text=texts, sources=st.lists(st.tuples(titles, urls), max_size=12), title=titles)
def test_reply_chunks_always_fit(text: str, sources: list[tuple[str, str]], title: str) -> None:
    """Any reply renders to 1+ messages of at most 2000 characters."""
    reply = Reply(text, tuple(Source(t, u) for t, u in sources), title=title)
    chunks = render.reply_chunks(reply)
    assert chunks
    assert all(0 < render.size(c) <= render.CONTENT_LIMIT for c in chunks)


@slow_ok
@given(text=texts)
def test_escape_never_leaves_a_live_mention(text: str) -> None:
    """No @everyone, @here, user or role mention survives escaping."""
    assert not re.search(r"@(everyone|here|[!&]?\d)", render.escape(text))


@slow_ok
@given(text=texts, limit=st.integers(min_value=1, max_value=300))
def test_clip_fits_and_never_ends_on_a_lone_escape(text: str, limit: int) -> None:
    """A clipped text fits, and a cut never leaves a backslash escaping the ellipsis."""
    clipped = render.clip(render.escape(text), limit)
    assert render.size(clipped) <= limit
    if clipped.endswith(render.ELLIPSIS):
        body = clipped[: -len(render.ELLIPSIS)]
        assert (len(body) - len(body.rstrip("\\"))) % 2 == 0


def test_poll_hours_rounds_up_to_whole_hours_within_discords_range() -> None:
    """Discord polls last whole hours, 1 to 768; newsbrief ends them early when due."""
    assert render.poll_hours(close_at=600.0, now=0.0) == 1
    assert render.poll_hours(close_at=24 * 3600.0, now=0.0) == 24
    assert render.poll_hours(close_at=24 * 3600.0 + 1, now=0.0) == 25
    assert render.poll_hours(close_at=-5.0, now=0.0) == 1
    assert render.poll_hours(close_at=10**9, now=0.0) == 768


@slow_ok
@given(question=texts, options=st.lists(titles, min_size=2, max_size=14))
def test_poll_spec_fits_discord(question: str, options: list[str]) -> None:
    """Question ≤300, 2-10 answers of 1-55 characters, whatever the model proposed."""
    spec = render.poll_spec(PollPost(question, tuple(options), close_at=7200.0), now=0.0)
    assert 0 < render.size(spec.question) <= render.POLL_QUESTION_LIMIT
    assert 2 <= len(spec.answers) <= render.POLL_MAX_ANSWERS
    assert all(0 < render.size(a) <= render.POLL_ANSWER_LIMIT for a in spec.answers)
    assert spec.hours == 2


def _bare(text: str) -> str:
    """What a reader sees, give or take markup: no whitespace, escapes or asterisks."""
    return re.sub(r"[\s\\\u200b*]", "", text)


def _trailing_backslashes(text: str) -> int:
    return len(text) - len(text.rstrip("\\"))


def test_a_cut_never_separates_an_escape_from_its_character() -> None:
    """Characters that need a backslash are cut with it: no chunk ends on a lone escape."""
    for text in ("\\" * 11, "*" * 11, "a_" * 11):
        chunks = render.split_content(text, 7)
        assert all(render.size(c) <= 7 and _trailing_backslashes(c) % 2 == 0 for c in chunks)
        assert _bare("".join(chunks)) == _bare(text)


def test_a_chunk_starting_with_quote_or_list_markup_is_escaped() -> None:
    """A cut that puts ``>`` or ``-`` at the start of a message escapes it."""
    assert render.split_content("aaaa > b", 6) == ["aaaa", "\\> b"]
    assert render.split_content("aaaa - b", 6) == ["aaaa", "\\- b"]


def test_a_source_link_is_never_cut() -> None:
    """A ``<url>`` that would straddle a cut moves whole to the next message."""
    url = "https://example.org/" + "a" * 60
    reply = Reply("word " * 390, (Source("Long read", url),), title="Title")
    chunks = render.reply_chunks(reply)
    assert len(chunks) == 2
    assert chunks[1].endswith(f"1. Long read — <{url}>")
    assert all(render.size(c) <= render.CONTENT_LIMIT for c in chunks)


@slow_ok
@given(text=texts, title=titles)
def test_reply_chunks_keep_the_text_in_order(text: str, title: str) -> None:
    """Split replies lose nothing but whitespace at the cuts, and keep the order."""
    chunks = render.reply_chunks(Reply(text, title=title))
    assert all(0 < render.size(c) <= render.CONTENT_LIMIT for c in chunks)
    assert _bare("".join(chunks)) == _bare(title.strip() + text.strip())


@slow_ok
@given(
    text=texts,
    sources=st.lists(st.tuples(titles, urls, titles), max_size=12),
    title=titles,
)
def test_reply_chunks_fit_escape_whole_and_keep_links(
    text: str, sources: list[tuple[str, str, str]], title: str
) -> None:
    """Any reply: every message fits 2000 units, ends on no lone escape, keeps each link
    whole, and together they show what the unsplit reply shows, in order."""
    reply = Reply(text, tuple(Source(t, u, f) for t, u, f in sources), title=title)
    chunks = render.reply_chunks(reply)
    assert all(0 < render.size(c) <= render.CONTENT_LIMIT for c in chunks)
    assert all(_trailing_backslashes(c) % 2 == 0 for c in chunks)
    assert _bare("".join(chunks)) == _bare(render.reply_text(reply))
    for _, url, _ in sources:
        if url.startswith("https://"):
            assert any(f"<{url}>" in chunk for chunk in chunks)


def _update(title: str, new: tuple[str, ...], source: str = "Wire") -> StoryUpdate:
    told = StoryTold(1, new)
    return StoryUpdate(title, new, "https://example.org/b", source, 1_700_000_000.0, 3, "1", told)


def test_update_embed_has_only_what_is_new_and_the_sources_so_far() -> None:
    """A story update is the new article's linked title, its new sentences, and a footer
    naming its source and the story's sources; nothing new leaves no description."""
    embed = render.update_embed(_update("Day two", ("Bridges fell.", "Roads closed.")))
    assert embed["title"] == "Day two" and embed["url"] == "https://example.org/b"
    assert embed["description"] == "Bridges fell. Roads closed."
    assert embed["footer"]["text"] == "Wire · 3 sources so far"
    assert "description" not in render.update_embed(_update("Day two", ()))


@slow_ok
@given(titles, st.lists(texts, max_size=4), st.text(max_size=300))
def test_any_update_fits_an_embed_and_any_title_names_a_thread(
    title: str, new: list[str], source: str
) -> None:
    """Any update renders within Discord's embed limits; any title gives a thread name of
    1 to 100 units that cannot ping."""
    embed = render.update_embed(_update(title, tuple(new), source))
    assert render.size(embed["title"]) <= render.EMBED_TITLE_LIMIT
    assert render.embed_size(embed) <= render.EMBED_TOTAL_LIMIT
    name = render.thread_name(title)
    assert 1 <= render.size(name) <= render.THREAD_NAME_LIMIT
    assert "@everyone" not in name and "@here" not in name

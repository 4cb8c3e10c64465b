"""Core messages → Telegram HTML: escaping, layout, and splitting to Telegram's limits."""

from __future__ import annotations

import operator
import re
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.telegram.render import (
    BOLD,
    CAPTION_LIMIT,
    ITALIC,
    MESSAGE_LIMIT,
    QUOTE,
    Mark,
    Span,
    plain_text,
    render_poll,
    render_post,
    render_post_calls,
    render_reply,
    render_results,
    render_update,
    split_html,
    utf16_len,
)
from bot.chat.template import fill
from bot.types import PollPost, Post, Reply, ResultsPost, Source, StoryTold, StoryUpdate
from tests.fakes.telegram_api import parse_html

HOSTILE = '<script>alert("x")</script> & </b> &amp; <a href="javascript:x">'


def visible(chunks: list[str]) -> list[str]:
    """What readers see of each chunk, checked as Telegram would (raises on bad HTML)."""
    return [parse_html(chunk) for chunk in chunks]


def assert_tiles(pieces: list[str], whole: str) -> None:
    """The pieces, in order, are consecutive slices of ``whole`` with only whitespace
    between them, before the first and after the last."""
    position = 0
    for piece in pieces:
        while position < len(whole) and whole[position].isspace():
            position += 1
        assert piece, "empty chunk"
        assert whole.startswith(piece, position), (piece[:40], whole[position : position + 40])
        position += len(piece)
    assert not whole[position:].strip()


def squash(text: str) -> str:
    return "".join(text.split())


def test_post_layout_escapes_feed_text_and_links_the_article() -> None:
    """A post is a bold title, the summary and the linked source, all feed text escaped."""
    post = Post("Oil & <gas>", "Prices rose. Again.", "https://ex.org/a?x=1&y=2", "Ex", 1714560000)
    assert render_post(post) == [
        "<b>Oil &amp; &lt;gas&gt;</b>\n\nPrices rose. Again.\n\n"
        '<a href="https://ex.org/a?x=1&amp;y=2">Ex</a> · <i>1 May 2024</i>'
    ]


def test_post_without_source_or_date_names_the_host() -> None:
    """Without a source name the link says the site's host; an unknown date is left out."""
    [chunk] = render_post(Post("T", "S", "https://news.example.org/x", "", 0))
    assert chunk.endswith('<a href="https://news.example.org/x">news.example.org</a>')


def test_hostile_text_never_becomes_markup() -> None:
    """Tags, entities and quotes from a feed stay visible text, never markup."""
    post = Post(HOSTILE, HOSTILE, 'https://ex.org/"><script>', HOSTILE, 0)
    chunks = render_post(post)
    assert set(re.findall(r"</?([a-z]+)", "".join(chunks))) <= {"b", "a"}
    assert visible(chunks)[0].count(HOSTILE) == 3


def test_only_web_links_become_tags() -> None:
    """A javascript: or relative URL is shown as text, not linked."""
    reply = Reply("See:", (Source("bad", "javascript:alert(1)"), Source("ok", "http://a.b/")))
    [chunk] = render_reply(reply)
    assert chunk.endswith('1. bad\n2. <a href="http://a.b/">ok</a>')


def test_reply_numbers_sources_under_the_text() -> None:
    """A reply shows its title, text and numbered sources with their feeds."""
    reply = Reply(
        "Talks resumed [1][2].",
        (Source("Talks", "https://a.org/1", "world"), Source("More", "https://b.org/2")),
        title="Venezuela",
    )
    assert render_reply(reply) == [
        "<b>Venezuela</b>\n\nTalks resumed [1][2].\n\n"
        '1. <a href="https://a.org/1">Talks</a> — <i>world</i>\n'
        '2. <a href="https://b.org/2">More</a>'
    ]


def test_long_title_is_split_with_bold_closed_and_reopened() -> None:
    """A 5,000-character title splits into valid chunks, each with its own <b>...</b>."""
    chunks = render_post(Post("<script>&</b>" * 385, "Short.", "https://e.org", "E", 0))
    assert len(chunks) == 2
    assert all(c.startswith("<b>") for c in chunks)
    assert chunks[0].endswith("</b>")
    assert all(utf16_len(v) <= MESSAGE_LIMIT for v in visible(chunks))


def test_split_prefers_paragraphs_then_sentences_then_words() -> None:
    """Cuts fall at a blank line, else a sentence end, else a space, else between letters."""
    para = "Aaaa aaaa. " * 5 + "\n\n" + "Bbbb bbbb. " * 5
    first, second = "Aaaa aaaa. " * 4 + "Aaaa aaaa.", "Bbbb bbbb. " * 4 + "Bbbb bbbb."
    assert visible(split_html([Span(para)], 80)) == [first, second]
    sentences = "One two three four five. Six seven eight nine ten eleven"
    assert visible(split_html([Span(sentences)], 30)) == [
        "One two three four five.",
        "Six seven eight nine ten",
        "eleven",
    ]
    assert visible(split_html([Span("x" * 25)], 10)) == ["x" * 10, "x" * 10, "x" * 5]


def test_small_first_paragraph_does_not_make_a_tiny_chunk() -> None:
    """A blank line near the start is not used when it would leave the chunk mostly empty."""
    text = "Title\n\n" + "word " * 30
    first = visible(split_html([Span(text)], 60))[0]
    assert first.startswith("Title\n\nword") and utf16_len(first) > 30


def test_limits_count_utf16_units_and_keep_astral_characters_whole() -> None:
    """Emoji count two units; a hard cut never separates a character or a joined emoji."""
    assert visible(split_html([Span("😀" * 7)], 4)) == ["😀😀", "😀😀", "😀😀", "😀"]
    family = "👩\u200d👩\u200d👧"  # 8 units
    assert visible(split_html([Span("abcdef" + family)], 10)) == ["abcdef", family]


def test_blockquote_and_link_reopen_across_a_cut() -> None:
    """Nested tags are closed at the cut and reopened, in the same order, in the next chunk."""
    spans = [Span("intro "), Span("quoted words here", (QUOTE, Mark("a", "https://x.org")))]
    chunks = split_html(spans, 12)
    assert chunks == [
        'intro <blockquote><a href="https://x.org">quoted</a></blockquote>',
        '<blockquote><a href="https://x.org">words here</a></blockquote>',
    ]


def test_adjacent_spans_share_open_tags() -> None:
    """Tags common to neighbouring spans are not closed and reopened needlessly."""
    spans = [Span("a", (BOLD,)), Span("b", (BOLD, ITALIC)), Span("c", (BOLD,))]
    assert split_html(spans) == ["<b>a<i>b</i>c</b>"]


def test_blank_input_gives_no_chunks() -> None:
    """Whitespace only renders to nothing (Telegram refuses empty messages)."""
    assert split_html([Span("  \n\n "), Span(" ", (BOLD,))]) == []


def test_results_caption_fits_1024_and_the_rest_follows() -> None:
    """Poll results: the caption fits a photo caption; the rest is kept for messages."""
    reply = Reply("Result line. " * 200, title="Poll results")
    caption, rest = render_results(ResultsPost(reply, b"png"))
    assert utf16_len(parse_html(caption)) <= CAPTION_LIMIT
    assert rest and all(utf16_len(v) <= MESSAGE_LIMIT for v in visible(rest))
    assert_tiles([parse_html(caption), *visible(rest)], "Poll results\n\n" + reply.text.strip())


def test_poll_question_and_options_are_cut_to_telegram_limits() -> None:
    """Poll text longer than Telegram allows is shortened with an ellipsis."""
    question, options = render_poll(PollPost("q" * 400, ("a" * 150, " b "), 0))
    assert utf16_len(question) == 300 and question.endswith("…")
    assert options == ["a" * 99 + "…", "b"]


def test_plain_text_is_the_visible_text() -> None:
    """The plain-text fallback shows exactly what the HTML showed."""
    [chunk] = render_post(Post(HOSTILE, "x &amp; y", "https://e.org/?a&b", "src", 0))
    assert plain_text(chunk) == parse_html(chunk)


# Any nesting order of newsbrief's own tags; any text, plus text dense in cut points.
_MARKS = st.lists(
    st.sampled_from([QUOTE, BOLD, ITALIC, Mark("a", "https://e.org/?q=<&>\"'")]), unique=True
).map(tuple)
_TEXT = st.text(st.characters(codec="utf-8"), max_size=400) | st.text(
    " \n.!?ab😀&<>\u200d\u0301", max_size=400
)


@settings(deadline=None)
@given(
    spans=st.lists(st.builds(Span, _TEXT, _MARKS), max_size=8),
    limit=st.integers(min_value=2, max_value=200),
    first_limit=st.none() | st.integers(min_value=2, max_value=100),
)
def test_any_text_splits_into_chunks_telegram_accepts(
    spans: list[Span], limit: int, first_limit: int | None
) -> None:
    """Any spans give chunks the fake Bot API accepts, within the limits, that tile the
    visible text with only whitespace dropped at the cuts."""
    chunks = split_html(spans, limit, first_limit=first_limit)
    pieces = visible(chunks)
    limits = [first_limit or limit] + [limit] * len(pieces)
    assert all(utf16_len(p) <= lim for p, lim in zip(pieces, limits, strict=False))
    assert all(p.strip() for p in pieces)
    assert_tiles(pieces, "".join(span.text for span in spans))


@settings(deadline=None, max_examples=50)
@given(title=_TEXT, summary=st.text(max_size=9000), source=_TEXT, url=st.text(max_size=50))
def test_any_post_renders_to_valid_messages(
    title: str, summary: str, source: str, url: str
) -> None:
    """Any feed text renders to valid messages within 4096 that keep every visible character."""
    post = Post(title, summary, "https://e.org/" + url, source, 0)
    pieces = visible(render_post(post))
    assert all(0 < utf16_len(p) <= MESSAGE_LIMIT for p in pieces)
    expected = title + summary + (source.strip() or "e.org")
    assert squash("".join(pieces)) == squash(expected)


class _HTMLChecker(HTMLParser):
    """Parses one chunk with the standard library, failing on anything but newsbrief's own
    well-nested tags, and keeps the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in {"b", "i", "a", "blockquote"}, tag
        assert [name for name, _ in attrs] == (["href"] if tag == "a" else []), attrs
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise AssertionError(f"self-closing <{tag}/>")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def well_formed_visible_text(chunk: str) -> str:
    """The visible text of a chunk that html.parser finds balanced, with only known tags
    and entities."""
    assert all(_ENTITY.match(chunk, amp.start()) for amp in re.finditer("&", chunk)), chunk
    checker = _HTMLChecker()
    checker.feed(chunk)
    checker.close()
    assert not checker.open, checker.open
    return "".join(checker.text)


_ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#x27);")
_LONG_TEXT = st.builds(operator.mul, _TEXT, st.integers(1, 40))


@settings(deadline=None, max_examples=60)
@given(
    spans=st.lists(st.builds(Span, _LONG_TEXT, _MARKS), max_size=6),
    limit=st.just(MESSAGE_LIMIT) | st.integers(min_value=2, max_value=300),
)
def test_every_chunk_is_well_formed_html_within_the_limit(spans: list[Span], limit: int) -> None:
    """Each chunk parses as balanced HTML of b, i, a and blockquote only, no broken
    entity, and its visible text fits the limit."""
    for chunk in split_html(spans, limit):
        assert 0 < utf16_len(well_formed_visible_text(chunk)) <= limit


@settings(deadline=None, max_examples=40)
@given(
    title=_TEXT,
    text=_LONG_TEXT,
    sources=st.lists(st.builds(Source, _TEXT, st.just("https://e.org/?a=1&b=<2>"), _TEXT)),
)
def test_any_reply_is_well_formed_html_within_4096(
    title: str, text: str, sources: list[Source]
) -> None:
    """Every chunk of any reply is well-formed HTML whose visible text fits 4096 units."""
    for chunk in render_reply(Reply(text, tuple(sources), title=title)):
        assert 0 < utf16_len(well_formed_visible_text(chunk)) <= MESSAGE_LIMIT


def test_update_shows_only_what_is_new_with_its_source_and_the_sources_so_far() -> None:
    """A story update: the bold title (escaped), the new sentences, then the linked
    source, the date and the number of sources; any text stays valid Telegram HTML."""
    new = ("Three bridges <collapsed> & fell.",)
    update = StoryUpdate(
        "Floods <b>day two",
        new,
        "https://news.test/2",
        "Outlet",
        1_700_000_000.0,
        2,
        "5",
        StoryTold(1, new),
    )
    [chunk] = render_update(update)
    visible = parse_html(chunk)
    assert visible == (
        "Floods <b>day two\n\nThree bridges <collapsed> & fell.\n\n"
        "Outlet · 14 Nov 2023 · 2 sources so far"
    )
    assert '<a href="https://news.test/2">Outlet</a>' in chunk
    quiet = StoryUpdate("T", (), "https://news.test/3", "Outlet", 0.0, 1, "5", StoryTold(1, ()))
    assert parse_html(render_update(quiet)[0]) == "T\n\nOutlet · 1 source so far"


# -- images and templates -----------------------------------------------------------------

IMAGE = "https://img.test/a.jpg"
TEMPLATE = "📰 {title}\n{summary}\n<i>{source}</i> · {url} {{raw}}"


def test_a_post_fitting_a_caption_is_one_photo_else_a_message_previewing_the_image() -> None:
    """With an image: the whole post as a photo caption when it fits 1,024 units, else
    a message whose link preview is the image; without one, plain messages."""
    short = Post("T", "S.", "https://e.org/a", "E", 0, image=IMAGE)
    [photo] = render_post_calls(short)
    assert (photo.method, photo.photo, photo.params()["caption"]) == (
        "sendPhoto",
        IMAGE,
        render_post(short)[0],
    )
    long = Post("T", "Sentence. " * 150, "https://e.org/a", "E", 0, image=IMAGE)
    first, *_ = render_post_calls(long)
    assert first.method == "sendMessage" and first.params()["link_preview_options"]["url"] == IMAGE
    assert all(
        c.method == "sendMessage" and not c.preview_image
        for c in render_post_calls(short, image=False)
    )


def test_a_template_is_escaped_literally_hostile_title_included() -> None:
    """A template's text and values arrive as written: a title with <b>, </a>,
    {summary} and @everyone is text, the operator's <i> too; the url value is linked."""
    title = "<b>x</b> </a> {summary} @everyone *bold*"
    values = {
        "title": title,
        "summary": "Sum & more",
        "source": "Wire",
        "url": "https://e.org/?a=1&b=2",
    }
    post = Post(title, "Sum & more", values["url"], "Wire", 0, layout=fill(TEMPLATE, values))
    [chunk] = render_post(post)
    assert (
        parse_html(chunk) == f"📰 {title}\nSum & more\n<i>Wire</i> · https://e.org/?a=1&b=2 {{raw}}"
    )
    assert '<a href="https://e.org/?a=1&amp;b=2">https://e.org/?a=1&amp;b=2</a>' in chunk
    assert "<b>" not in chunk and "<i>" not in chunk


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=5000), st.text(max_size=80))
def test_any_templated_post_is_valid_telegram_html_showing_exactly_its_text(
    title: str, summary: str, source: str
) -> None:
    """Whatever a title, summary or source holds, a templated post is valid Telegram HTML
    (as the fake Bot API checks it), within the limits, and shows exactly the filled
    template (edge whitespace aside)."""
    values = {"title": title, "summary": summary, "source": source, "url": "https://e.org/x"}
    post = Post(title, summary, "https://e.org/x", source, 0, layout=fill(TEMPLATE, values))
    shown = visible(render_post(post))
    assert all(utf16_len(part) <= MESSAGE_LIMIT for part in shown)
    whole = "".join(p.text for p in post.layout)
    assert_tiles(shown, whole)

"""Post templates: one placeholder set, checked once, filled without ever formatting a
value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.chat.template import PLACEHOLDERS, channel_zone, check_template, fill, post_values
from bot.errors import ConfigError
from bot.types import Article, ChannelOptions, Piece

ARTICLE = Article(
    id=7,
    feed_id=1,
    guid="g",
    url="https://news.test/7",
    canonical_url="https://news.test/7",
    title="Harbour strike",
    text="Body.",
    published=1_795_871_100.0,  # 2026-11-28 13:05 UTC
    story_id=7,
    content_hash="h",
    feed_name="Wire",
    author="Ada",
    tags=("Ports", "Labour"),
)


def test_a_template_fills_into_literal_and_value_pieces() -> None:
    """Literal text (with {{ }} as braces, newlines kept) and each placeholder's value
    come out as separate pieces, in order."""
    values = post_values(ARTICLE, "The summary.", 3, "Europe/Berlin")
    pieces = fill("{title} ({sources} sources, {{live}})\n{published} · {tags} · {author}", values)
    assert pieces == (
        Piece("Harbour strike", "title"),
        Piece(" ("),
        Piece("3", "sources"),
        Piece(" sources, {"),
        Piece("live}"),
        Piece(")\n"),
        Piece("2026-11-28 14:05", "published"),
        Piece(" · "),
        Piece("Ports, Labour", "tags"),
        Piece(" · "),
        Piece("Ada", "author"),
    )


def test_every_placeholder_has_a_value() -> None:
    """post_values gives a value for exactly the placeholder set."""
    assert set(post_values(ARTICLE, "s", 1, "UTC")) == set(PLACEHOLDERS)


@pytest.mark.parametrize(
    ("options", "zone"),
    [
        (ChannelOptions(timezone="Asia/Tokyo", digest=("08:00 Europe/Berlin",)), "Asia/Tokyo"),
        (ChannelOptions(digest=("08:00 Europe/Berlin",)), "Europe/Berlin"),
        (ChannelOptions(), "UTC"),
    ],
)
def test_published_is_shown_in_the_channels_timezone_else_its_digests(
    options: ChannelOptions, zone: str
) -> None:
    """The timezone setting wins, then the digest's zone, then UTC."""
    assert channel_zone(options) == zone


@pytest.mark.parametrize(
    "bad", ["{x}", "{title!s}", "{title:10}", "{}", "{0}", "{title[0]}", "{title.x}", "{", "}"]
)
def test_anything_but_known_bare_names_is_refused(bad: str) -> None:
    """Unknown names, conversions, specs, indexes, attributes and lone braces fail."""
    with pytest.raises(ConfigError):
        check_template(bad)


@given(st.text(max_size=60), st.text(max_size=200), st.text(max_size=200))
def test_any_values_arrive_as_themselves(template_text: str, title: str, summary: str) -> None:
    """Whatever a title or summary holds ({summary}, braces, markup), the filled pieces
    hold it verbatim, and the template's own text is kept literally."""
    template = template_text.replace("{", "{{").replace("}", "}}") + "{title}|{summary}"
    check_template(template)
    pieces = fill(template, {"title": title, "summary": summary})
    assert "".join(p.text for p in pieces) == f"{template_text}{title}|{summary}"
    assert [p.text for p in pieces if p.field] == [title, summary]

"""An entry's image: read from the feed's structure or the page's metadata, http(s) only."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.feeds.extract import extract_article
from bot.feeds.netguard import IMAGE_URL_MAX_CHARS, image_url
from bot.feeds.parse import read_feed

BASE = "https://news.test/feed"
RSS = """<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>
<link>https://news.test/</link>{items}</channel></rss>"""
ITEM = "<item><title>{n}</title><link>https://news.test/{n}</link><description>d</description>{media}</item>"
BODY = "<p>" + "A sentence of the article that says something. " * 20 + "</p>"


def _rss_images(*media: str) -> list[str]:
    items = "".join(ITEM.format(n=n, media=m) for n, m in enumerate(media))
    return [e.image for e in read_feed(RSS.format(items=items).encode(), BASE).entries]


def test_rss_images_come_from_media_enclosures_and_thumbnails() -> None:
    """media:content of an image medium or type, a lone media:thumbnail, an image
    enclosure and a video's thumbnail give the image; audio or nothing gives none."""
    assert _rss_images(
        '<media:content url="https://img.test/a.jpg" medium="image"/>',
        '<media:content url="https://img.test/b.png" type="image/png"/>',
        '<media:thumbnail url="https://img.test/c.jpg"/>',
        '<enclosure url="https://img.test/d.webp" type="image/webp" length="1"/>',
        '<enclosure url="https://img.test/e.mp3" type="audio/mpeg" length="1"/>',
        '<media:content url="https://img.test/f.mp4" type="video/mp4">'
        '<media:thumbnail url="https://img.test/f.jpg"/></media:content>',
        "",
    ) == [
        "https://img.test/a.jpg",
        "https://img.test/b.png",
        "https://img.test/c.jpg",
        "https://img.test/d.webp",
        "",
        "https://img.test/f.jpg",
        "",
    ]


def test_unsafe_image_urls_are_dropped() -> None:
    """A javascript:, data:, relative or overlong image URL is no image."""
    long = "https://img.test/" + "a" * IMAGE_URL_MAX_CHARS + ".jpg"
    assert _rss_images(
        '<media:content url="javascript:alert(1)" medium="image"/>',
        '<media:content url="data:image/png;base64,AAAA" medium="image"/>',
        '<media:content url="/relative.jpg" medium="image"/>',
        f'<media:content url="{long}" medium="image"/>',
    ) == ["", "", "", ""]


def test_atom_enclosure_link_of_an_image_type() -> None:
    """An Atom link rel="enclosure" of an image type is the entry's image."""
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
    <entry><id>1</id><title>A</title><link href="https://news.test/a"/>
    <link rel="enclosure" href="https://img.test/a.jpg" type="image/jpeg"/><summary>s</summary>
    </entry><entry><id>2</id><title>B</title><link href="https://news.test/b"/>
    <link rel="enclosure" href="https://img.test/b.ogg" type="audio/ogg"/><summary>s</summary>
    </entry></feed>"""
    assert [e.image for e in read_feed(atom, BASE).entries] == ["https://img.test/a.jpg", ""]


def test_json_feed_image_then_banner_image() -> None:
    """A JSON Feed item's image, else its banner_image; a non-http one is dropped."""
    items = [
        {"id": "1", "content_text": "x", "image": "https://img.test/1.png"},
        {"id": "2", "content_text": "x", "banner_image": "https://img.test/2.png"},
        {"id": "3", "content_text": "x", "image": "javascript:alert(1)"},
        {"id": "4", "content_text": "x", "image": 7},
    ]
    feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items})
    entries = read_feed(feed.encode(), BASE).entries
    assert [e.image for e in entries] == [
        "https://img.test/1.png",
        "https://img.test/2.png",
        "",
        "",
    ]
    assert entries[0].entry().image == "https://img.test/1.png"


@pytest.mark.parametrize(
    ("meta", "image"),
    [
        ('<meta property="og:image" content="https://img.test/og.jpg">', "https://img.test/og.jpg"),
        (
            '<meta name="twitter:image" content="https://img.test/tw.jpg">',
            "https://img.test/tw.jpg",
        ),
        ('<meta property="og:image" content="javascript:alert(1)">', ""),
        ("", ""),
    ],
)
def test_a_pages_og_or_twitter_image(meta: str, image: str) -> None:
    """Page extraction keeps the page's og:image or twitter:image, http(s) only."""
    page = f"<html><head>{meta}<title>T</title></head><body><article>{BODY}</article></body></html>"
    extracted = extract_article(page, "https://news.test/a")
    assert extracted is not None
    assert extracted.image == image


@given(st.text(max_size=300))
def test_any_text_is_an_http_image_url_or_nothing(text: str) -> None:
    """image_url gives back an absolute http(s) URL without whitespace, or ""."""
    url = image_url(text)
    assert url == "" or (
        url.startswith(("http://", "https://"))
        and len(url) <= IMAGE_URL_MAX_CHARS
        and not any(c.isspace() for c in url)
    )

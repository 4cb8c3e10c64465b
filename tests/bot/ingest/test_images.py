"""Ingest keeps an entry's image, author and tags with the article: the feed's image, else
the og:image of the page fetched anyway for a teaser."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.clock import ManualClock
from bot.feeds.fetch import HttpFetcher
from bot.ingest.pipeline import Ingestor
from bot.store.sqlite import SqliteStore
from bot.types import FeedOrigin
from tests.bot.helpers import make_channel
from tests.fakes.http_server import LocalServer

LONG = " ".join(f"Sentence {i} of the story about the harbour strike." for i in range(30))


@pytest.fixture
async def ingestor(store: SqliteStore, clock: ManualClock) -> AsyncIterator[Ingestor]:
    """An ingestor whose fetcher may reach loopback (operator feeds, as in tests)."""
    fetcher = HttpFetcher(allow_private_hosts=True)
    yield Ingestor(store, fetcher, clock)
    await fetcher.aclose()


async def test_feed_image_author_and_tags_are_stored_and_a_teaser_takes_the_pages_image(
    store: SqliteStore, ingestor: Ingestor, server: LocalServer
) -> None:
    """An entry's media:content image, author and categories are stored; a teaser entry
    without an image gets its page's og:image."""
    await make_channel(store, "a")
    page = (
        '<html><head><meta property="og:image" content="https://img.test/page.jpg">'
        f"<title>Strike</title></head><body><article><p>{LONG}</p></article></body></html>"
    )
    page_url = server.route("/story", page, content_type="text/html")
    feed_xml = (
        '<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title>'
        f"<item><guid>s1</guid><title>Harbour strike</title><link>{page_url}</link>"
        "<description>Teaser…</description></item>"
        "<item><guid>s2</guid><title>Oil price</title><link>https://news.test/oil</link>"
        f"<description>{LONG}</description><dc:creator>Ada Lovelace</dc:creator>"
        "<category>Energy</category><category>Markets</category>"
        '<media:content url="https://img.test/oil.jpg" medium="image"/></item>'
        "</channel></rss>"
    )
    url = server.route("/feed.xml", feed_xml)
    await store.feeds.upsert(url, name="", origin=FeedOrigin.CONFIG, every=600.0, backfill=2, now=0)
    await ingestor.run(only_due=False)
    stored = {a.title: a for a in await store.articles.latest(5)}
    assert stored["Harbour strike"].image == "https://img.test/page.jpg"
    oil = stored["Oil price"]
    assert (oil.image, oil.author, oil.tags) == (
        "https://img.test/oil.jpg",
        "Ada Lovelace",
        ("Energy", "Markets"),
    )

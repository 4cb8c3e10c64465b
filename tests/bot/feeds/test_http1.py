"""The fetcher's wire reads URLs exactly as httpx did: the fetched URL is the base of a
feed's relative links, so it is part of what gets stored. httpx (still installed, for the
LLM SDK) is the reference the short path is held to."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.feeds.http1 import join_url, parse_url
from tests.conftest import corpus_or_skip, python_prints

_SCHEMES = st.sampled_from(["http", "https", "HTTP", "hTTps"])
_HOSTS = st.one_of(
    st.text("abcXYZ019-._~", min_size=1, max_size=12),
    st.sampled_from(["127.0.0.1", "93.184.216.34", "999.1.1.1", "01.2.3.4", "[::1]"]),
    st.sampled_from(["bücher.example", "EXAMPLE.org", "-x-", "a..b", ""]),
)
_PORTS = st.sampled_from(["", ":80", ":443", ":8080", ":080", ":0", ":65535", ":99999", ":"])
# Everything httpx escapes or keeps, dot segments, stray and valid percent escapes.
_PIECES = st.sampled_from(
    [*"aZ09-._~!$&'()*+,;=:@/?#[]\\^`{}|\"<>%", "%2F", "%zz", "é", "/./", "/../", "..", "x"]
)
_PLAIN = st.text("abcXYZ019-._~!$&'()*+,;=:@/%", max_size=20).map(lambda t: "/" + t)
_TAILS = st.one_of(_PLAIN, st.lists(_PIECES, max_size=10).map("".join))
_USERINFO = st.sampled_from(["", "me:secret@", "me@", "a%40b:p%3Ass@"])


@st.composite
def odd_urls(draw: st.DrawFn) -> str:
    """Absolute http(s) URLs, often with something httpx rewrites or refuses."""
    scheme, host, port = draw(_SCHEMES), draw(_HOSTS), draw(_PORTS)
    return f"{scheme}://{draw(_USERINFO)}{host}{port}{draw(_TAILS)}"


@st.composite
def usual_urls(draw: st.DrawFn) -> str:
    """Absolute http(s) URLs of the usual form, the short path's to read."""
    scheme = draw(_SCHEMES)
    host = draw(st.one_of(st.text("abcXYZ019-._~", min_size=1, max_size=12), _HOSTS))
    port = draw(st.sampled_from(["", ":8080", ":8765", ":65535", ":99999"]))
    query = draw(st.sampled_from(["", "?", "?a=1&b=%20", "?{x}`|"]))
    fragment = draw(st.sampled_from(["", "#", "#top", "#a?b#c"]))
    return f"{scheme}://{host}{port}{draw(_PLAIN)}{query}{fragment}"


def urls() -> st.SearchStrategy[str]:
    """Usual URLs and odd ones."""
    return st.one_of(usual_urls(), odd_urls())


@given(urls())
@example("http://127.0.0.1:8765/01b5e6081cb62f3d.xml")
@example("https://Example.COM:443/a/./b/../c?x=1#top")
@example("http://bücher.example/straße?q=é")
def test_urls_read_as_httpx_reads_them(url: str) -> None:
    """Any absolute http(s) URL gives httpx's string, host, port, Host header and
    request target, or is refused where httpx refuses it."""
    try:
        expected = httpx.URL(url)
    except httpx.InvalidURL:
        with pytest.raises(ValueError):
            parse_url(url)
        return
    if not expected.host:
        with pytest.raises(ValueError):
            parse_url(url)
        return
    got = parse_url(url)
    assert got.url == str(expected)
    assert (got.scheme, got.host) == (expected.scheme, expected.raw_host.decode())
    assert got.port == (expected.port or {"http": 80, "https": 443}[expected.scheme])
    assert (got.authority, got.path) == (expected.netloc.decode(), expected.raw_path.decode())
    assert (got.authorization is not None) == bool(expected.username or expected.password)


_LOCATIONS = st.one_of(
    _TAILS,
    urls(),
    st.sampled_from(["//other.example/x", "../up", "./here", "?q=1", "#f", "a:b", ":x"]),
)


@given(
    st.sampled_from(["http://news.example/a/b/feed.xml?x=1", "https://h.example:8443/"]), _LOCATIONS
)
@example("http://news.example/a/feed.xml", "../new/feed.xml")
@example("http://news.example/a/feed.xml", "https://Other.example:443/x")
def test_redirects_join_as_httpx_joins(base: str, location: str) -> None:
    """A redirect's Location, relative or absolute, leads where httpx's ``URL.join`` led
    (and one leading to no host or another scheme is refused)."""
    try:
        expected = httpx.URL(base).join(location)
    except httpx.InvalidURL:
        with pytest.raises(ValueError):
            parse_url(join_url(parse_url(base).url, location))
        return
    joined = join_url(parse_url(base).url, location)
    if expected.scheme not in ("http", "https") or not expected.host:
        with pytest.raises(ValueError):  # refused as httpx's was, if not in the same words
            parse_url(joined)
        return
    assert parse_url(joined).url == str(expected)


def test_common_urls_never_load_httpx() -> None:
    """Feed URLs of the usual form, and relative redirects, are read without httpx."""
    code = (
        "import sys\n"
        "from bot.feeds.http1 import join_url, parse_url\n"
        "base = parse_url('https://News.example.org/world/feed.xml?x=1').url\n"
        "parse_url('http://127.0.0.1:8765/01b5e6081cb62f3d.xml')\n"
        "parse_url(join_url(base, '/rss/all.xml'))\n"
        "parse_url(join_url(base, 'http://www.example.com/a-b_c/~d.xml'))\n"
        "print('httpx' in sys.modules)\n"
    )
    assert python_prints(code).strip() == "False"


_LINK = re.compile(rb"""https?://[^\s"'<>\]\[]+""", re.IGNORECASE)


def test_every_link_in_the_corpus_reads_as_httpx_reads_it() -> None:
    """Each of the tens of thousands of http(s) links written in the corpus feeds (entry
    links, images, enclosures) reads exactly as httpx read it."""
    links = set()
    for path in sorted(corpus_or_skip("feeds").glob("*.xml")):
        links.update(m.decode("utf-8", "replace") for m in _LINK.findall(path.read_bytes()))
    differing = []
    for link in sorted(links):
        try:
            expected = str(httpx.URL(link))
        except httpx.InvalidURL:
            expected = "refused"
        try:
            got = parse_url(link).url
        except ValueError:
            got = "refused"
        if got != expected:
            differing.append((link, got, expected))
    assert len(links) > 10_000
    assert differing == []

"""Canonical URLs: one spelling per article, idempotent, never raising."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.feeds.canon import canonical_url, document_urls, is_tracking_param


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTP://Example.COM/Path", "http://example.com/Path"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a#section-2", "https://example.com/a"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com?b=1", "https://example.com/?b=1"),
        ("https://example.com/a//b/", "https://example.com/a//b/"),
        ("https://example.com./a", "https://example.com/a"),
        ("https://bücher.example/a", "https://xn--bcher-kva.example/a"),
        ("https://faß.example/", "https://xn--fa-hia.example/"),
        ("https://[2001:DB8::1]:443/x", "https://[2001:db8::1]/x"),
        ("https://user:pw@Example.com/", "https://user:pw@example.com/"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_scheme_host_port_fragment_path(url: str, canonical: str) -> None:
    """Scheme and host lowercased, IDNA host, default port and fragment gone, path kept."""
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "https://example.com/a?utm_source=rss&utm_medium=feed&id=7&UTM_Campaign=x",
            "https://example.com/a?id=7",
        ),
        ("https://example.com/a?fbclid=abc&gclid=1&dclid=2&msclkid=3", "https://example.com/a"),
        ("https://example.com/a?mc_cid=1&mc_eid=2&igshid=3&yclid=4&spm=5", "https://example.com/a"),
        ("https://example.com/a?ref=hn&ref_src=twsrc&_hsenc=1&_hsmi=2", "https://example.com/a"),
        ("https://example.com/a?z=1&a=2&m=&a=1", "https://example.com/a?a=1&a=2&m=&z=1"),
        ("https://example.com/a?&&b=1&", "https://example.com/a?b=1"),
        ("https://example.com/a?q=caf%C3%A9+au+lait", "https://example.com/a?q=caf%C3%A9+au+lait"),
        ("https://example.com/a?utm%5Fsource=x&k=v", "https://example.com/a?k=v"),
    ],
)
def test_query_cleaning(url: str, canonical: str) -> None:
    """Tracking parameters dropped, the rest sorted with their encoding untouched."""
    assert canonical_url(url) == canonical


@pytest.mark.parametrize(
    "url",
    ["", "not a url", "mailto:someone@example.com", "ftp://Example.com/x", "/relative/path",
     "http://[::1", "http://example.com:99999/", "http://example.com:port/", "https:///nohost"],
)  # fmt: skip
def test_non_http_or_broken_urls_come_back_stripped(url: str) -> None:
    """What is not an absolute http(s) URL comes back as it was (stripped)."""
    assert canonical_url(f" {url} ") == url


def test_tracking_param_names() -> None:
    """utm_* in any case and the listed click ids are tracking; ordinary names are not."""
    assert is_tracking_param("utm_source")
    assert is_tracking_param("UTM_Term")
    assert is_tracking_param("fbclid")
    assert not is_tracking_param("id")
    assert not is_tracking_param("utmost")


_HOST_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-üßé"
_host_label = st.text(alphabet=_HOST_CHARS, min_size=1, max_size=12)
_query_pair = st.tuples(
    st.sampled_from(["id", "page", "utm_source", "fbclid", "q", "ref", "Sort", "a"]),
    st.text(alphabet="abc123%+-_.~=", max_size=6),
)
_urlish = st.builds(
    lambda scheme, labels, port, path, pairs, fragment: (
        f"{scheme}://{'.'.join(labels)}{port}{path}"
        + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")
        + fragment
    ),
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    st.lists(_host_label, min_size=1, max_size=3),
    st.sampled_from(["", ":80", ":443", ":8080", ":"]),
    st.text(alphabet="/abc.%~-_", max_size=15).map(lambda path: f"/{path}" if path else ""),
    st.lists(_query_pair, max_size=5),
    st.sampled_from(["", "#", "#top"]),
)


@settings(max_examples=300)
@given(st.text())
def test_any_text_is_idempotent_and_never_raises(text: str) -> None:
    """For any text, canonicalizing twice gives the same as once."""
    once = canonical_url(text)
    assert canonical_url(once) == once


@settings(max_examples=300)
@given(_urlish)
def test_url_like_inputs_are_idempotent_and_untracked(url: str) -> None:
    """For URL-shaped inputs: idempotent, no fragment, no tracking parameter left."""
    once = canonical_url(url)
    assert canonical_url(once) == once
    if once.startswith(("http://", "https://")):
        assert "#" not in once
        query = once.partition("?")[2]
        assert not any(is_tracking_param(pair.partition("=")[0]) for pair in query.split("&"))


def test_a_document_keeps_fragments_that_tell_its_entries_apart() -> None:
    """Several links to one page with different fragments keep them; a page linked once,
    or always with the same fragment, loses it; an empty link stays empty."""
    urls = [
        "https://Blog.test/now.html#2025-01-11",
        "https://blog.test/now.html#2025-01-12",
        "https://blog.test/now.html",
        "https://blog.test/post#comments",
        "https://news.test/a?utm_source=x#top",
        "https://news.test/a#top",
        "",
    ]
    assert document_urls(urls) == [
        "https://blog.test/now.html#2025-01-11",
        "https://blog.test/now.html#2025-01-12",
        "https://blog.test/now.html",
        "https://blog.test/post",
        "https://news.test/a",
        "https://news.test/a",
        "",
    ]


@given(st.lists(_urlish, max_size=6))
def test_document_urls_never_raise_and_agree_with_canonical_url(urls: list[str]) -> None:
    """Whatever the links, each comes back as its canonical URL, with at most its own
    fragment added."""
    for url, kept in zip(urls, document_urls(urls), strict=True):
        base = canonical_url(url) if url else ""
        assert kept == base or kept.startswith(base + "#")

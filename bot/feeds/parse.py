"""Feed parsing: RSS 0.9x/1.0/2.0, Atom and JSON Feed, from bytes only.

``read_feed`` reads a document's structure and gives ``RawEntry``s whose text is not yet
converted; ``RawEntry.entry()`` converts it (HTML to plain text), so ingest converts only
the entries it has not seen, once each. ``parse_feed`` does both for every entry. Both are
synchronous and pure; callers run them in a worker thread. It never hands a
``str`` to a parser library: fastfeedparser fetches a ``str`` that looks like a URL and
feedparser opens one that names a file, so the core passes bytes (to fastfeedparser) or a
``BytesIO`` (to feedparser), and nothing else.

fastfeedparser (lxml with entity resolution off, or its Rust reader) parses first: it is
about 100 times faster. feedparser parses only when fastfeedparser fails or finds no
entries where the bytes plainly hold some. Two guards keep hostile bytes cheap:

- XML nested deeper than 2,048 levels (libxml2's limit for huge documents, far beyond any
  real feed) is refused before parsing: fastfeedparser's Rust reader holds about 100 bytes
  of memory per byte of such input (5 GB for 50 MB of ``<a>``).
- feedparser's tolerant parser spends about 23 µs per tag on tag soup, so it only gets
  documents with at most ``_FALLBACK_MAX_TAGS`` tags (about 2 s at worst).

Work is bounded by the entry cap: a document over 1 MiB with more than ``MAX_ENTRIES``
entries is cut before its next entry (and closed with the document's own closing tags)
before any parser sees it, so a 10 MB feed of 55,000 items costs what its first 1,000 cost.

Entities are never expanded and DTDs never loaded: the DOCTYPE's internal subset is removed
before parsing, and references to the entities it declared are dropped, so a
billion-laughs or external-entity trick loses only itself, not the entry it sits in.
"""

from __future__ import annotations

import calendar
import codecs
import contextlib
import hashlib
import html
import io
import itertools
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any
from urllib.parse import urljoin, urlsplit

import fastfeedparser
from lxml import etree  # lxml ships no type hints

from bot.errors import ParseError
from bot.feeds.netguard import image_url
from bot.types import FeedEntry, ParsedFeed

__all__ = [
    "AUTHOR_MAX_CHARS",
    "MAX_ENTRIES",
    "TEASER_MAX_CHARS",
    "TEXT_MAX_CHARS",
    "TITLE_MAX_CHARS",
    "RawEntry",
    "RawFeed",
    "entry_is_teaser",
    "html_to_text",
    "parse_feed",
    "read_feed",
]

MAX_ENTRIES = 1000  # kept in document order; real feeds carry 10-300
TITLE_MAX_CHARS = 500
TEXT_MAX_CHARS = 100_000
AUTHOR_MAX_CHARS = 200
MAX_TAGS, TAG_MAX_CHARS = 20, 100  # an entry's categories, for filters
TEASER_MAX_CHARS = 600
_MAX_DEPTH = 2048  # libxml2's depth limit with XML_PARSE_HUGE (huge_tree)
_FALLBACK_MAX_TAGS = 100_000
_HEAD_BYTES = 4096
_PROLOGUE_BYTES = 65536  # where a DOCTYPE may stand

_PARA = "\ue000"  # private-use marks for block and <br> boundaries while flattening HTML
_BREAK = "\ue001"
_PARA_UTF8, _BREAK_UTF8 = _PARA.encode(), _BREAK.encode()
_REPLACEMENT_UTF8 = "\ufffd".encode()
# What the text loses (control characters; U+FFFD above), and what str.split() takes for
# whitespace beyond ASCII's (a test checks this list against str.isspace()).
_CONTROL_BYTES = bytes((*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
_SPACE_BYTES = bytes.maketrans(b"\t\n\r", b"   ")
_UNICODE_SPACE_CHARS = "\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(
    map(chr, range(0x2000, 0x200B))
)
# The same in UTF-8, by first byte: one pattern for each with a literal first byte is a
# memchr-speed scan where one alternation over all of them is ten times slower.
_UNICODE_SPACES = tuple(
    (lead, re.compile(lead + b"(?:%s)" % b"|".join(re.escape(c.encode()[1:]) for c in chars)))
    for lead, chars in itertools.groupby(sorted(_UNICODE_SPACE_CHARS), lambda c: c.encode()[:1])
)
_SPACE_RUN = re.compile(b"   *")  # two spaces or more: a two-byte literal prefix scans 1.4x faster
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff\ue000\ue001]")
_TAG = re.compile(r"<[a-zA-Z/!?]")
_ANY_TAG = re.compile(r"<[^>]*>")
_BLANK_LINE = re.compile(r"\n\s*\n")
_BREAKS_UTF8 = re.compile(b"%s(?: ?%s)+" % (_BREAK_UTF8, _BREAK_UTF8))  # two <br> or more
_BREAK_SPACE_UTF8 = re.compile(b"%s ?" % _BREAK_UTF8)
_SKIP_TAGS = (
    *("script", "style", "noscript", "template", "iframe", "object", "embed", "svg"),
    *("head", "math", "form", "button", "select"),
)
_BLOCK_TAGS = (
    "p",
    "div",
    "section",
    "article",
    "header",
    "footer",
    "aside",
    "main",
    "nav",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "table",
    "tr",
    "hr",
    "address",
    "details",
    "summary",
)
_CELL_TAGS = ("td", "th")

# Markup prologue: XML declaration, processing instructions, comments, DOCTYPE.
_PROLOGUE = re.compile(r"\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype[^\[>]*(?:\[.*?\]\s*)?>)\s*", re.S)
_ROOT = re.compile(r"<([a-z_][\w:.-]*)")
_FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
_FEED_LINK = re.compile(
    r"<link\b[^>]*type=[\"']application/(?:rss|atom|feed)\+(?:xml|json)[\"'][^>]*>", re.I
)
_HREF = re.compile(r"href=[\"']([^\"']+)[\"']", re.I)
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)[\s>/]")
_ENTRY_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\s*>")
# An absolute http(s) URL urljoin would return unchanged: no dot segments, no brackets.
_PLAIN_ABSOLUTE = re.compile(
    r"(?!.*/\.)https?://[\w.-]+(?::\d{1,5})?(?:/[^\s\[\]\\#]*)?(?:#\S*)?\Z", re.I
)
_MEDIA_KEYS = frozenset({"media_content", "media_thumbnail", "enclosures"})
_TAIL_BYTES = 65536  # where the document's closing tags are looked for
_BOUND_FROM_BYTES = 1 << 20  # a smaller document is parsed whole (about 25 ms at worst)
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*\[(.*?)\]\s*>", re.S)
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY\s+(?:%\s+)?([^\s%;>]+)")
_ENTITY_REFERENCE = re.compile(rb"&([A-Za-z_][\w.:-]*);")

_TEASER_END = re.compile(
    r"(?:\.\.\.|…|\[…\]|\[\.\.\.\]|\(more…?\)|read more|continue reading|keep reading|"
    r"read the (?:full|rest)[\w ]*|more\s*[»›→]|[»›→]|"
    # the same in a few other languages news feeds use
    r"seguir leyendo|leer más|weiterlesen|lire la suite|leggi tutto|continuar lendo|lees meer)"
    r"\W*$",
    re.IGNORECASE,
)
# WordPress's feed footer, a paragraph of its own: "The post X appeared first on Y."
_APPEARED_FIRST = re.compile(r"(?:^|\n)the post [^\n]{1,300} appeared first on [^\n]{1,200}$", re.I)


class _Body(Enum):
    """What an entry's body is before conversion."""

    HTML = "html"
    PLAIN = "plain"  # literal text (Atom type="text", JSON content_text, media text)
    TEXT = "text"  # already converted


@dataclass(frozen=True)
class RawEntry:
    """An entry as read: clean guid, URL, title, date and author; its body not yet
    converted to text (``entry()`` does that)."""

    guid: str
    url: str
    title: str
    published: float | None
    author: str
    body: str
    body_kind: _Body = _Body.HTML
    tags: tuple[str, ...] = ()
    image: str = ""  # an absolute http(s) image URL, or ""

    def entry(self) -> FeedEntry:
        """The entry with its body as plain text (at most ``TEXT_MAX_CHARS``)."""
        text = _body_text(self.body, self.body_kind)
        title = self.title or _title_from_text(text)
        return FeedEntry(
            self.guid,
            self.url,
            title,
            text,
            self.published,
            self.author,
            tags=self.tags,
            image=self.image,
        )


@dataclass(frozen=True)
class RawFeed:
    """What a feed said about itself, and its entries before text conversion."""

    title: str
    link: str
    entries: tuple[RawEntry, ...]


def parse_feed(data: bytes, base_url: str = "") -> ParsedFeed:
    """Parse a feed document, converting every entry's text (see ``read_feed``).

    Raises:
        ParseError: the bytes are not a feed (see ``read_feed``).
        TypeError: ``data`` is not bytes.
    """
    feed = read_feed(data, base_url)
    return ParsedFeed(feed.title, feed.link, tuple(raw.entry() for raw in feed.entries))


def read_feed(data: bytes, base_url: str = "") -> RawFeed:
    """Read a feed document's structure; entries' texts are converted later, on demand.

    Args:
        data: the document as fetched, in any encoding its prologue or BOM declares.
        base_url: where it was fetched from; relative links resolve against it (or, when
            empty, against the feed's own link). Also names the feed in errors.

    Returns:
        The feed's title and absolute link, and at most ``MAX_ENTRIES`` entries (the first
        ones, in document order) with absolute http(s) URLs (or "" when an entry has
        none), plain-text titles, publication times in epoch seconds and a guid always.

    Raises:
        ParseError: the bytes are not a feed (empty, an HTML page, JSON that is not a JSON
            Feed, garbage, pathologically nested XML); ``reason`` says which.
        TypeError: ``data`` is not bytes. A ``str`` is refused because parser libraries
            take one for a URL to fetch or a path to open.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"read_feed takes bytes, not {type(data).__name__}")
    body = bytes(data)
    head = _head(body)
    if not head:
        raise ParseError(base_url, "empty document")
    if head.startswith(("{", "[")):
        return _parse_json_feed(body, base_url)
    body = _bounded(_without_internal_subset(body))
    _refuse_non_feed(body, head, base_url)
    return _from_library(_parse_markup(body, head, base_url), base_url)


def entry_is_teaser(entry: FeedEntry) -> bool:
    """Whether an entry carries only a teaser, so its page is worth fetching.

    A teaser is a text under ``TEASER_MAX_CHARS`` characters, or one that ends with an
    ellipsis, "[…]", "Read more", "Continue reading" or an arrow (a WordPress "The post …
    appeared first on …" line is ignored). The caller still needs ``entry.url``.
    """
    text = entry.text.strip()
    footer = _APPEARED_FIRST.search(text, max(0, len(text) - 600))
    if footer:
        text = text[: footer.start()].rstrip()
    return len(text) < TEASER_MAX_CHARS or _TEASER_END.search(text[-120:]) is not None


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment or document: paragraphs separated by blank lines.

    Block elements (``p``, ``div``, ``li``, headings, ...) and double ``<br>`` start
    paragraphs, a single ``<br>`` is a line break, scripts and styles are dropped,
    entities are decoded and runs of whitespace become one space. Text without any tag is
    taken as plain text, so its own blank lines still separate paragraphs.
    """
    if not _TAG.search(markup):
        return _plain_paragraphs(_BAD_CHARS.sub("", html.unescape(markup)))
    if _PARA in markup or _BREAK in markup:
        markup = markup.replace(_PARA, "").replace(_BREAK, "")
    converter = _CONVERTER
    root = _html_root(markup, converter.parser)
    if root is None:
        return _plain_paragraphs(_BAD_CHARS.sub("", html.unescape(_ANY_TAG.sub(" ", markup))))
    # Control characters go after parsing: the text is smaller than the markup.
    return _html_paragraphs(_flattened(root, markup, converter))


# --- sniffing -------------------------------------------------------------------------


def _head(body: bytes) -> str:
    """The document's first few KB as lowercase text, without BOM or leading whitespace."""
    sample = body[:_HEAD_BYTES]
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = sample.decode("utf-16", errors="replace")
    else:
        text = sample.decode("utf-8", errors="replace")
    return text.lstrip("\ufeff \t\r\n\x00").lower()


def _root_name(head: str) -> str:
    """Local name of the first element after the prologue ("" if none is in sight)."""
    position = 0
    while match := _PROLOGUE.match(head, position):  # never empty, so this ends
        position = match.end()
    root = _ROOT.match(head, position)
    return root.group(1).rpartition(":")[2] if root else ""


def _refuse_non_feed(body: bytes, head: str, base_url: str) -> None:
    """Raise for what is plainly no feed: text, an HTML page, absurdly deep XML.

    Raises:
        ParseError: with the reason.
    """
    if not head.startswith("<"):
        raise ParseError(base_url, f"not a feed: expected XML or JSON, got {head[:40]!r}")
    if _root_name(head) == "html" or "<!doctype html" in head[:200]:
        raise ParseError(base_url, _html_page_reason(body, base_url))
    if _nests_too_deep(body):
        raise ParseError(base_url, f"not a feed: XML nested more than {_MAX_DEPTH} levels deep")


def _html_page_reason(body: bytes, base_url: str) -> str:
    """Say it is a web page, and where its feed is if the page names one."""
    text = body[:65536].decode("utf-8", errors="replace")
    link = _FEED_LINK.search(text)
    href = _HREF.search(link.group(0)) if link else None
    feed_url = _absolute(html.unescape(href.group(1)), base_url) if href else ""
    reason = "an HTML page, not a feed"
    return f"{reason}; the page names its feed: {feed_url}" if feed_url else reason


def _nests_too_deep(body: bytes) -> bool:
    """Whether the XML nests deeper than ``_MAX_DEPTH``.

    Counting tags first skips the real parse for ordinary feeds: fewer unclosed tags than
    the limit cannot nest that deep. libxml2 stops at the limit, so the parse is cheap
    exactly when the answer is yes. ``huge_tree`` lets big CDATA sections through (without
    it a 10 MB section reads as broken and its HTML as nested XML).
    """
    if _unclosed_tags(body) < _MAX_DEPTH:
        return False
    parser = etree.XMLParser(
        recover=True, huge_tree=True, resolve_entities=False, no_network=True, load_dtd=False
    )
    # Not XML at all is for the parsers below to report, in their own words.
    with contextlib.suppress(etree.XMLSyntaxError):
        etree.fromstring(body, parser)
    return any("excessive depth" in error.message.lower() for error in parser.error_log)


def _unclosed_tags(body: bytes) -> int:
    """Start tags less end tags and self-closed tags when that is ``_MAX_DEPTH`` or more,
    else some number under ``_MAX_DEPTH``: each count only lowers the result, so the slower
    counts are skipped once it is under the limit (``<`` alone settles most feeds)."""
    bound = body.count(b"<")
    if bound >= _MAX_DEPTH:
        bound -= 2 * body.count(b"</")
    if bound >= _MAX_DEPTH:
        bound -= body.count(b"/>")
    return bound


def _bounded(body: bytes) -> bytes:
    """The document without its entries after the first ``MAX_ENTRIES``: cut where the
    next entry starts, and closed with what follows the document's last entry."""
    if len(body) <= _BOUND_FROM_BYTES:  # parsing all of it costs less than looking
        return body
    if body.count(b"item") + body.count(b"entry") <= MAX_ENTRIES:  # every entry tag has one
        return body
    starts = _ENTRY_START.finditer(body)
    extra = next(itertools.islice(starts, MAX_ENTRIES, None), None)
    if extra is None:
        return body
    tail = b""
    for end in _ENTRY_END.finditer(body, max(extra.start(), len(body) - _TAIL_BYTES)):
        tail = body[end.end() :]
    return body[: extra.start()] + tail


def _without_internal_subset(body: bytes) -> bytes:
    """The document without its DOCTYPE's internal subset, and without references to the
    entities declared there (a billion laughs, an external file): they become nothing."""
    start = body.find(b"<!DOCTYPE", 0, _PROLOGUE_BYTES)
    doctype = _DOCTYPE.match(body, start) if start >= 0 else None
    if doctype is None:
        return body
    declared = frozenset(_ENTITY_DECLARATION.findall(doctype.group(1)))
    rest = body[doctype.end() :]
    if declared:
        rest = _ENTITY_REFERENCE.sub(lambda m: b"" if m.group(1) in declared else m.group(0), rest)
    return body[:start] + rest


def _has_entry_tags(body: bytes) -> bool:
    return any(tag in body for tag in (b"<item", b"<entry", b":item", b":entry"))


# --- parsing with the libraries -------------------------------------------------------


def _parse_markup(body: bytes, head: str, base_url: str) -> Mapping[str, Any]:
    """fastfeedparser's result, or feedparser's when that one fails or misses entries.

    Raises:
        ParseError: neither library reads it as a feed.
    """
    try:
        result: Mapping[str, Any] | None = fastfeedparser.parse(
            body,
            include_tags=True,
            include_enclosures=True,  # image enclosures
        )
        error = ""
    except Exception as e:  # hostile bytes can break a parser in any way; fall back below
        result, error = None, _first_line(str(e)) or type(e).__name__
    if result is not None and (result.get("entries") or not _has_entry_tags(body)):
        return result
    fallback = _parse_with_feedparser(body) if _may_fall_back(body, head) else None
    if fallback is not None and (fallback.get("entries") or result is None):
        return fallback
    if result is not None:
        return result
    raise ParseError(base_url, _failure_reason(head, error))


def _may_fall_back(body: bytes, head: str) -> bool:
    return _root_name(head) in _FEED_ROOTS and body.count(b"<") <= _FALLBACK_MAX_TAGS


def _parse_with_feedparser(body: bytes) -> Mapping[str, Any] | None:
    """feedparser's result if it recognized a feed, else None."""
    import feedparser

    try:
        # A file object, never bytes or str: feedparser opens a str or bytes naming a file.
        result: Mapping[str, Any] = feedparser.parse(io.BytesIO(body), sanitize_html=True)
    except Exception:  # same reason as above: a failure here only means "not a feed"
        return None
    return result if result.get("version") or result.get("entries") else None


def _failure_reason(head: str, error: str) -> str:
    root = _root_name(head)
    if root and root not in _FEED_ROOTS:
        return f"not a feed: the document is <{root}>, not RSS, Atom or RDF"
    return f"unreadable feed: {error[:200]}" if error else "unreadable feed"


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


def _from_library(result: Mapping[str, Any], base_url: str) -> RawFeed:
    """Turn fastfeedparser's or feedparser's result (the same shape) into a RawFeed."""
    info = result.get("feed") or {}
    link = _absolute(_text_field(info, "link"), base_url)
    base = base_url or link
    raw_entries = list(result.get("entries") or [])[:MAX_ENTRIES]
    entries = tuple(_raw_entry(_library_fields(raw), base) for raw in raw_entries)
    return RawFeed(title=_clean_title(_text_field(info, "title")), link=link, entries=entries)


@dataclass(slots=True)
class _Fields:
    """An entry's fields as found, before cleaning (made once and read once for each
    entry: not frozen, whose ``__init__`` costs three times as much)."""

    id: str
    link: str
    title: str
    body: tuple[str, _Body]
    published: float | None
    author: str
    tags: tuple[str, ...] = ()
    image: str = ""


def _library_fields(raw: Mapping[str, Any]) -> _Fields:
    return _Fields(
        id=_text_field(raw, "id"),
        link=_text_field(raw, "link"),
        title=_text_field(raw, "title"),
        body=_library_body(raw),
        published=_library_date(raw),
        author=_library_author(raw),
        tags=_library_tags(raw.get("tags")),
        image=_library_image(raw),
    )


def _text_field(mapping: Mapping[str, Any], key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def _library_body(raw: Mapping[str, Any]) -> tuple[str, _Body]:
    """The longest full content; else the summary; else a media description (YouTube)."""
    contents = raw.get("content")
    found = [c for c in contents if isinstance(c, (dict, Mapping))] if contents else []
    best = max(found, key=lambda c: len(_text_field(c, "value")), default=None)
    if best is not None and _text_field(best, "value"):
        plain = _text_field(best, "type") in ("text", "text/plain")  # Atom says "text"
        return _text_field(best, "value"), _Body.PLAIN if plain else _Body.HTML
    summary = _text_field(raw, "description") or _text_field(raw, "summary")
    return (summary, _Body.HTML) if summary else _media_body(raw)


def _media_body(raw: Mapping[str, Any]) -> tuple[str, _Body]:
    media = raw.get("media_content")
    if isinstance(media, list):
        for item in media:
            if isinstance(item, (dict, Mapping)) and _text_field(item, "description"):
                return item["description"], _Body.PLAIN
    return _text_field(raw, "media_description"), _Body.HTML


def _library_date(raw: Mapping[str, Any]) -> float | None:
    """feedparser's parsed struct_time, or fastfeedparser's ISO string."""
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = raw.get(key)
        if isinstance(value, time.struct_time):
            return float(calendar.timegm(value))
    return _first_date(raw, ("published", "updated", "created"))


def _first_date(mapping: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    """The first of these fields that holds a date we can read."""
    for key in keys:
        when = _parse_date(_text_field(mapping, key))
        if when is not None:
            return when
    return None


def _library_image(raw: Mapping[str, Any]) -> str:
    """The first image among an entry's media (``media:content`` of an image type or
    medium, else a media thumbnail), enclosures and Atom enclosure links."""
    if not _MEDIA_KEYS.intersection(raw):  # most entries: only links (1 µs saved)
        return _enclosure_link(raw)
    media = _mappings(raw.get("media_content"))
    found = itertools.chain(
        (_text_field(m, "url") for m in media if _is_image(m, "medium")),
        (_text_field(m, "thumbnail_url") for m in media),
        (_text_field(m, "url") for m in _mappings(raw.get("media_thumbnail"))),
        (_text_field(m, "url") for m in _mappings(raw.get("enclosures")) if _is_image(m)),
        (
            _text_field(m, "href")
            for m in _mappings(raw.get("links"))
            if m.get("rel") == "enclosure" and _is_image(m)
        ),
    )
    return next((url for url in found if url), "")


def _enclosure_link(raw: Mapping[str, Any]) -> str:
    """The first Atom enclosure link of an image type."""
    for m in _mappings(raw.get("links")):
        if m.get("rel") == "enclosure" and _is_image(m):
            return _text_field(m, "href")
    return ""


def _mappings(value: object) -> list[Mapping[str, Any]]:
    # (dict, Mapping): the libraries give dicts, and the ABC check alone costs 4x as much.
    return [m for m in value if isinstance(m, (dict, Mapping))] if isinstance(value, list) else []


def _is_image(item: Mapping[str, Any], medium: str = "") -> bool:
    kind = _text_field(item, "type").lower()
    return kind.startswith("image/") or bool(medium and _text_field(item, medium) == "image")


def _library_author(raw: Mapping[str, Any]) -> str:
    author = _text_field(raw, "author")
    detail = raw.get("author_detail")
    if not author and isinstance(detail, (dict, Mapping)):
        author = _text_field(detail, "name")
    return author


# --- JSON Feed ------------------------------------------------------------------------


def _parse_json_feed(body: bytes, base_url: str) -> RawFeed:
    """Parse a JSON Feed 1.0/1.1, checking every field's type (the bytes are untrusted).

    Raises:
        ParseError: not JSON, or JSON without an ``items`` list.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as e:
        raise ParseError(base_url, f"invalid JSON: {_first_line(str(e))[:200]}") from e
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise ParseError(base_url, 'JSON, but not a JSON Feed (no "items" list)')
    link = _absolute(_text_field(document, "home_page_url"), base_url)
    base = base_url or link
    items = [item for item in document["items"] if isinstance(item, dict)][:MAX_ENTRIES]
    entries = tuple(_raw_entry(_json_fields(item), base) for item in items)
    return RawFeed(_clean_title(_text_field(document, "title")), link, entries)


def _json_fields(item: Mapping[str, Any]) -> _Fields:
    raw_id = item.get("id")
    return _Fields(
        id=str(raw_id) if isinstance(raw_id, str | int) else "",
        link=_text_field(item, "url") or _text_field(item, "external_url"),
        title=_text_field(item, "title"),
        body=_json_body(item),
        published=_first_date(item, ("date_published", "date_modified")),
        author=_json_author(item),
        tags=_clean_tags(item.get("tags")),
        image=_text_field(item, "image") or _text_field(item, "banner_image"),
    )


def _json_body(item: Mapping[str, Any]) -> tuple[str, _Body]:
    if _text_field(item, "content_html"):
        return item["content_html"], _Body.HTML
    if _text_field(item, "content_text"):
        return item["content_text"], _Body.PLAIN
    return _text_field(item, "summary"), _Body.HTML


def _json_author(item: Mapping[str, Any]) -> str:
    authors = item.get("authors")  # 1.1
    candidates = authors if isinstance(authors, list) else [item.get("author")]  # 1.0
    for author in candidates:
        if isinstance(author, (dict, Mapping)) and _text_field(author, "name"):
            return _text_field(author, "name")
    return ""


def _library_tags(tags: object) -> tuple[str, ...]:
    """Category names from a library's ``tags`` ({term, label}): the label, else the term."""
    if not isinstance(tags, list):
        return ()
    names = [
        _text_field(t, "label") or _text_field(t, "term")
        for t in tags
        if isinstance(t, (dict, Mapping))
    ]
    return _clean_tags(names)


def _clean_tags(tags: object) -> tuple[str, ...]:
    """At most ``MAX_TAGS`` distinct tags of plain text, each at most ``TAG_MAX_CHARS``."""
    if not isinstance(tags, list):
        return ()
    strings = [t for t in tags[: MAX_TAGS * 4] if isinstance(t, str)]
    cleaned = (_clip(_one_line(t), TAG_MAX_CHARS) for t in strings)
    return tuple(dict.fromkeys(t for t in cleaned if t))[:MAX_TAGS]


# --- entries --------------------------------------------------------------------------


def _raw_entry(fields: _Fields, base: str) -> RawEntry:
    """Clean an entry's fields: absolute URL, plain title, a guid always. The body is
    converted here only when the entry has no title (its text stands in for one)."""
    url = _absolute(fields.link, base)
    guid = _clean_line(fields.id)[:1000]
    if url and guid == _clean_line(fields.link):
        guid = url  # the library filled a missing id with the link, maybe a relative one
    if not url and guid.startswith(("http://", "https://")):
        url = _absolute(guid, base)  # RSS guid isPermaLink
    title = _clean_title(fields.title)
    body, kind = fields.body
    if not title:
        body, kind = _body_text(body, kind), _Body.TEXT
        title = _title_from_text(body)
    guid = guid or url or _hash_guid(title, fields.published, body if kind is _Body.TEXT else "")
    author = _clip(_one_line(fields.author), AUTHOR_MAX_CHARS)
    image = image_url(fields.image) if fields.image else ""  # absolute http(s) only
    return RawEntry(guid, url, title, fields.published, author, body, kind, fields.tags, image)


def _body_text(body: str, kind: _Body) -> str:
    """An entry body as plain text, at most ``TEXT_MAX_CHARS``."""
    if kind is _Body.TEXT:
        return body
    if kind is _Body.PLAIN:
        return _truncate_text(_plain_paragraphs(_BAD_CHARS.sub("", body)))
    return _truncate_text(html_to_text(body))


def _hash_guid(title: str, published: float | None, text: str) -> str:
    key = f"{title}\n{published}" + ("" if title else f"\n{text}")
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _absolute(link: str, base: str) -> str:
    """The link made absolute against ``base``; "" unless it ends up http(s)."""
    link = _BAD_CHARS.sub("", link).strip()
    if not link:
        return ""
    if _PLAIN_ABSOLUTE.match(link):  # most links: nothing to resolve (urljoin is 30 µs)
        return link
    try:
        url = urljoin(base, link) if base else link
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. a broken IPv6 literal
        return ""
    return url if scheme in ("http", "https") else ""


def _parse_date(value: str) -> float | None:
    """Epoch seconds of an ISO 8601 / RFC 3339 or RFC 822 date; naive means UTC."""
    value = value.strip()
    if not value:
        return None
    for parse in (datetime.fromisoformat, parsedate_to_datetime):
        try:
            moment = parse(value)
        except (ValueError, TypeError, IndexError, OverflowError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return moment.timestamp()
        except (OverflowError, ValueError):
            return None
    return None


# --- text cleaning --------------------------------------------------------------------


def _clean_line(text: str) -> str:
    """One line: control characters out, whitespace runs as one space."""
    return " ".join(_BAD_CHARS.sub("", text).split())


def _one_line(markup: str) -> str:
    """A short field that may hold HTML (a tag, an author) as one line of plain text; the
    same as ``_clean_line(html_to_text(markup))``, without its paragraphs when no tag."""
    if _TAG.search(markup):
        return _clean_line(html_to_text(markup))
    return " ".join(_BAD_CHARS.sub("", html.unescape(markup)).split())


def _clean_title(raw: str) -> str:
    text = html_to_text(raw) if _TAG.search(raw) else html.unescape(_BAD_CHARS.sub("", raw))
    return _clip(" ".join(text.split()), TITLE_MAX_CHARS)


def _title_from_text(text: str) -> str:
    """A stand-in title for entries without one (microblog feeds): the text's opening."""
    return _clip(" ".join(text.split("\n\n", 1)[0].split()), 120)


def _clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def _truncate_text(text: str) -> str:
    """At most ``TEXT_MAX_CHARS``, cut at a paragraph boundary when there is one."""
    if len(text) <= TEXT_MAX_CHARS:
        return text
    cut = text[:TEXT_MAX_CHARS]
    boundary = cut.rfind("\n\n")
    return cut[:boundary] if boundary > TEXT_MAX_CHARS // 2 else cut


def _plain_paragraphs(text: str) -> str:
    paragraphs = (" ".join(block.split()) for block in _BLANK_LINE.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def _html_root(markup: str, parser: Any) -> Any:
    """The parsed fragment, or None when libxml2 makes nothing of it."""
    try:
        # "ignore" drops lone surrogates, which cannot be encoded (JSON can carry them).
        return etree.fromstring(markup.encode("utf-8", "ignore"), parser)
    except etree.LxmlError:
        return None


def _drop_invisible(root: Any, markup: str, present: set[str]) -> bool:
    """Drop scripts, styles and other invisible elements with their content, except one
    the markup never closes (or never opened: the parser implied it): the parser gives such
    an element the rest of the text (an escaped, unclosed ``<script>`` must not empty a
    post), so it stays, and only its tag is ignored (the flattening has no rule for it).
    ``present``: the invisible elements' tags the tree holds. Whether any was dropped."""
    closed = [tag for tag in present if 0 < _opened(markup, tag) <= _closed(markup, tag)]
    if closed:
        etree.strip_elements(root, *closed, with_tail=False)
    return bool(closed)


def _opened(markup: str, tag: str) -> int:
    return len(re.findall(_INVISIBLE_TAGS[tag][0], markup))


def _closed(markup: str, tag: str) -> int:
    return len(re.findall(_INVISIBLE_TAGS[tag][1], markup))


def _any_case(name: str) -> str:
    return "".join(f"[{letter}{letter.upper()}]" for letter in name)


# Each invisible element's start and end tags in any ASCII case (compiled on first use, by
# re's cache): what lowering the markup and looking for lowercase tags found, without the
# copy. Only two other characters lower to ASCII letters: the Kelvin sign to "k", in none
# of these names, and "İ" to "i" and a combining dot, which no name has after an "i".
_INVISIBLE_TAGS = {
    tag: (f"<{_any_case(tag)}[\\s/>]", f"</{_any_case(tag)}\\s*>") for tag in _SKIP_TAGS
}


# The text of the root element in document order, with a paragraph mark before and after
# each block element, a break mark for <br> and a space after a table cell. One libxslt
# pass in C: about twice as cheap as marking the tree's texts from Python and serializing.
# Only the root element counts: libxml2 puts what follows a stray </html> after it.
# An invisible element writes nothing but a message with its name, which lxml keeps in the
# stylesheet's error log: only then (248 of 2,553 corpus bodies) are the closed ones
# dropped and the tree flattened again.
_FLATTEN = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="utf-8"/>
<xsl:template match="/"><xsl:apply-templates select="*[1]"/></xsl:template>
<xsl:template match="{" | ".join(_BLOCK_TAGS)}">{_PARA}<xsl:apply-templates/>{_PARA}</xsl:template>
<xsl:template match="br">{_BREAK}</xsl:template>
<xsl:template match="{" | ".join(_CELL_TAGS)}"><xsl:apply-templates/>
<xsl:text> </xsl:text></xsl:template>
<xsl:template match="{" | ".join(_SKIP_TAGS)}">
<xsl:message><xsl:value-of select="name()"/></xsl:message><xsl:apply-templates/></xsl:template>
</xsl:stylesheet>"""


class _Converter(threading.local):
    """One HTML parser and the stylesheet per thread (lxml objects are not shared
    between threads): a parser kept, without an id table (nothing looks elements up by
    id), parses about 5% cheaper than a new one for each document."""

    def __init__(self) -> None:
        self.parser = etree.HTMLParser(
            encoding="utf-8",
            remove_comments=True,
            remove_pis=True,
            no_network=True,
            default_doctype=False,
            collect_ids=False,
        )
        self.flatten = etree.XSLT(etree.XML(_FLATTEN))


_CONVERTER = _Converter()


def _flattened(root: Any, markup: str, converter: _Converter) -> bytes:
    """The root element's text as UTF-8 with paragraph, break and cell marks (see
    ``_FLATTEN``), without the invisible elements ``_drop_invisible`` drops."""
    flatten = converter.flatten
    flat = bytes(flatten(root))
    log = flatten.error_log
    if not log:  # no invisible element: nothing to drop
        return flat
    present = {entry.message for entry in log}
    if not present.issubset(_SKIP_TAGS):  # something else went wrong: look at the tree
        present = {element.tag for element in root.iter(*_SKIP_TAGS)}
    return bytes(flatten(root)) if _drop_invisible(root, markup, present) else flat


def _html_paragraphs(flat: bytes) -> str:
    """Paragraphs from flattened UTF-8 text: blocks split at ``_PARA``, and at two
    ``<br>`` in a row; a single ``<br>`` stays a line break. Control characters go, and
    whitespace runs become one space, exactly as ``" ".join(text.split())`` does on the
    ``str``, but on the bytes: less than half the work, and no object for each word."""
    flat = flat.translate(_SPACE_BYTES, _CONTROL_BYTES)
    if b"\xef" in flat and _REPLACEMENT_UTF8 in flat:  # its first byte: a memchr, 10x cheaper
        flat = flat.replace(_REPLACEMENT_UTF8, b"")
    for lead, spaces in _UNICODE_SPACES:
        if lead in flat:
            flat = spaces.sub(b" ", flat)
    flat = _SPACE_RUN.sub(b" ", flat).strip(b" ")
    if _BREAK_UTF8 in flat:
        flat = _BREAKS_UTF8.sub(_PARA_UTF8, flat)
        # A single <br> left is a line break, without the space on either side
        flat = _BREAK_SPACE_UTF8.sub(b"\n", flat.replace(b" " + _BREAK_UTF8, _BREAK_UTF8))
    paragraphs = [block.strip(b" \n") for block in flat.split(_PARA_UTF8)]
    return b"\n\n".join(filter(None, paragraphs)).decode("utf-8")

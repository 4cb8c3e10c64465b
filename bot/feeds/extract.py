"""Full-text extraction: the article body of a web page, with trafilatura.

Synchronous and CPU-bound: callers run it with ``asyncio.to_thread``. It works on the bytes
or text it is given and never fetches anything: trafilatura only downloads in its
``fetch_url`` helpers, which are not used here, and ``url`` serves only as metadata.

Settings, measured on the 106 pages of the article-extraction benchmark (mean precision P,
mean recall R, F1 of the two, as the benchmark scores them; about 0.05 s a page):

============================  =====  =====  ======
trafilatura 2.3 options        P      R      F1
============================  =====  =====  ======
defaults, no comments         0.947  0.977  0.961
favor_precision (chosen)      0.966  0.976  0.971
favor_precision, no tables    0.963  0.964  0.963
favor_recall                  0.944  0.977  0.960
fast                          0.947  0.978  0.962
============================  =====  =====  ======

Precision wins: boilerplate in the text leaks into summaries, while the few sentences it
costs rarely matter. Tables stay (they carry numbers news relies on); comments go.

Plain-text articles (``newsbrief summarize FILE.txt``) go through :func:`split_plain_text`:
their first line is a title only when it looks like one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # trafilatura loads only when a page is extracted (50 ms, 10 MB)
    from trafilatura.settings import Document

from bot.feeds.netguard import image_url
from summarizer.sentences import is_terminated, strip_invisible

__all__ = ["MAX_PAGE_BYTES", "MIN_CHARS", "ExtractedPage", "extract_article", "split_plain_text"]

log = logging.getLogger(__name__)

# trafilatura's time grows faster than the page: 0.75 MB of dense paragraphs takes 2.3 s,
# 7.5 MB takes 45 s. Real article pages are far smaller (the benchmark's largest is 1.1 MB),
# so a page is cut to this size before extraction.
MAX_PAGE_BYTES = 2_000_000
# Less text than this is a menu or a caption trafilatura fell back to, not an article.
# Counted in characters, not words: Chinese and Japanese do not separate words by spaces.
MIN_CHARS = 80
_TITLE_MAX_CHARS = 500
# A plain-text headline is one line of at most this many characters; news headlines run
# to about 100, tabloid ones to nearly 200, and a lead sentence that short ends in a stop.
_PLAIN_TITLE_MAX_CHARS = 200


@dataclass(frozen=True)
class ExtractedPage:
    """An article's main text as extracted from its page."""

    title: str
    text: str  # paragraphs separated by blank lines
    author: str = ""
    image: str = ""  # the page's og:image or twitter:image, absolute http(s), or ""


def extract_article(html: bytes | str, url: str = "") -> ExtractedPage | None:
    """Extract the article's title and body text from a web page.

    Args:
        html: the page as fetched (bytes in any encoding the page declares, or text).
            Pages over ``MAX_PAGE_BYTES`` are cut at a tag boundary first.
        url: the page's address, used only as metadata (never fetched).

    Returns:
        The title, the main text with paragraphs separated by blank lines, the author
        when the page names one and its ``og:image``/``twitter:image`` (an absolute
        http(s) URL, else ""); None when the page holds no article text (an index page,
        an empty or broken document, under ``MIN_CHARS`` characters).

    Raises:
        TypeError: ``html`` is neither bytes nor str.
    """
    if not isinstance(html, bytes | str):
        raise TypeError(f"extract_article takes bytes or str, not {type(html).__name__}")
    if not html.strip():
        return None
    document = _extract(_cap(html), url)
    text = _paragraphs(document.text or "") if document else ""
    if not document or len(text) - text.count(" ") < MIN_CHARS:
        return None
    title = _one_line(document.title or "")[:_TITLE_MAX_CHARS]
    author = _one_line(document.author or "")
    return ExtractedPage(title, text, author, _page_image(document.image))


def _extract(html: bytes | str, url: str) -> Document | None:
    """trafilatura's document, or None when it finds none or breaks on the page."""
    import trafilatura  # loaded on first use, see the import at the top
    from trafilatura.settings import Document

    try:
        result = trafilatura.bare_extraction(
            html,
            url=url or None,
            favor_precision=True,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
        )
    except Exception:  # hostile markup may break the extractor anywhere; no text, then
        log.warning("article extraction failed for %s", url or "a page", exc_info=True)
        return None
    return result if isinstance(result, Document) else None


def _page_image(image: object) -> str:
    return image_url(image) if isinstance(image, str) else ""


def _cap(html: bytes | str) -> bytes | str:
    """The page cut to ``MAX_PAGE_BYTES``, at the start of a tag so no character is split."""
    if len(html) <= MAX_PAGE_BYTES:
        return html
    if isinstance(html, bytes):
        cut = html.rfind(b"<", 0, MAX_PAGE_BYTES)
    else:
        cut = html.rfind("<", 0, MAX_PAGE_BYTES)
    return html[: cut if cut > 0 else MAX_PAGE_BYTES]


def _paragraphs(text: str) -> str:
    """trafilatura puts one paragraph per line; we separate them by blank lines."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def split_plain_text(text: str) -> ExtractedPage:
    """Tell a plain-text article's title from its body.

    The first non-blank line is the title only when it looks like one: at most 200
    characters, not ending like a sentence (``.``, ``!``, ``?``, ``…``, perhaps before
    closing quotes), and followed by a blank line. Otherwise it is the body's first line
    (often the lead sentence, the most important one) and the title is empty.

    Args:
        text: The file's text.

    Returns:
        The title ("" when there is none) and the body, both stripped.
    """
    lines = strip_invisible(text).strip().splitlines()
    first = lines[0].strip() if lines else ""
    followed_by_blank = len(lines) > 2 and not lines[1].strip()
    if followed_by_blank and _looks_like_title(first):
        return ExtractedPage(title=_one_line(first), text="\n".join(lines[2:]).strip())
    return ExtractedPage(title="", text="\n".join(lines).strip())


def _looks_like_title(line: str) -> bool:
    """Short, with a letter, and not ending like a sentence."""
    short = len(line) <= _PLAIN_TITLE_MAX_CHARS
    return short and any(c.isalpha() for c in line) and not is_terminated(line)

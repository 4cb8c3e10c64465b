"""HTML to text as it was after issue 11's second round (one libxslt pass, then the
paragraphs made on the ``str``), frozen: the reference ``python -m bench html`` measures the
product against, and that the property tests compare it with. Kept independent of
``bot/feeds/parse.py`` on purpose (its own patterns, parser and stylesheet), so changing the
product cannot change the reference.
"""

from __future__ import annotations

import html
import re
import threading
from typing import Any

from lxml import etree

__all__ = [
    *("BLOCK_TAGS", "BREAK", "CELL_TAGS", "PARA", "SKIP_TAGS", "TAG", "closed", "opened"),
    *("flat_to_paragraphs", "html_root", "plain_paragraphs", "xslt_html_to_text"),
]

PARA = "\ue000"
BREAK = "\ue001"
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff]")
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff\ue000\ue001]")
TAG = re.compile(r"<[a-zA-Z/!?]")
_ANY_TAG = re.compile(r"<[^>]*>")
_BLANK_LINE = re.compile(r"\n\s*\n")
_BREAKS = re.compile(f"{BREAK}(?: ?{BREAK})+")
_LINE_EDGES = re.compile(r" ?\n ?")
SKIP_TAGS = (
    *("script", "style", "noscript", "template", "iframe", "object", "embed", "svg"),
    *("head", "math", "form", "button", "select"),
)
BLOCK_TAGS = (
    *("p", "div", "section", "article", "header", "footer", "aside", "main", "nav"),
    *("h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd"),
    *("blockquote", "pre", "figure", "figcaption", "table", "tr", "hr", "address"),
    *("details", "summary"),
)
CELL_TAGS = ("td", "th")
_FLATTEN = f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:output method="text" encoding="utf-8"/>
<xsl:template match="/"><xsl:apply-templates select="*[1]"/></xsl:template>
<xsl:template match="{" | ".join(BLOCK_TAGS)}">{PARA}<xsl:apply-templates/>{PARA}</xsl:template>
<xsl:template match="br">{BREAK}</xsl:template>
<xsl:template match="{" | ".join(CELL_TAGS)}"><xsl:apply-templates/>
<xsl:text> </xsl:text></xsl:template>
</xsl:stylesheet>"""
_THREAD = threading.local()


def xslt_html_to_text(markup: str) -> str:
    """``bot.feeds.parse.html_to_text`` as it was after issue 11's second round."""
    if not TAG.search(markup):
        return plain_paragraphs(_BAD_CHARS.sub("", html.unescape(markup)))
    if PARA in markup or BREAK in markup:
        markup = markup.replace(PARA, "").replace(BREAK, "")
    root = html_root(markup)
    if root is None:
        return plain_paragraphs(_BAD_CHARS.sub("", html.unescape(_ANY_TAG.sub(" ", markup))))
    _drop_invisible(root, markup)
    return flat_to_paragraphs(_flattened(root))


def plain_paragraphs(text: str) -> str:
    """Paragraphs of a text without tags, split at its blank lines."""
    paragraphs = (" ".join(block.split()) for block in _BLANK_LINE.split(text))
    return "\n\n".join(p for p in paragraphs if p)


def html_root(markup: str) -> Any:
    """The parsed fragment (a new parser each call), or None."""
    parser = etree.HTMLParser(
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
        no_network=True,
        default_doctype=False,
    )
    try:
        return etree.fromstring(markup.encode("utf-8", "ignore"), parser)
    except etree.LxmlError:
        return None


def _drop_invisible(root: Any, markup: str) -> None:
    present = {element.tag for element in root.iter(*SKIP_TAGS)}
    if not present:
        return
    lowered = markup.lower()
    gone = [tag for tag in present if 0 < opened(lowered, tag) <= closed(lowered, tag)]
    if gone:
        etree.strip_elements(root, *gone, with_tail=False)


def opened(lowered: str, tag: str) -> int:
    """How many times ``tag`` opens in the lowered markup."""
    return len(re.findall(f"<{tag}[\\s/>]", lowered))


def closed(lowered: str, tag: str) -> int:
    """How many times ``tag`` closes in the lowered markup."""
    return len(re.findall(f"</{tag}\\s*>", lowered))


def _flattened(root: Any) -> str:
    flatten = getattr(_THREAD, "flatten", None)
    if flatten is None:
        flatten = _THREAD.flatten = etree.XSLT(etree.XML(_FLATTEN))
    return str(flatten(root))


def flat_to_paragraphs(flat: str) -> str:
    """Control characters out, then paragraphs from the marked text (on the ``str``)."""
    flat = " ".join(_CONTROL_CHARS.sub("", flat).split())
    if BREAK in flat:
        flat = _BREAKS.sub(PARA, flat).replace(BREAK, "\n")
        flat = _LINE_EDGES.sub("\n", flat)
    paragraphs = (block.strip(" \n") for block in flat.split(PARA))
    return "\n\n".join(p for p in paragraphs if p)

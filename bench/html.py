"""HTML to text and read_feed's own work on the real corpus (issue 11): the conversion as
it was before issue 11 (marks set on the tree from Python, then ``tostring(method="text")``),
as its second round left it (one libxslt pass, the paragraphs made on the ``str``: frozen in
``bench/html_xslt.py``) and as the product does it now (the paragraphs made on the UTF-8
bytes of the libxslt result), alternated in one run, with the count of entries and pages
whose text differs; and ``read_feed`` (structure only) beside fastfeedparser alone on the
same bytes."""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastfeedparser
from lxml import etree

from bench import Rows, run_table
from bench import html_xslt as frozen
from bot.feeds import parse
from bot.feeds.parse import html_to_text, read_feed

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
ROUNDS = 5


# --- the previous conversion, kept to measure against ---------------------------------------


def previous_html_to_text(markup: str) -> str:
    """``html_to_text`` before issue 11's work: the same parse, then the marks set on the
    tree's texts from Python and the text serialized by lxml."""
    if not frozen.TAG.search(markup):
        return frozen.xslt_html_to_text(markup)  # no tag: the same plain-text path
    markup = markup.replace(frozen.PARA, "").replace(frozen.BREAK, "")
    root = frozen.html_root(markup)
    if root is None:
        return frozen.xslt_html_to_text(markup)  # the same fallback
    _previous_drop_invisible(root, markup)
    _previous_mark_boundaries(root)
    flat = etree.tostring(root, method="text", encoding="unicode", with_tail=False)
    return frozen.flat_to_paragraphs(flat)


def _previous_drop_invisible(root: Any, markup: str) -> None:
    present = {element.tag for element in root.iter(*frozen.SKIP_TAGS)}
    if not present:
        return
    lowered = markup.lower()
    closed = {
        tag for tag in present if 0 < frozen.opened(lowered, tag) <= frozen.closed(lowered, tag)
    }
    if present - closed:
        etree.strip_tags(root, *(present - closed))
    if closed:
        etree.strip_elements(root, *closed, with_tail=False)


def _previous_mark_boundaries(root: Any) -> None:
    for element in root.iter("br"):
        element.tail = frozen.BREAK + (element.tail or "")
    for element in root.iter(*frozen.CELL_TAGS):
        element.tail = " " + (element.tail or "")
    for element in root.iter(*frozen.BLOCK_TAGS):
        element.text = frozen.PARA + (element.text or "")
        element.tail = frozen.PARA + (element.tail or "")


def _previous_unclosed_tags(body: bytes) -> int:
    return body.count(b"<") - 2 * body.count(b"</") - body.count(b"/>")


# --- inputs and timing -------------------------------------------------------------------------


def _feeds() -> list[bytes]:
    return [path.read_bytes() for path in sorted((CORPUS / "feeds").glob("*.xml"))]


def _pages() -> list[str]:
    paths = sorted((CORPUS / "pages").glob("*.html.gz"))
    return [gzip.decompress(path.read_bytes()).decode("utf-8", "replace") for path in paths]


def _html_bodies(feeds: list[bytes]) -> list[str]:
    """Every entry body that is HTML, as ingest converts it (once per entry)."""
    raws = [raw for body in feeds for raw in read_feed(body).entries]
    return [raw.body for raw in raws if raw.body_kind.value == "html"]


def _cpu(work: Callable[[], object]) -> float:
    """Least CPU seconds of a few rounds (steadier than wall time on a shared machine)."""
    return _alternated({"work": work})["work"]


def _alternated(works: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Least CPU seconds of each work over ``ROUNDS`` rounds that run them in turn, so a
    busy moment of the machine falls on all of them alike."""
    best = dict.fromkeys(works, float("inf"))
    for _ in range(ROUNDS):
        for name, work in works.items():
            start = time.process_time()
            work()
            best[name] = min(best[name], time.process_time() - start)
    return best


def _differing(markups: list[str], reference: Callable[[str], str]) -> int:
    return sum(reference(m) != html_to_text(m) for m in markups)


def _ffp(feeds: list[bytes], **options: bool) -> None:
    for body in feeds:
        fastfeedparser.parse(body, **options)


async def _rows(_: Path) -> Rows:
    feeds, pages = _feeds(), _pages()
    bodies = _html_bodies(feeds)
    tagged = [b for b in bodies if re.search(r"<[a-zA-Z/!?]", b)]
    html_s = _alternated(
        {
            "before": lambda: [previous_html_to_text(m) for m in bodies],
            "str": lambda: [frozen.xslt_html_to_text(m) for m in bodies],
            "now": lambda: [html_to_text(m) for m in bodies],
        }
    )
    guard_old = _cpu(lambda: [_previous_unclosed_tags(b) for b in feeds])
    guard_new = _cpu(lambda: [parse._unclosed_tags(b) for b in feeds])
    bare_s = _cpu(lambda: _ffp(feeds, include_tags=False))
    same_s = _cpu(lambda: _ffp(feeds, include_tags=True, include_enclosures=True))
    read_s = _cpu(lambda: [read_feed(b) for b in feeds])
    per = 1e6 / len(bodies)
    before, on_str, now = html_s["before"], html_s["str"], html_s["now"]
    return [
        ("corpus", f"{len(feeds)} feeds, {len(bodies)} HTML bodies ({len(tagged)} with tags)"),
        (f"CPU seconds, least of {ROUNDS} alternated", ""),
        (
            "  HTML to text, before (mark tree + tostring)",
            f"{before:.3f} s, {before * per:.0f} µs/entry",
        ),
        (
            "  HTML to text, one XSLT pass, paragraphs on str",
            f"{on_str:.3f} s, {on_str * per:.0f} µs/entry",
        ),
        (
            "  HTML to text, now (paragraphs on UTF-8 bytes)",
            f"{now:.3f} s, {now * per:.0f} µs/entry",
        ),
        ("  speed-up: now / on str, now / before", f"{on_str / now:.2f}x, {before / now:.2f}x"),
        (
            "bodies whose text differs from on str",
            f"{_differing(bodies, frozen.xslt_html_to_text)} of {len(bodies)}",
        ),
        (
            "pages whose text differs from on str",
            f"{_differing(pages, frozen.xslt_html_to_text)} of {len(pages)}",
        ),
        (
            "bodies whose text differs from before",
            f"{_differing(bodies, previous_html_to_text)} of {len(bodies)}",
        ),
        (
            "pages whose text differs from before",
            f"{_differing(pages, previous_html_to_text)} of {len(pages)}",
        ),
        ("  nesting guard, previous / now", f"{guard_old:.4f} / {guard_new:.4f} s"),
        ("  fastfeedparser alone (as bench ingest)", f"{bare_s:.3f} s"),
        ("  fastfeedparser, read_feed's options", f"{same_s:.3f} s"),
        ("  read_feed (structure)", f"{read_s:.3f} s"),
        (
            "  read_feed / fastfeedparser",
            f"{read_s / bare_s:.2f}x (same options: {read_s / same_s:.2f}x)",
        ),
    ]


def main() -> int:
    """Print the table."""
    if not (CORPUS / "feeds").is_dir():
        print(f"html: the corpus is not at {CORPUS}")
        return 1
    return run_table("html", _rows)

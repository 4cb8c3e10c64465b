"""OPML import and export of feed lists. Pure functions over text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from bot.errors import UserInputError


@dataclass(frozen=True)
class OpmlFeed:
    """One outline with a feed URL."""

    url: str
    title: str = ""


def parse_opml(text: str) -> list[OpmlFeed]:
    """Every ``outline`` with an ``xmlUrl``, nested folders included, duplicates dropped.

    Raises:
        UserInputError: not OPML.
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise UserInputError(f"not an OPML file: {e}") from e
    if root.tag.lower() != "opml":
        raise UserInputError("not an OPML file: the root element is not <opml>")
    feeds: dict[str, OpmlFeed] = {}
    for outline in root.iter("outline"):
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url and url not in feeds:
            title = outline.get("title") or outline.get("text") or ""
            feeds[url] = OpmlFeed(url, title.strip())
    return list(feeds.values())


def render_opml(feeds: list[OpmlFeed], title: str = "newsbrief feeds") -> str:
    """An OPML 2.0 document listing ``feeds``."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        label = feed.title or feed.url
        ET.SubElement(body, "outline", type="rss", text=label, title=label, xmlUrl=feed.url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

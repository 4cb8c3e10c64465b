"""Post templates: a channel's own layout for its posts, with placeholders.

The one definition of the placeholder set. A template is checked once, when the config is
read (:func:`check_template`), and filled per post (:func:`fill`) into
:class:`~bot.types.Piece` runs: the operator's literal text and each placeholder's value,
kept apart so that every renderer escapes each piece for its platform. Nothing is ever
formatted with ``str.format``: a value is plain text and is never read again as a
template, a format spec or markup, so a title holding ``{summary}``, ``<b>`` or
``@everyone`` arrives as those characters.

A template is plain text: ``{{`` and ``}}`` are literal braces; a placeholder is a bare
name (no format spec, no conversion, no index, no attribute).
"""

from __future__ import annotations

import string
from collections.abc import Mapping

from bot.digests import rules as digest_rules
from bot.errors import ConfigError
from bot.types import Article, ChannelOptions, Piece

__all__ = ["PLACEHOLDERS", "channel_zone", "check_template", "fill", "post_values"]

PLACEHOLDERS: Mapping[str, str] = {
    "title": "the article's title",
    "summary": "its summary",
    "url": "its link",
    "source": "the feed's name",
    "published": "when it was published, in the channel's timezone (2026-11-28 14:05)",
    "author": "its author, when the feed names one",
    "tags": "its categories, comma-separated",
    "sources": "how many sources its story has so far",
}
TEMPLATE_MAX_CHARS = 4000


def check_template(template: str) -> None:
    """Check a template: every placeholder known, braces balanced, nothing but names.

    Raises:
        ConfigError: the first problem, naming the bad placeholder.
    """
    if len(template) > TEMPLATE_MAX_CHARS:
        raise ConfigError(f"a template holds at most {TEMPLATE_MAX_CHARS} characters")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:  # "Single '}' encountered", "expected '}' before end of string"
        raise ConfigError(f"unbalanced braces ({e}); write {{{{ and }}}} for literal ones") from e
    for _, name, spec, conversion in parsed:
        if name is not None:
            _check_field(name, spec, conversion)


def _check_field(name: str, spec: str | None, conversion: str | None) -> None:
    shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
    shown += "}"
    if conversion or spec:
        raise ConfigError(f"placeholder {shown}: no conversions or format specs, only {{name}}")
    if name not in PLACEHOLDERS:
        known = ", ".join("{" + key + "}" for key in PLACEHOLDERS)
        raise ConfigError(f"unknown placeholder {shown}; known: {known}")


def fill(template: str, values: Mapping[str, str]) -> tuple[Piece, ...]:
    """The template as pieces: its literal text, and each placeholder's value (a missing
    value is empty). The template must have passed :func:`check_template`.

    Raises:
        ConfigError: it does not (unbalanced braces, an unknown placeholder).
    """
    check_template(template)
    pieces: list[Piece] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            pieces.append(Piece(literal))
        if name is not None:
            pieces.append(Piece(values.get(name, ""), name))
    return tuple(pieces)


def post_values(article: Article, summary: str, sources: int, zone: str) -> dict[str, str]:
    """Every placeholder's value for one article's post (``zone``: an IANA name)."""
    return {
        "title": article.title,
        "summary": summary,
        "url": article.url,
        "source": article.feed_name,
        "published": digest_rules.local_time(article.published, zone),
        "author": article.author,
        "tags": ", ".join(article.tags),
        "sources": str(sources),
    }


def channel_zone(options: ChannelOptions) -> str:
    """The zone a channel's times are shown in: its ``timezone``, else its digest's,
    else UTC."""
    if options.timezone:
        return options.timezone
    try:
        return digest_rules.zone_of(digest_rules.parse_schedule(options.digest))
    except ConfigError:  # checked when the config was read; never fail a post for it
        return "UTC"


def uses(template: str, name: str) -> bool:
    """Whether a (checked) template has the placeholder ``name``."""
    return any(field == name for _, field, _, _ in string.Formatter().parse(template))

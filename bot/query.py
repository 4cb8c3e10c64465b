"""Turning what a user typed into a safe full-text query. Pure."""

from __future__ import annotations

import re

from bot.errors import UserInputError

MAX_TOPIC_CHARS = 200
MAX_TERMS = 8
MAX_TERM_CHARS = 40
_TERM_RE = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset({"the", "a", "an", "of", "in", "on", "and", "or", "to", "for", "about"})


def topic_terms(topic: str) -> list[str]:
    """The words of a topic, lowercased; FTS syntax and symbols never survive.

    Raises:
        UserInputError: empty, too long, or no searchable word (message is user text).
    """
    text = topic.strip()
    if not text:
        raise UserInputError("Tell me a topic to summarize, for example: /summary venezuela")
    if len(text) > MAX_TOPIC_CHARS:
        raise UserInputError(
            f"That topic is {len(text):,} characters long; keep it under {MAX_TOPIC_CHARS}."
        )
    words = [w.lower()[:MAX_TERM_CHARS] for w in _TERM_RE.findall(text)]
    words = [w for w in words if w.strip("_")]
    if not words:
        raise UserInputError("That topic has no words I can search for. Try: /summary venezuela")
    meaningful = [w for w in words if w not in _STOP] or words
    return list(dict.fromkeys(meaningful))[:MAX_TERMS]


def fts_match(terms: list[str], *, any_term: bool = False) -> str:
    """An FTS5 MATCH expression where each term is a quoted string (so NEAR, AND, *, - and
    column filters are plain words); all terms by default, any with ``any_term``."""
    quoted = [f'"{t}"' for t in terms]
    return (" OR " if any_term else " ").join(quoted)

"""Stories in a chat: what a channel gets of a story's later articles. Pure decisions of
the channel's ``stories`` setting, what the chat has been told of the story so far, and the
article's sentences.

With ``thread`` (the default) a story's first article in a chat is a full post and every
later one an update in reply to it, carrying only the sentences the chat has not been told
yet; ``separate`` posts every article in full; ``first`` posts only a story's first article
in the chat. Whatever the setting, only a story's first post in a chat carries a poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from bot.types import Article, StoryMode, StoryPost
from summarizer.extractive import Tuning
from summarizer.terms import overlap, term_set

# A sentence whose terms overlap a sentence told already by more than this repeats it: the
# extractive summarizer's cross-validated redundancy cosine, one definition of "says the
# same thing again".
REPEAT = Tuning().redundancy
MAX_TOLD = 200  # sentences remembered per story and chat (a long story's oldest go first)


class Telling(Enum):
    """What an article of a story becomes in a chat."""

    POST = "post"  # a full post
    UPDATE = "update"  # an update in reply to the story's post
    SKIP = "skip"  # nothing


def telling(mode: StoryMode, post: StoryPost | None) -> Telling:
    """What an article becomes in a chat with this ``stories`` setting, given the post its
    story has there (None: the chat has not been told of the story yet)."""
    if post is None:
        return Telling.POST
    return {
        StoryMode.THREAD: Telling.UPDATE,
        StoryMode.SEPARATE: Telling.POST,
        StoryMode.FIRST: Telling.SKIP,
    }[mode]


def untold(sentences: Sequence[str], told: Sequence[str]) -> tuple[str, ...]:
    """The sentences that repeat nothing told already (nor one another), in order."""
    seen = [term_set(t) for t in told]
    fresh: list[str] = []
    for sentence in sentences:
        terms = term_set(sentence)
        if any(overlap(terms, other) > REPEAT for other in seen):
            continue
        fresh.append(sentence)
        seen.append(terms)
    return tuple(fresh)


def told_after(told: Sequence[str], sentences: Sequence[str]) -> tuple[str, ...]:
    """What a chat has been told of a story once ``sentences`` are sent too (the latest
    :data:`MAX_TOLD`)."""
    known = set(told)
    added = [s for s in dict.fromkeys(sentences) if s not in known]
    return (*told, *added)[-MAX_TOLD:]


def sources_so_far(story: Sequence[Article], article_id: int) -> int:
    """How many outlets (feeds) have reported a story up to and including an article."""
    return max(1, len({a.feed_id for a in story if a.id <= article_id}))


def story_title(story: Sequence[Article], story_id: int, fallback: str) -> str:
    """A story's title: its first telling's."""
    return next((a.title for a in story if a.id == story_id), fallback)

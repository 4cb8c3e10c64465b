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


def sources_so_far(story: Sequence[Article], article_id: int) -> int:
    """How many outlets (feeds) have reported a story up to and including an article."""
    return max(1, len({a.feed_id for a in story if a.id <= article_id}))


def story_title(story: Sequence[Article], story_id: int, fallback: str) -> str:
    """A story's title: its first telling's."""
    return next((a.title for a in story if a.id == story_id), fallback)

"""Core types: frozen dataclasses that every layer speaks.

Platform data crosses into the core only as these types (``ChatRef``, ``Command``), never
as a platform's own objects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from operator import attrgetter
from reprlib import recursive_repr
from typing import Any, TypeVar, dataclass_transform

from bot.errors import ConfigError
from summarizer.base import Document, PollProposal, Summary

__all__ = ["Document", "PollProposal", "Summary"]  # re-exported core types

_CHAT_RE = re.compile(r"^([a-z][a-z0-9_]*):([^\s/]+(?:/[^\s/]+)?)$")
_T = TypeVar("_T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[_T]) -> type[_T]:
    """``@dataclass(frozen=True)``, with the same ``__eq__``, ``__hash__`` and ``__repr__``
    made without compiling code for each class.

    The dataclass module writes each method of each class as source and compiles it: for
    the 40-odd types here that was a tenth of ``newsbrief ingest``'s start-up. These three
    are shared closures over the class's field names instead, and do what the generated
    ones do: equal when of the same class with equal field values (else
    ``NotImplemented``), the hash of the field values' tuple, and
    ``Name(field=value, ...)`` with ``...`` for a recursive reference.
    """
    made: Any = dataclass(frozen=True, eq=False, repr=False)(cls)
    _refuse_special(made)
    names = tuple(f.name for f in fields(made))
    values = _values_of(names)

    def __eq__(self: object, other: object) -> bool:
        if other.__class__ is self.__class__:
            return bool(values(self) == values(other))
        return NotImplemented

    def __hash__(self: object) -> int:
        return hash(values(self))

    @recursive_repr()
    def __repr__(self: object) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{self.__class__.__qualname__}({shown})"

    for method in (__eq__, __hash__, __repr__):
        method.__qualname__ = f"{made.__qualname__}.{method.__name__}"
        setattr(made, method.__name__, method)
    return made  # type: ignore[no-any-return]


def _refuse_special(cls: type) -> None:
    """The shared methods treat every field alike and replace the class's own: a class
    with its own ``__eq__``, ``__hash__`` or ``__repr__``, or a field left out of them
    (``field(repr=False)``, ``compare=False``, ``hash=...``), takes ``@dataclass``.

    Raises:
        TypeError: the class is such a class.
    """
    own = sorted({"__eq__", "__hash__", "__repr__"} & set(vars(cls)))
    special = [f.name for f in fields(cls) if not (f.repr and f.compare and f.hash is None)]
    if own or special:
        raise TypeError(
            f"@record {cls.__qualname__}: {', '.join(own + special)} need @dataclass(frozen=True)"
        )


def _values_of(names: tuple[str, ...]) -> Callable[[object], tuple[object, ...]]:
    """The tuple of an object's values of ``names`` (a tuple even for one name or none)."""
    if len(names) > 1:
        return attrgetter(*names)
    if names:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


@dataclass(frozen=True, order=True)
class ChatRef:
    """A chat on a platform: ``ChatRef("telegram", "-100123")`` or ``ChatRef("console", "")``.

    ``thread`` names a place inside the chat that posts go to, such as a Telegram forum
    topic (``ChatRef("telegram", "-100123", "42")``); empty for the chat itself.
    """

    platform: str
    chat_id: str = ""
    thread: str = ""

    def __str__(self) -> str:
        return self.platform if not self.chat_id else f"{self.platform}:{self.key}"

    @property
    def key(self) -> str:
        """The chat and its thread as one string: ``-100123`` or ``-100123/42``."""
        return f"{self.chat_id}/{self.thread}" if self.thread else self.chat_id

    @property
    def without_thread(self) -> ChatRef:
        """The chat itself, without the thread."""
        return ChatRef(self.platform, self.chat_id) if self.thread else self

    @classmethod
    def from_key(cls, platform: str, key: str) -> ChatRef:
        """The chat a platform and a :attr:`key` name (the inverse of :attr:`key`)."""
        chat_id, _, thread = key.partition("/")
        return cls(platform, chat_id, thread)

    @classmethod
    def parse(cls, text: str) -> ChatRef:
        """Parse a config ``to`` value, ``platform:chat``, ``platform:chat/thread`` or
        ``console``. Which platforms exist, what their chat ids look like and whether they
        have threads is the app's platform registry's call.

        Raises:
            ConfigError: the value is not of that form.
        """
        text = text.strip()
        if text == CONSOLE.platform:
            return CONSOLE
        match = _CHAT_RE.match(text)
        if not match:
            raise ConfigError(
                f"channel {text!r}: expected <platform>:<chat>, <platform>:<chat>/<topic> "
                "or console"
            )
        return cls.from_key(*match.groups())


CONSOLE = ChatRef("console")  # the operator's own terminal: it sees every feed


@record
class Command:
    """A chat command as the core sees it, whatever platform it came from."""

    name: str
    args: str
    chat: ChatRef
    user: str
    is_admin: bool
    locale: str = ""  # the user's platform language (Telegram language_code, Discord locale)


class PollPolicy(StrEnum):
    """When a channel's posts carry a reader poll."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class StoryMode(StrEnum):
    """What a channel gets of a story's later articles (a channel's ``stories`` setting)."""

    THREAD = "thread"  # the first a full post, later ones updates in reply to it
    SEPARATE = "separate"  # a full post for every article
    FIRST = "first"  # only the first article of each story


class FeedOrigin(StrEnum):
    """Who added a feed; decides which guards apply when fetching it."""

    CONFIG = "config"  # operator's TOML file: may be a local path or private host (if allowed)
    CLI = "cli"  # operator at the command line: same trust as config
    CHAT = "chat"  # a chat user: public http(s) only, never a path


@record
class FeedEntry:
    """One entry as a parser found it, before it becomes an article."""

    guid: str
    url: str
    title: str
    text: str
    published: float | None = None
    author: str = ""
    tags: tuple[str, ...] = ()  # the entry's categories, as the feed gives them
    image: str = ""  # an http(s) image URL the feed or the page gives for the entry


@record
class ParsedFeed:
    """What a feed said about itself and its entries."""

    title: str
    link: str
    entries: tuple[FeedEntry, ...]


@record
class Feed:
    """A followed feed and its fetch state."""

    id: int
    url: str
    name: str
    every: float
    backfill: int
    origin: FeedOrigin
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    next_due: float = 0.0
    failures: int = 0
    last_error: str | None = None
    paused: bool = False
    last_ok_at: float | None = None
    fetched_once: bool = False

    @property
    def label(self) -> str:
        """The short name users see."""
        return self.name or self.title or self.url


@record
class Article:
    """A stored article."""

    id: int
    feed_id: int
    guid: str
    url: str
    canonical_url: str
    title: str
    text: str
    published: float
    story_id: int
    content_hash: str
    feed_name: str = ""
    image: str = ""  # an http(s) image URL (the platform fetches it, never the bot)
    author: str = ""
    tags: tuple[str, ...] = ()


@record
class NewArticle:
    """An article about to be stored, with what ingest decided about it."""

    feed_id: int
    guid: str
    url: str
    canonical_url: str
    title: str
    text: str
    published: float
    content_hash: str
    simhash: int
    duplicate_of: int | None = None  # story id of an earlier telling of the same story
    post: bool = False  # route to channels (False on a first fetch without backfill)
    story: int | None = None  # story it joins: the same event from another writer, still posted
    image: str = ""
    author: str = ""
    tags: tuple[str, ...] = ()


@record
class StoryLead:
    """What story clustering reads of a stored article: its story, headline and lead."""

    story_id: int
    title: str
    lead: str  # the text's first ``LEAD_CHARS`` characters
    published: float


@record
class SavedArticle:
    """What a worker's ingest indexes learn of an article saved since they last looked
    (by another worker sharing the store): its near-duplicate fingerprint and story lead."""

    id: int
    simhash: int  # unsigned 64-bit
    lead: StoryLead


@record
class Story:
    """Articles from any feeds that report one event, first telling first.

    ``id`` is the story's first article's id; ``title`` is that article's title;
    ``first_seen`` and ``last_seen`` are the earliest and latest publication times.
    """

    id: int
    title: str
    articles: tuple[Article, ...]
    first_seen: float
    last_seen: float


@record
class Filters:
    """Regular expressions (RE2 syntax, case-insensitive unless a pattern says ``(?-i)``)
    matched against an article's title, text and tags: an article passes when any
    ``include`` pattern matches (or there is none) and no ``exclude`` pattern does."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def __add__(self, other: Filters) -> Filters:
        return Filters(self.include + other.include, self.exclude + other.exclude)


@record
class Subscription:
    """What a channel receives."""

    all_feeds: bool = True
    feed_ids: frozenset[int] = frozenset()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    patterns: Filters = Filters()  # the operator's regular expressions


@record
class ChannelOptions:
    """How a channel's posts are made, from the operator's config.

    Attributes:
        digest: when the channel gets one digest post instead of a post per article
            (``"08:00 Europe/Berlin"``, ``"every 6h"``; see :mod:`bot.digests.rules`);
            empty for a post per article.
        language: the language summaries are written in (an LLM's; ``"de"``); empty keeps
            each article's own.
        locale: the language of the bot's own messages in this chat (``"de"``); empty
            lets each user's platform language decide.
        images: whether posts carry their article's image.
        template: the operator's post layout with placeholders (see
            :mod:`bot.chat.template`); empty for the standard layout.
        timezone: the zone ``{published}`` is shown in (``"Europe/Berlin"``); empty for
            the zone of the digest schedule, else UTC.
    """

    digest: tuple[str, ...] = ()
    language: str = ""
    locale: str = ""
    images: bool = True
    template: str = ""
    timezone: str = ""


@record
class Channel:
    """A chat that receives posts."""

    id: int
    ref: ChatRef
    subscription: Subscription = field(default_factory=Subscription)
    polls: PollPolicy = PollPolicy.AUTO
    poll_duration: float = 24 * 3600
    paused_reason: str | None = None
    not_before: float = 0.0
    stories: StoryMode = StoryMode.THREAD
    options: ChannelOptions = ChannelOptions()
    chat_filters: Filters = Filters()  # set by the chat's admins with /filter
    digest_last: float = 0.0  # the last digest slot decided (queued, or nothing to send)

    @property
    def filters(self) -> Filters:
        """Every regular-expression filter the channel has: the operator's and the chat's."""
        return self.subscription.patterns + self.chat_filters


@record
class Source:
    """A cited source: a numbered link under a topic summary."""

    title: str
    url: str
    feed: str = ""


@record
class StoryTold:
    """What a sent post or update tells a channel of a story: every sentence the channel
    has been told of it, this message's included, and the thread the platform opened for
    the story there (if any). Recorded in the transaction that marks the message sent."""

    story_id: int
    told: tuple[str, ...]
    thread: str = ""


@record
class StoryPost:
    """The post that started a story in a channel (its platform message, and the thread
    the platform opened for it), and every sentence told there of the story since."""

    channel_id: int
    story_id: int
    message_id: str
    thread: str = ""
    told: tuple[str, ...] = ()


@record
class StoryAsk:
    """What a chat's last ``/summary`` of a story showed: the newest article the story had
    then, and the sentences shown."""

    last_article: int
    shown: tuple[str, ...] = ()


@record
class Post:
    """What a channel is sent for one article (rendered per platform by the adapter).

    ``story`` is what the post tells its channel of the article's story (recorded once
    it is sent).
    """

    title: str
    summary: str
    url: str
    source: str
    published: float
    article_id: int | None = None
    poll: PollProposal | None = None
    story: StoryTold | None = None
    image: str = ""  # the article's http(s) image, shown with the post where it fits
    layout: tuple[Piece, ...] = ()  # the channel's template filled in; empty: standard


@record
class Piece:
    """A run of a post laid out by a channel's template: the operator's own text
    (``field`` empty) or the value of one placeholder (``field`` names it). Renderers
    escape every piece for their platform; none is ever read as markup."""

    text: str
    field: str = ""


@record
class StoryUpdate:
    """A later article of a story a chat has a post for: only what is new, sent in reply
    to that post (Telegram) or in the story's thread (Discord).

    ``new`` are the article's sentences the chat has not been told yet (maybe none);
    ``sources`` how many outlets have reported the story so far; ``reply_to`` the platform
    message id of the story's post in the chat, and ``thread`` the thread the platform
    opened for it there ("" when none is open yet); ``story_title`` names a thread that
    must be opened.
    """

    title: str
    new: tuple[str, ...]
    url: str
    source: str
    published: float
    sources: int
    reply_to: str
    story: StoryTold
    thread: str = ""
    story_title: str = ""


@record
class Reply:
    """The core's answer to a command; adapters render it, then send ``post`` (a post as
    the chat would get it, for ``/preview``) after it, the way they send posts: rendered
    inside ``i18n.using(post_locale)``, the channel's locale, as the dispatcher sends it
    (empty: English)."""

    text: str
    sources: tuple[Source, ...] = ()
    title: str = ""
    ok: bool = True
    post: Post | None = None
    post_locale: str = ""


@record
class Digest(Reply):
    """A channel's scheduled digest: shown like a reply (a title, a line of text, one linked
    source per story), standing for the held article rows ``rows`` it gathers, and opening
    the reader poll of its most-covered story (``article_id``) when it carries one."""

    rows: tuple[int, ...] = ()
    article_id: int | None = None
    poll: PollProposal | None = None


class OutboxState(StrEnum):
    """Life of an outbox row. ``sent``, ``dead`` and ``skipped`` are final."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    HELD = "held"  # an article row kept for the channel's next digest; sent with it
    SKIPPED = "skipped"  # not sent, by the channel's rules (a story it has a post for)


class OutboxKind(StrEnum):
    """What an outbox row carries."""

    ARTICLE = "article"  # an article's summary post
    POLL = "poll"  # a reader poll under its post
    RESULTS = "results"  # a closed poll's results
    DIGEST = "digest"  # a channel's scheduled digest of the articles held for it


@record
class OutboxItem:
    """A post owed to a channel, as the dispatcher claims it."""

    id: int
    channel_id: int
    article_id: int | None
    kind: OutboxKind
    payload: str
    attempts: int
    nonce: str
    created_at: float = 0.0  # when it was queued


@record
class OutboxRow:
    """An outbox row with its state, for ``/status``, operators and tests."""

    id: int
    channel_id: int
    article_id: int | None
    kind: OutboxKind
    state: OutboxState
    attempts: int
    last_error: str | None
    message_id: str | None
    platform_poll_id: str | None


@record
class OutboxCounts:
    """How many rows are waiting (pending or in flight), sent, dead, held and skipped."""

    waiting: int = 0
    sent: int = 0
    dead: int = 0
    held: int = 0  # articles held for the channel's next digest
    skipped: int = 0  # not sent by the channel's rules (the story had its post already)


@record
class FeedCounts:
    """How many feeds are followed, and how many of them are paused."""

    total: int = 0
    paused: int = 0


@record
class FeedUpdate:
    """What a successful fetch changes on a feed row."""

    feed_id: int
    now: float
    next_due: float
    etag: str | None = None
    last_modified: str | None = None
    title: str | None = None


@record
class Routed:
    """A new article and the channels that get it: a post now, or in their next digest."""

    article: NewArticle
    channel_ids: tuple[int, ...]
    digest_ids: tuple[int, ...] = ()  # their rows are held until the digest goes out


@record
class SearchHit:
    """A full-text match: the article and its relevance (lower is better, like bm25)."""

    article: Article
    score: float


class PollOrigin(StrEnum):
    """Where a reader poll came from."""

    ARTICLE = "article"  # the poll a post carried
    CHAT = "chat"  # /poll on the chat's latest post
    CUSTOM = "custom"  # /poll Question? | A | B


@record
class Poll:
    """A reader poll: one per article, however many chats it runs in."""

    id: int
    article_id: int | None
    question: str
    options: tuple[str, ...]
    close_at: float
    closed_at: float | None

    @property
    def closed(self) -> bool:
        """Closed for good."""
        return self.closed_at is not None


@record
class PlatformPoll:
    """One platform poll (in one chat) of a reader poll."""

    id: int
    poll_id: int
    channel_id: int
    platform: str
    platform_poll_id: str
    message_id: str
    counts: tuple[int, ...] | None
    final_counts: tuple[int, ...] | None
    closed: bool


@record
class IngestCounts:
    """What one ingest pass did."""

    feeds: int = 0
    fetched: int = 0
    not_modified: int = 0
    failed: int = 0
    entries: int = 0
    new_articles: int = 0
    duplicates: int = 0
    queued_posts: int = 0


@record
class PollPost:
    """A native reader poll to open in a chat (under the article post it belongs to)."""

    question: str
    options: tuple[str, ...]
    close_at: float
    poll_id: int = 0  # newsbrief's poll id
    thread: str = ""  # the thread of the post it sits under, where the platform made one


@record
class ResultsPost:
    """A poll's results: text plus a bar-chart PNG (a photo on Telegram, a file on Discord)."""

    reply: Reply
    chart_png: bytes = b""
    thread: str = ""  # the thread of the poll's post, where the platform made one


Message = Post | StoryUpdate | Reply | PollPost | ResultsPost


@record
class Skip:
    """An outbox row the channel's rules say not to send (a story it has a post for):
    the row ends ``skipped`` with the reason."""

    reason: str


@record
class Sent:
    """What a platform gave back for a send: its message id, a poll id for polls, and the
    thread it opened for the message (a Discord forum post or a thread on a post)."""

    message_id: str
    poll_id: str = ""
    thread: str = ""


@record
class OpenPoll:
    """A reader poll to open under a post just sent: created once per article, then queued
    under the post in that chat."""

    article_id: int
    proposal: PollProposal
    close_at: float


@record
class Delivered:
    """What a sent outbox row leaves behind, recorded in the same transaction as its sent
    state: the platform's ids, the poll its post opens, the reader poll a platform poll
    belongs to, what it told the channel of its story, and a note for the operator when
    something after sending went wrong."""

    message_id: str
    platform_poll_id: str = ""
    opens_poll: OpenPoll | None = None
    poll_id: int | None = None  # a poll row: the reader poll this platform poll runs
    note: str | None = None
    digested: tuple[int, ...] = ()  # a digest: the held rows it gathered, sent with it
    story: StoryTold | None = None  # what the message told the channel of its story


@record
class VoteEvent:
    """A reader's vote on a platform poll; empty ``option_ids`` is a retraction."""

    platform: str
    platform_poll_id: str
    user: str
    option_ids: tuple[int, ...]


@record
class PollCounts:
    """Counts-only poll state (Telegram channels give only these)."""

    platform: str
    platform_poll_id: str
    counts: tuple[int, ...]
    closed: bool = False

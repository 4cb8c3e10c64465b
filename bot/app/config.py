"""The operator's TOML config file: feeds and channels. Validated here, at the edge (the
rules here; the pydantic model that words every problem in :mod:`bot.app.config_model`)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot import i18n
from bot.app.platforms import check_chat
from bot.errors import BlockedURL, ConfigError, UserInputError
from bot.feeds.netguard import operator_feed_location
from bot.ingest.filters import check_patterns
from bot.types import ChannelOptions, ChatRef, Filters, PollPolicy, StoryMode, record

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
DEFAULT_EVERY = 15 * 60.0
MIN_EVERY = 10.0
MAX_BACKFILL = 1000  # a feed's latest entries posted when it is first read, at most
MIN_POLL_DURATION = 10.0
DEFAULT_POLL_DURATION = 24 * 3600.0
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")  # de, pt-BR, zh-Hant


def parse_duration(value: str | float | int) -> float:
    """Parse ``"10s"``, ``"15m"``, ``"24h"``, ``"2d"`` or a number of seconds.

    Raises:
        ValueError: not a duration.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION_RE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration like 30s, 10m, 24h or 2d")
    number, unit = match.groups()
    return float(number) * _UNITS[unit]


# --- the rules, each said once: the direct reading and the pydantic model both use them ---


def check_at_least(value: Any, minimum: float) -> float:
    """A duration (as :func:`parse_duration` reads it) of at least ``minimum`` seconds.

    Raises:
        ValueError: not a duration, or a shorter one.
    """
    seconds = parse_duration(value)
    if seconds < minimum:
        raise ValueError(f"must be at least {minimum:g}s")
    return seconds


def check_feed_url(value: str) -> str:
    """A feed's ``url``: an http(s) URL or a local file path.

    Raises:
        ValueError: another kind of link.
    """
    try:
        operator_feed_location(value, Path("."))
    except BlockedURL as e:
        raise ValueError(f"{e.reason}: use an http(s) URL or a local file path") from e
    return value


def check_to(value: str) -> str:
    """A channel's ``to``, stripped: a chat newsbrief can post to.

    Raises:
        ValueError: not a chat of a known platform, or not one it can post to.
    """
    try:
        problem = check_chat(ChatRef.parse(value))
    except ConfigError as e:
        raise ValueError(str(e)) from e
    if problem:
        raise ValueError(f"channel {value.strip()!r}: {problem}")
    return value.strip()


def check_template(value: str | None) -> str | None:
    """A post template, kept as written.

    Raises:
        ValueError: an unknown or formatted placeholder, or unbalanced braces.
    """
    from bot.chat.template import check_template as check  # with the first template given

    if value is not None:
        try:
            check(value)
        except ConfigError as e:
            raise ValueError(str(e)) from e
    return value


def check_timezone(value: str) -> str:
    """A time zone's name, stripped ("" for none).

    Raises:
        ValueError: an unknown time zone.
    """
    from bot.digests.rules import check_zone  # with the first time zone set

    try:
        return check_zone(value.strip()) if value.strip() else ""
    except ConfigError as e:
        raise ValueError(str(e)) from e


def check_filters(value: list[str]) -> list[str]:
    """``include`` or ``exclude``: regular expressions the linear-time engine runs.

    Raises:
        ValueError: a pattern it cannot run, or too many.
    """
    try:
        return list(check_patterns(value))
    except UserInputError as e:
        raise ValueError(str(e)) from e


def check_digest(value: list[str]) -> list[str]:
    """A digest schedule, each entry's spaces folded.

    Raises:
        ValueError: an entry that is neither a time of day nor ``every`` a duration.
    """
    from bot.digests.rules import parse_schedule  # with the first digest set

    try:
        parse_schedule(value)
    except ConfigError as e:
        raise ValueError(str(e)) from e
    return [" ".join(entry.split()) for entry in value]


def check_language(value: str) -> str:
    """The summaries' language code, stripped.

    Raises:
        ValueError: not a language code.
    """
    if value and not _LANGUAGE_RE.match(value.strip()):
        raise ValueError(f"{value!r} is not a language code such as de, fr or pt-BR")
    return value.strip()


def check_locale(value: str) -> str:
    """The locale of the bot's own messages, stripped.

    Raises:
        ValueError: a language newsbrief has no messages in.
    """
    if value.strip() and i18n.negotiate(value) != i18n.normalize(value).split("_")[0]:
        raise ValueError(f"no messages in {value!r}; newsbrief speaks {i18n.names()}")
    return value.strip()


# --- the config --------------------------------------------------------------------------


@record
class FeedConfig:
    """One ``[[feeds]]`` table."""

    url: str
    name: str = ""
    every: float = DEFAULT_EVERY
    backfill: int = 0


@record
class ChannelConfig:
    """One ``[[channels]]`` table."""

    to: str
    feeds: list[str] | None = None
    keywords: list[str] = field(default_factory=list)
    polls: PollPolicy = PollPolicy.AUTO
    poll_duration: float = DEFAULT_POLL_DURATION
    stories: StoryMode = StoryMode.THREAD
    # filters, digests and languages
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    digest: list[str] = field(default_factory=list)
    language: str = ""
    locale: str = ""
    # posts people want
    images: bool = True
    template: str | None = None
    timezone: str = ""

    @property
    def ref(self) -> ChatRef:
        """The chat this channel posts to."""
        return ChatRef.parse(self.to)

    @property
    def patterns(self) -> Filters:
        """The channel's regular-expression filters."""
        return Filters(tuple(self.include), tuple(self.exclude))

    @property
    def options(self) -> ChannelOptions:
        """The channel's digest schedule, languages and how its posts look."""
        return ChannelOptions(
            tuple(self.digest),
            self.language,
            self.locale,
            self.images,
            self.template or "",
            self.timezone,
        )


@record
class AppConfig:
    """The whole config file."""

    feeds: list[FeedConfig] = field(default_factory=list)
    channels: list[ChannelConfig] = field(default_factory=list)


@record
class LoadedConfig:
    """A validated config and where it came from (relative feed paths resolve from there)."""

    config: AppConfig
    source: str
    base_dir: Path


def load_config(path: Path | None) -> LoadedConfig:
    """Read the TOML file at ``path``, or the embedded defaults when ``path`` is None.

    Raises:
        ConfigError: the file is missing, not TOML, or not a valid config (message says where).
    """
    if path is None:
        return LoadedConfig(default_config(), "embedded defaults", EXAMPLES_DIR)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ConfigError(f"config file {path} does not exist") from e
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"config file {path}: {e}") from e
    return LoadedConfig(parse_config(raw, str(path)), str(path), path.resolve().parent)


def parse_config(raw: dict[str, Any], source: str = "config") -> AppConfig:
    """Validate a parsed TOML document.

    A config is read here directly when every value is plainly what it should be (a
    string, a list of strings, an integer in range, a known choice, a valid rule...); any
    other is read by the pydantic model (:mod:`bot.app.config_model`), which reads it as
    newsbrief always did or names every problem as it always did. Importing pydantic and
    building the model cost every command about 70 ms of start-up.

    Raises:
        ConfigError: with every problem and its location.
    """
    try:
        config = AppConfig(**_table(raw, _APP, set()))
    except _Unsure:
        from bot.app.config_model import validated

        config = validated(raw, source)
    _check_feed_names(config, source)
    return config


class _Unsure(Exception):
    """A value the direct reading leaves to the pydantic model."""


Reader = Callable[[Any], Any]


def _table(raw: Any, readers: Mapping[str, Reader], required: set[str]) -> dict[str, Any]:
    """A TOML table's values, each through its reader.

    Raises:
        _Unsure: not a table, an unknown key, a required key missing, or a reader's doubt.
    """
    if not isinstance(raw, dict) or raw.keys() - readers.keys() or required - raw.keys():
        raise _Unsure
    return {key: readers[key](value) for key, value in raw.items()}


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Unsure
    return value


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _Unsure
    return [_text(item) for item in value]


def _checked(check: Reader, read: Reader = _text) -> Reader:
    """``read``, then ``check``; a ValueError of the check is a doubt."""

    def reader(value: Any) -> Any:
        try:
            return check(read(value))
        except ValueError as e:
            raise _Unsure from e

    return reader


def _count(low: int, high: int) -> Reader:
    def reader(value: Any) -> int:
        if type(value) is not int or not low <= value <= high:
            raise _Unsure
        return value

    return reader


def _duration(minimum: float) -> Reader:
    return _checked(lambda value: check_at_least(value, minimum), lambda value: value)


def _choice(kind: type[StrEnum]) -> Reader:
    def reader(value: Any) -> Any:
        if not isinstance(value, str) or value not in kind._value2member_map_:
            raise _Unsure
        return kind(value)

    return reader


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Unsure
    return value


def _some_text(value: Any) -> str:
    text = _text(value)
    if not text:
        raise _Unsure
    return text


def _optional(read: Reader) -> Reader:
    return lambda value: None if value is None else read(value)


def _one_or_many(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else _texts(value)


def _feeds(value: Any) -> list[FeedConfig]:
    if not isinstance(value, list):
        raise _Unsure
    return [FeedConfig(**_table(item, _FEED, {"url"})) for item in value]


def _channels(value: Any) -> list[ChannelConfig]:
    if not isinstance(value, list):
        raise _Unsure
    return [ChannelConfig(**_table(item, _CHANNEL, {"to"})) for item in value]


_FEED: dict[str, Reader] = {
    "url": _checked(check_feed_url, _some_text),
    "name": _text,
    "every": _duration(MIN_EVERY),
    "backfill": _count(0, MAX_BACKFILL),
}
_CHANNEL: dict[str, Reader] = {
    "to": _checked(check_to),
    "feeds": _optional(_texts),
    "keywords": _texts,
    "polls": _choice(PollPolicy),
    "poll_duration": _duration(MIN_POLL_DURATION),
    "stories": _choice(StoryMode),
    "include": _checked(check_filters, _texts),
    "exclude": _checked(check_filters, _texts),
    "digest": _checked(check_digest, _one_or_many),
    "language": _checked(check_language),
    "locale": _checked(check_locale),
    "images": _flag,
    "template": _checked(check_template, _optional(_text)),
    "timezone": _checked(check_timezone),
}
_APP: dict[str, Reader] = {"feeds": _feeds, "channels": _channels}


def _check_feed_names(config: AppConfig, source: str) -> None:
    known = {f.name for f in config.feeds if f.name} | {f.url for f in config.feeds}
    for channel in config.channels:
        for name in channel.feeds or []:
            if name not in known:
                raise ConfigError(f"{source}: channel {channel.to} names unknown feed {name!r}")


def default_config() -> AppConfig:
    """The embedded defaults: the bundled sample feed posted to the console."""
    return AppConfig(
        feeds=[FeedConfig(url=str(EXAMPLES_DIR / "sample-feed.xml"), name="sample", backfill=10)],
        channels=[ChannelConfig(to="console")],
    )


def resolve_feed_url(url: str, base_dir: Path) -> str:
    """Make an operator's feed location absolute: http(s) URLs stay, relative paths
    resolve from ``base_dir``.

    Raises:
        BlockedURL: a URL of another scheme (``javascript:``, ``ftp:``...).
    """
    return operator_feed_location(url, base_dir)

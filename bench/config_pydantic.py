"""The config file's pydantic models as they were before issue 11's start-up work. Kept,
independent on purpose, so tests can check that ``bot.app.config`` reads every config as
it did and words every error as it did (tests/bot/app/test_config.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from bot import i18n
from bot.app.config import parse_duration
from bot.app.platforms import check_chat
from bot.errors import BlockedURL, ConfigError, UserInputError
from bot.feeds.netguard import operator_feed_location
from bot.ingest.filters import check_patterns
from bot.types import ChannelOptions, ChatRef, Filters, PollPolicy, StoryMode

DEFAULT_EVERY = 15 * 60.0
MIN_EVERY = 10.0
_LANGUAGE_RE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")  # de, pt-BR, zh-Hant


def _one_or_many(value: Any) -> Any:
    """A setting given as one string or a list of them, as a list."""
    return [value] if isinstance(value, str) else value


def _duration_at_least(minimum: float) -> BeforeValidator:
    def check(value: Any) -> float:
        seconds = parse_duration(value)
        if seconds < minimum:
            raise ValueError(f"must be at least {minimum:g}s")
        return seconds

    return BeforeValidator(check)


class FeedConfig(BaseModel):
    """One ``[[feeds]]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1)
    name: str = ""
    every: Annotated[float, _duration_at_least(MIN_EVERY)] = DEFAULT_EVERY
    backfill: int = Field(default=0, ge=0, le=1000)

    @field_validator("url")
    @classmethod
    def _http_or_path(cls, value: str) -> str:
        try:
            operator_feed_location(value, Path("."))
        except BlockedURL as e:
            raise ValueError(f"{e.reason}: use an http(s) URL or a local file path") from e
        return value


class ChannelConfig(BaseModel):
    """One ``[[channels]]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str
    feeds: list[str] | None = None
    keywords: list[str] = Field(default_factory=list)
    polls: PollPolicy = PollPolicy.AUTO
    poll_duration: Annotated[float, _duration_at_least(10.0)] = 24 * 3600.0
    stories: StoryMode = StoryMode.THREAD
    # filters, digests and languages
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    digest: Annotated[list[str], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    language: str = ""
    locale: str = ""
    # posts people want
    images: bool = True
    template: str | None = None
    timezone: str = ""

    @field_validator("template")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        from bot.chat.template import check_template  # with the first template given

        if value is not None:
            try:
                check_template(value)
            except ConfigError as e:
                raise ValueError(str(e)) from e
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        from bot.digests.rules import check_zone  # with the first digest set

        try:
            return check_zone(value.strip()) if value.strip() else ""
        except ConfigError as e:
            raise ValueError(str(e)) from e

    @field_validator("include", "exclude")
    @classmethod
    def _patterns(cls, value: list[str]) -> list[str]:
        try:
            return list(check_patterns(value))
        except UserInputError as e:
            raise ValueError(str(e)) from e

    @field_validator("digest")
    @classmethod
    def _schedule(cls, value: list[str]) -> list[str]:
        from bot.digests.rules import parse_schedule

        try:
            parse_schedule(value)
        except ConfigError as e:
            raise ValueError(str(e)) from e
        return [" ".join(entry.split()) for entry in value]

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value and not _LANGUAGE_RE.match(value.strip()):
            raise ValueError(f"{value!r} is not a language code such as de, fr or pt-BR")
        return value.strip()

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value.strip() and i18n.negotiate(value) != i18n.normalize(value).split("_")[0]:
            raise ValueError(f"no messages in {value!r}; newsbrief speaks {i18n.names()}")
        return value.strip()

    @field_validator("to")
    @classmethod
    def _valid_chat(cls, value: str) -> str:
        try:
            problem = check_chat(ChatRef.parse(value))
        except ConfigError as e:
            raise ValueError(str(e)) from e
        if problem:
            raise ValueError(f"channel {value.strip()!r}: {problem}")
        return value.strip()

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


class AppConfig(BaseModel):
    """The whole config file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: list[FeedConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=list)


def previous_parse_config(raw: dict[str, Any], source: str = "config") -> AppConfig:
    """Validate a parsed TOML document.

    Raises:
        ConfigError: with every problem and its location.
    """
    try:
        config = AppConfig.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(_problem(err["loc"], err["msg"], raw) for err in e.errors())
        raise ConfigError(f"{source}: {problems}") from e
    _check_feed_names(config, source)
    return config


def _problem(loc: tuple[int | str, ...], message: str, raw: dict[str, Any]) -> str:
    """A problem and its place: ``channels.0.template: ...``, naming the channel's ``to``."""
    problem = f"{'.'.join(str(p) for p in loc)}: {message}"
    if len(loc) > 1 and loc[0] == "channels" and isinstance(loc[1], int):
        channels = raw.get("channels")
        entry = channels[loc[1]] if isinstance(channels, list) and len(channels) > loc[1] else {}
        to = entry.get("to") if isinstance(entry, dict) else None
        if isinstance(to, str) and loc[2:] != ("to",):
            problem += f" (in the channel to = {to!r})"
    return problem


def _check_feed_names(config: AppConfig, source: str) -> None:
    known = {f.name for f in config.feeds if f.name} | {f.url for f in config.feeds}
    for channel in config.channels:
        for name in channel.feeds or []:
            if name not in known:
                raise ConfigError(f"{source}: channel {channel.to} names unknown feed {name!r}")

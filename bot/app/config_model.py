"""The config file's pydantic model: what reads a config whose values are not plainly what
they should be (``backfill = "3"``, ``every = 60.0``...) as newsbrief always read it, and
what names every problem of an invalid one, in the words it always used. A plain, valid
config never imports it (nor pydantic): :func:`bot.app.config.parse_config` reads those
itself, with the same rules.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from bot.app import config
from bot.errors import ConfigError
from bot.types import PollPolicy, StoryMode


def _one_or_many(value: Any) -> Any:
    """A setting given as one string or a list of them, as a list."""
    return [value] if isinstance(value, str) else value


def _duration_at_least(minimum: float) -> BeforeValidator:
    return BeforeValidator(lambda value: config.check_at_least(value, minimum))


class FeedConfig(BaseModel):
    """One ``[[feeds]]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(min_length=1)
    name: str = ""
    every: Annotated[float, _duration_at_least(config.MIN_EVERY)] = config.DEFAULT_EVERY
    backfill: int = Field(default=0, ge=0, le=config.MAX_BACKFILL)

    _url = field_validator("url")(config.check_feed_url)


class ChannelConfig(BaseModel):
    """One ``[[channels]]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str
    feeds: list[str] | None = None
    keywords: list[str] = Field(default_factory=list)
    polls: PollPolicy = PollPolicy.AUTO
    poll_duration: Annotated[float, _duration_at_least(config.MIN_POLL_DURATION)] = (
        config.DEFAULT_POLL_DURATION
    )
    stories: StoryMode = StoryMode.THREAD
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    digest: Annotated[list[str], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    language: str = ""
    locale: str = ""
    images: bool = True
    template: str | None = None
    timezone: str = ""

    _template = field_validator("template")(config.check_template)
    _timezone = field_validator("timezone")(config.check_timezone)
    _patterns = field_validator("include", "exclude")(config.check_filters)
    _schedule = field_validator("digest")(config.check_digest)
    _language = field_validator("language")(config.check_language)
    _locale = field_validator("locale")(config.check_locale)
    _to = field_validator("to")(config.check_to)


class AppConfig(BaseModel):
    """The whole config file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    feeds: list[FeedConfig] = Field(default_factory=list)
    channels: list[ChannelConfig] = Field(default_factory=list)


def validated(raw: Any, source: str) -> config.AppConfig:
    """The config pydantic reads from ``raw``.

    Raises:
        ConfigError: with every problem and its location.
    """
    try:
        model = AppConfig.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(_problem(err["loc"], err["msg"], raw) for err in e.errors())
        raise ConfigError(f"{source}: {problems}") from e
    return config.AppConfig(
        [config.FeedConfig(**dict(feed)) for feed in model.feeds],
        [config.ChannelConfig(**dict(channel)) for channel in model.channels],
    )


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

"""The TOML config file and the settings."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.config_pydantic import previous_parse_config
from bot.app.config import load_config, parse_config, parse_duration, resolve_feed_url
from bot.app.settings import load_settings
from bot.errors import ConfigError
from bot.types import ChatRef, PollPolicy, StoryMode
from tests.conftest import REPO


def test_durations() -> None:
    """Durations read as seconds, with units."""
    assert parse_duration("10s") == 10
    assert parse_duration("15m") == 900
    assert parse_duration("24h") == 86400
    assert parse_duration(42) == 42
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_full_config_parses(tmp_path: Path) -> None:
    """Every documented key is read; relative feed paths resolve from the file."""
    path = tmp_path / "newsbrief.toml"
    path.write_text(
        '[[feeds]]\nurl = "world.xml"\nname = "world"\nevery = "10s"\nbackfill = 3\n'
        '[[channels]]\nto = "telegram:@worldbrief"\nfeeds = ["world"]\n'
        'keywords = ["venezuela", "-sports"]\npolls = "never"\npoll_duration = "2h"\n'
        'stories = "first"\n'
        '[[channels]]\nto = "telegram:-1001234567890/42"\n'
    )
    loaded = load_config(path)
    feed, channel = loaded.config.feeds[0], loaded.config.channels[0]
    assert (feed.every, feed.backfill) == (10.0, 3)
    assert channel.ref == ChatRef("telegram", "@worldbrief")
    assert channel.polls is PollPolicy.NEVER and channel.poll_duration == 7200
    assert channel.stories is StoryMode.FIRST
    topic = loaded.config.channels[1]
    assert topic.ref == ChatRef("telegram", "-1001234567890", "42")
    assert topic.stories is StoryMode.THREAD  # the default
    assert resolve_feed_url(feed.url, loaded.base_dir) == str(tmp_path / "world.xml")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"feeds": [{"url": "x", "every": "1s"}]}, "at least 10s"),
        ({"channels": [{"to": "slack:#x"}]}, "expected telegram"),
        ({"channels": [{"to": "discord:abc"}]}, "Discord channel id is a number"),
        ({"channels": [{"to": "console", "feeds": ["nope"]}]}, "unknown feed"),
        ({"feeds": [{"url": "x", "colour": "red"}]}, "Extra inputs"),
        ({"channels": [{"to": "console", "polls": "sometimes"}]}, "polls"),
        ({"channels": [{"to": "console", "stories": "merged"}]}, "stories"),
        ({"channels": [{"to": "telegram:-100/general"}]}, "forum topic is a number"),
        ({"channels": [{"to": "telegram:-100/"}]}, "<platform>:<chat>/<topic>"),
        ({"channels": [{"to": "discord:1/2"}]}, "use discord:<thread id>"),
        ({"feeds": [{"url": "javascript:alert(1)"}]}, "use an http(s) URL or a local file"),
        ({"feeds": [{"url": "ftp://example.org/feed"}]}, "only http and https"),
    ],
)
def test_bad_config_says_what_and_where(raw: dict[str, object], message: str) -> None:
    """Each invalid config is refused with a message naming the problem."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(raw, "newsbrief.toml")


def test_not_toml_is_a_config_error(tmp_path: Path) -> None:
    """A file that is not TOML gives a ConfigError, not a traceback."""
    path = tmp_path / "bad.toml"
    path.write_text("[[feeds]\nurl=")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_config(path)


def test_embedded_defaults_use_the_bundled_sample() -> None:
    """With no config file: the sample feed with backfill, posted to the console."""
    loaded = load_config(None)
    assert Path(loaded.config.feeds[0].url).exists()
    assert loaded.config.feeds[0].backfill > 0
    assert loaded.config.channels[0].ref == ChatRef("console")


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings read every documented variable."""
    monkeypatch.setenv("NEWSBRIEF_DB", str(tmp_path / "x.db"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:abc")
    monkeypatch.setenv("NEWSBRIEF_ALLOW_PRIVATE_HOSTS", "1")
    monkeypatch.setenv("NEWSBRIEF_CONFIG", "")
    settings = load_settings(env_file=None)
    assert settings.db_path == tmp_path / "x.db"
    assert settings.telegram_bot_token == "1:abc"
    assert settings.allow_private_hosts
    assert not settings.llm_enabled


def test_env_example_documents_every_variable() -> None:
    """.env.example names every variable the settings read."""
    from bot.app.settings import VARIABLES

    text = (REPO / ".env.example").read_text()
    assert len(VARIABLES) == 18
    for variable in VARIABLES:
        assert f"{variable}=" in text


def test_filters_digests_and_languages_parse(tmp_path: Path) -> None:
    """include/exclude patterns, a digest (one time or a list) and the languages are read
    into the channel's filters and options."""
    config = parse_config(
        {
            "channels": [
                {
                    "to": "console",
                    "include": ["(?i)venezuela"],
                    "exclude": ["sport"],
                    "digest": "08:00  Europe/Berlin",
                    "language": "de",
                    "locale": "de-AT",
                },
                {"to": "telegram:@x", "digest": ["07:00", "every 6h"]},
            ]
        }
    )
    first, second = config.channels
    assert first.patterns.include == ("(?i)venezuela",) and first.patterns.exclude == ("sport",)
    assert (first.options.digest, first.options.language) == (("08:00 Europe/Berlin",), "de")
    assert first.options.locale == "de-AT"
    assert second.options.digest == ("07:00", "every 6h")


@pytest.mark.parametrize(
    ("channel", "problem"),
    [
        ({"include": ["(?=x)"]}, "channels.0.include: .*look-around"),
        ({"exclude": ["(unclosed"]}, "channels.0.exclude: .*not a valid regular expression"),
        ({"include": ["x"] * 21}, "channels.0.include: .*at most 20 patterns"),
        ({"digest": "8 in the morning"}, "channels.0.digest: .*expected a time"),
        ({"digest": ["08:00 Nowhere/City"]}, "channels.0.digest: .*unknown time zone"),
        ({"language": "German!"}, "channels.0.language: .*not a language code"),
        ({"locale": "tlh"}, "channels.0.locale: .*newsbrief speaks de, en, es, fr"),
    ],
)
def test_bad_filters_digests_and_languages_are_config_errors(
    channel: dict[str, object], problem: str
) -> None:
    """An invalid pattern, schedule or language is a config error that says where and
    what, never a crash later."""
    with pytest.raises(ConfigError, match=problem):
        parse_config({"channels": [{"to": "console", **channel}]})


@pytest.mark.parametrize(
    ("channel", "problem"),
    [
        ({"template": "{title} {body}"}, r"channels.0.template: .*unknown placeholder \{body\}"),
        ({"template": "{title!r}"}, r"channels.0.template: .*placeholder \{title!r\}"),
        ({"template": "{summary:>10}"}, r"channels.0.template: .*placeholder \{summary:>10\}"),
        ({"template": "{0}"}, r"channels.0.template: .*unknown placeholder \{0\}"),
        ({"template": "{title.upper}"}, r"unknown placeholder \{title.upper\}"),
        ({"template": "{title"}, r"channels.0.template: .*unbalanced braces"),
        ({"template": "title}"}, r"channels.0.template: .*unbalanced braces"),
        ({"timezone": "Mars/Olympus"}, r"channels.0.timezone: .*unknown time zone"),
        ({"images": "sometimes"}, r"channels.0.images: "),
    ],
)
def test_bad_templates_and_timezones_are_config_errors_naming_the_channel(
    channel: dict[str, object], problem: str
) -> None:
    """A template with an unknown placeholder, a conversion, a format spec, an index, an
    attribute or unbalanced braces, or an unknown timezone, is a config error naming the
    channel entry and the bad part."""
    with pytest.raises(ConfigError, match=problem) as raised:
        parse_config({"channels": [{"to": "telegram:@news", **channel}]})
    assert "to = 'telegram:@news'" in str(raised.value)


def test_images_template_and_timezone_settings() -> None:
    """images defaults to true; template and timezone are kept as written ({{ literal)."""
    config = parse_config(
        {
            "channels": [
                {"to": "console"},
                {
                    "to": "telegram:@news",
                    "images": False,
                    "template": "{title}\n{{not a placeholder}}\n{url}",
                    "timezone": "Europe/Berlin",
                },
            ]
        }
    )
    plain, styled = (c.options for c in config.channels)
    assert (plain.images, plain.template, plain.timezone) == (True, "", "")
    assert (styled.images, styled.timezone) == (False, "Europe/Berlin")
    assert styled.template == "{title}\n{{not a placeholder}}\n{url}"


_TEXTS = st.sampled_from(
    [
        "console",
        " telegram:@news ",
        "discord:123",
        "discord:abc",
        "feed.xml",
        "https://example.org/rss",
        "ftp://x",
        "",
        "10m",
        "5s",
        "08:00  Europe/Berlin",
        "every 6h",
        "de",
        "German!",
        "tlh",
        "(?i)venezuela",
        "(?=x)",
        "{title} {url}",
        "{body}",
        "Europe/Berlin",
        "auto",
        "never",
        "first",
        "merged",
        "true",
        "3",
    ]
)
_SCALARS = st.one_of(
    _TEXTS,
    st.text(max_size=4),
    st.integers(-2, 1200),
    st.sampled_from([0, 1, 10, 1000, 1001]),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-5, max_value=1e5),
    st.booleans(),
    st.none(),
)
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3))
_FEED_KEYS = st.sampled_from(["url", "name", "every", "backfill", "colour"])
_CHANNEL_KEYS = st.sampled_from(
    [
        "to",
        "feeds",
        "keywords",
        "polls",
        "poll_duration",
        "stories",
        "include",
        "exclude",
        "digest",
        "language",
        "locale",
        "images",
        "template",
        "timezone",
        "size",
    ]
)
_FEEDS = st.lists(st.dictionaries(_FEED_KEYS, _VALUES, max_size=4), max_size=2)
_CHANNELS = st.lists(st.dictionaries(_CHANNEL_KEYS, _VALUES, max_size=5), max_size=2)
_RAW = st.dictionaries(
    st.sampled_from(["feeds", "channels", "extra"]),
    st.one_of(_FEEDS, _CHANNELS, _VALUES),
    max_size=3,
)


@settings(max_examples=600, deadline=None)
@given(_RAW)
def test_every_config_reads_as_the_pydantic_model_read_it(raw: dict[str, Any]) -> None:
    """Any config gives the values the previous pydantic model gave, or its error word for
    word (bench/config_pydantic.py, the frozen copy)."""
    try:
        expected: object = previous_parse_config(raw, "nb.toml").model_dump()
    except ConfigError as e:
        expected = str(e)
    try:
        got: object = dataclasses.asdict(parse_config(raw, "nb.toml"))
    except ConfigError as e:
        got = str(e)
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {"url": st.sampled_from(["a.xml", "https://x.org/f"])},
            optional={"name": _TEXTS, "every": _TEXTS, "backfill": st.integers(-1, 1001)},
        ),
        max_size=3,
    ),
    st.lists(
        st.fixed_dictionaries(
            {"to": st.sampled_from(["console", "telegram:@x", "discord:1"])},
            optional={
                "polls": _TEXTS,
                "stories": _TEXTS,
                "digest": st.one_of(_TEXTS, st.lists(_TEXTS, max_size=2)),
                "include": st.lists(_TEXTS, max_size=2),
                "language": _TEXTS,
                "locale": _TEXTS,
                "template": _TEXTS,
                "timezone": _TEXTS,
                "images": st.booleans(),
                "poll_duration": st.one_of(_TEXTS, st.integers(0, 100)),
            },
        ),
        max_size=3,
    ),
)
def test_nearly_valid_configs_read_as_before(
    feeds: list[dict[str, Any]], channels: list[dict[str, Any]]
) -> None:
    """Configs of the right shape, most of them valid: the same values, or the same error."""
    test_every_config_reads_as_the_pydantic_model_read_it.hypothesis.inner_test(  # type: ignore[attr-defined]
        {"feeds": feeds, "channels": channels}
    )


def test_unusual_values_read_as_before() -> None:
    """Values pydantic converted (a number as a string or a float, "yes" for true, a
    tuple for a list) still are, to the same values."""
    raw: dict[str, Any] = {
        "feeds": [{"url": "a.xml", "backfill": "3", "every": 60.0}, {"url": "b", "backfill": 2.0}],
        "channels": [{"to": "console", "images": "yes", "keywords": ("x",), "polls": "never"}],
    }
    config = parse_config(raw)
    assert [(f.backfill, f.every) for f in config.feeds] == [(3, 60.0), (2, 900.0)]
    channel = config.channels[0]
    assert (channel.images, channel.keywords, channel.polls) == (True, ["x"], PollPolicy.NEVER)
    assert dataclasses.asdict(config) == previous_parse_config(raw).model_dump()


@pytest.mark.parametrize("name", ["FeedConfig", "ChannelConfig", "AppConfig"])
def test_the_pydantic_model_has_the_records_fields_and_defaults(name: str) -> None:
    """The model that reads unusual configs (``bot/app/config_model.py``) keeps the same
    fields, in the same order, with the same defaults (or none) as the records the plain
    reader makes: the two readers cannot drift apart in what a config may hold."""
    from bot.app import config, config_model

    record, model = getattr(config, name), getattr(config_model, name)
    ours = {f.name: _record_default(f) for f in dataclasses.fields(record)}
    theirs = {
        key: None if f.is_required() else ("default", f.get_default(call_default_factory=True))
        for key, f in model.model_fields.items()
    }
    assert (list(theirs), theirs) == (list(ours), ours)


def _record_default(f: dataclasses.Field[Any]) -> tuple[str, Any] | None:
    if f.default_factory is not dataclasses.MISSING:
        return ("default", f.default_factory())
    return None if f.default is dataclasses.MISSING else ("default", f.default)

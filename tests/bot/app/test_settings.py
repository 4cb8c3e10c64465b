"""Settings from the environment and ``.env``: which source wins, how names match, what a
bad value gives."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.settings_pydantic import previous_read
from bot.app.settings import VARIABLES, Settings, environment, load_settings
from bot.errors import ConfigError


def test_the_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    """A variable set in both places takes the environment's value; one set only in
    ``.env`` is read from there, parsed as dotenv files are (export, quotes, comments)."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        'NEWSBRIEF_DB=file.db\nexport TELEGRAM_BOT_TOKEN="1:abc" # the test bot\n'
        "NEWSBRIEF_LOG_LEVEL='DEBUG'\n"
    )
    found = environment({"NEWSBRIEF_DB": "env.db"}, env_file)
    assert found == {
        "NEWSBRIEF_DB": "env.db",
        "TELEGRAM_BOT_TOKEN": "1:abc",
        "NEWSBRIEF_LOG_LEVEL": "DEBUG",
    }


def test_names_match_in_any_case_and_unknown_names_are_ignored(tmp_path: Path) -> None:
    """``newsbrief_db`` sets NEWSBRIEF_DB; variables newsbrief does not read, and a name
    in ``.env`` without a value, are left out."""
    env_file = tmp_path / ".env"
    env_file.write_text("OPENAI_API_KEY\nSOMETHING_ELSE=1\n")
    found = environment({"newsbrief_db": "lower.db", "HOME": "/root"}, env_file)
    assert found == {"NEWSBRIEF_DB": "lower.db"}


def test_no_env_file_reads_only_the_environment(tmp_path: Path) -> None:
    """None, or a file that is not there, adds nothing."""
    assert environment({"NEWSBRIEF_DB": "x.db"}, None) == {"NEWSBRIEF_DB": "x.db"}
    assert environment({}, tmp_path / "missing.env") == {}


def test_given_values_win_and_are_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Values passed to ``Settings`` win over the environment, and are converted and
    checked like the environment's (a boolean from "1")."""
    monkeypatch.setenv("NEWSBRIEF_DB", "env.db")
    monkeypatch.setenv("NEWSBRIEF_ALLOW_PRIVATE_HOSTS", "1")
    settings = Settings(_env_file=None, NEWSBRIEF_DB="given.db")
    assert settings.db == "given.db"
    assert settings.allow_private_hosts is True


def test_a_bad_value_is_a_config_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An unusable value in ``.env`` fails the load with the variable's name."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSBRIEF_SUMMARY_CHARS", raising=False)
    (tmp_path / ".env").write_text("NEWSBRIEF_SUMMARY_CHARS=10\n")
    with pytest.raises(ConfigError, match="invalid environment") as caught:
        load_settings()
    assert "NEWSBRIEF_SUMMARY_CHARS" in str(caught.value)


PINNED_ERRORS = {
    (("NEWSBRIEF_SUMMARY_CHARS", "10"),): (
        "invalid environment: 1 validation error for Settings\nNEWSBRIEF_SUMMARY_CHARS\n"
        "  Input should be greater than or equal to 80 [type=greater_than_equal, "
        "input_value='10', input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/greater_than_equal"
    ),
    (
        ("NEWSBRIEF_SUMMARY_CHARS", "x"),
        ("NEWSBRIEF_ALLOW_PRIVATE_HOSTS", "maybe"),
        ("NEWSBRIEF_DB", ""),
    ): (
        "invalid environment: 3 validation errors for Settings\nNEWSBRIEF_DB\n"
        "  String should have at least 1 character [type=string_too_short, input_value='', "
        "input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/string_too_short\n"
        "NEWSBRIEF_ALLOW_PRIVATE_HOSTS\n"
        "  Input should be a valid boolean, unable to interpret input [type=bool_parsing, "
        "input_value='maybe', input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/bool_parsing\n"
        "NEWSBRIEF_SUMMARY_CHARS\n"
        "  Input should be a valid integer, unable to parse string as an integer "
        "[type=int_parsing, input_value='x', input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/int_parsing"
    ),
    (("NEWSBRIEF_LLM_DAILY_TOKENS", "-5"),): (
        "invalid environment: 1 validation error for Settings\nNEWSBRIEF_LLM_DAILY_TOKENS\n"
        "  Input should be greater than or equal to 0 [type=greater_than_equal, "
        "input_value='-5', input_type=str]\n"
        "    For further information visit https://errors.pydantic.dev/2.14/v/greater_than_equal"
    ),
}


@pytest.mark.parametrize(("values", "message"), PINNED_ERRORS.items())
def test_bad_values_are_worded_as_they_always_were(
    values: tuple[tuple[str, str], ...], message: str
) -> None:
    """Every problem is reported, in the variables' order, word for word as before."""
    with pytest.raises(ConfigError) as caught:
        Settings(_env_file=None, **dict(values))
    assert str(caught.value) == message.replace("2.14", _pydantic_minor())


def _pydantic_minor() -> str:
    from pydantic.version import VERSION

    return ".".join(VERSION.split(".")[:2])


def test_unusual_spellings_read_as_before() -> None:
    """A number with spaces or underscores, a boolean in capitals, an empty config path:
    read as pydantic read them."""
    settings = Settings(
        _env_file=None,
        NEWSBRIEF_SUMMARY_CHARS=" 4_50 ",
        NEWSBRIEF_ALLOW_PRIVATE_HOSTS="YES",
        NEWSBRIEF_CONFIG="",
        NEWSBRIEF_LLM_DAILY_TOKENS="007",
    )
    assert (settings.summary_chars, settings.allow_private_hosts) == (450, True)
    assert (settings.config, settings.llm_daily_tokens) == (None, 7)


def test_replace_changes_only_the_named_settings() -> None:
    """``replace`` copies the settings with the given fields changed."""
    settings = Settings(_env_file=None, NEWSBRIEF_DB="a.db", TELEGRAM_BOT_TOKEN="1:x")
    changed = settings.replace(db="b.db")
    assert (changed.db, changed.telegram_bot_token, settings.db) == ("b.db", "1:x", "a.db")


def test_dataclasses_replace_is_refused_not_ignored() -> None:
    """``dataclasses.replace`` cannot change a setting (the constructor reads variables, not
    fields): it raises instead of silently keeping the old value."""
    settings = Settings(_env_file=None, NEWSBRIEF_DB="given.db")
    with pytest.raises(ValueError, match="init=False"):
        dataclasses.replace(settings, db="other.db")


@pytest.mark.parametrize(
    "value",
    ["0" * 4400 + "450", "9" * 4301, "1" * 19, "\udcff.db"],
    ids=["zeros", "huge", "19", "surrogate"],
)
def test_extreme_values_read_or_fail_as_before(value: str) -> None:
    """Numbers longer than ``int()`` reads and lone surrogates (undecodable bytes in the
    environment) give what the previous model gave: a value, or its error."""
    variable = "NEWSBRIEF_DB" if value.endswith(".db") else "NEWSBRIEF_SUMMARY_CHARS"
    try:
        expected: object = previous_read({variable: value})
    except ConfigError as e:
        expected = str(e)
    try:
        got: object = _fields(Settings(_env_file=None, **{variable: value}))
    except ConfigError as e:
        got = str(e)
    assert got == expected


_ANY_VALUE = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["0", "1", "80", "2000", "2001", "yes", "Off", "t", "", " 1", "1_0"]),
    st.from_regex(r"[ +-]?[0-9_]{1,6}(\.0*)?[ ]?", fullmatch=True),
    st.integers(-10, 3000),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.builds(Path, st.text(max_size=5)),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(VARIABLES)), _ANY_VALUE, max_size=4))
def test_every_value_reads_as_the_pydantic_model_read_it(values: dict[str, object]) -> None:
    """Any values give the settings the previous pydantic model gave, or its error word
    for word (bench/settings_pydantic.py, the frozen copy)."""
    try:
        expected: dict[str, object] | str = previous_read(values)
    except ConfigError as e:
        expected = str(e)
    try:
        got: dict[str, object] | str = _fields(Settings(_env_file=None, **values))
    except ConfigError as e:
        got = str(e)
    assert got == expected


def _fields(read: Settings) -> dict[str, object]:
    return {f.name: getattr(read, f.name) for f in dataclasses.fields(read)}

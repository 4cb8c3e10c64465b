"""Settings from the environment and ``.env``: which source wins, how names match, what a
bad value gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.settings import Settings, environment, load_settings
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

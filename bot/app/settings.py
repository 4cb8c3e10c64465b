"""Settings from the environment and ``.env``, loaded once by the composition root.

A variable set in the environment wins over the same one in ``.env``; names match whatever
their case; names newsbrief does not read are ignored; pydantic validates the values. This
is how pydantic-settings read them; reading them here instead spares every command its
23 modules and 8 MiB (``newsbrief ingest`` held 77 MiB after its imports with it).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.errors import ConfigError
from bot.store import is_postgres

DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
ENV_FILE = ".env"


class Settings(BaseModel):
    """Every environment variable newsbrief reads (documented in ``.env.example``).

    ``Settings(**values)`` reads the environment and the ``_env_file`` (default ``.env``;
    None for none) under ``values``, which win; each is named as its variable is.
    """

    model_config = ConfigDict(extra="ignore", validate_default=True)

    db: str = Field(default="newsbrief.db", alias="NEWSBRIEF_DB", min_length=1)
    config: Path | None = Field(default=None, alias="NEWSBRIEF_CONFIG")
    telegram_bot_token: str = Field(default="", alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(
        default=DEFAULT_TELEGRAM_BASE_URL, alias="TELEGRAM_API_BASE_URL"
    )
    telegram_webhook_url: str = Field(default="", alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_listen: str = Field(default="127.0.0.1:8443", alias="TELEGRAM_WEBHOOK_LISTEN")
    telegram_webhook_secret: str = Field(default="", alias="TELEGRAM_WEBHOOK_SECRET")
    discord_bot_token: str = Field(default="", alias="DISCORD_BOT_TOKEN")
    discord_api_base_url: str = Field(default="", alias="DISCORD_API_BASE_URL")
    discord_gateway_url: str = Field(default="", alias="DISCORD_GATEWAY_URL")
    openai_api_key: str = Field(default="", alias="OPENAI_API_KEY")
    openai_base_url: str = Field(default="", alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", alias="NEWSBRIEF_LLM_MODEL")
    llm_daily_tokens: int = Field(default=200_000, alias="NEWSBRIEF_LLM_DAILY_TOKENS", ge=0)
    allow_private_hosts: bool = Field(default=False, alias="NEWSBRIEF_ALLOW_PRIVATE_HOSTS")
    summary_chars: int = Field(default=450, alias="NEWSBRIEF_SUMMARY_CHARS", ge=80, le=2000)
    log_level: str = Field(default="INFO", alias="NEWSBRIEF_LOG_LEVEL")
    metrics_listen: str = Field(default="", alias="NEWSBRIEF_METRICS_LISTEN")

    def __init__(self, _env_file: str | Path | None = ENV_FILE, **values: Any) -> None:
        given = environment(os.environ, _env_file)
        super().__init__(**{**given, **values})

    @field_validator("config", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def uses_postgres(self) -> bool:
        """``NEWSBRIEF_DB`` is a ``postgresql://`` URL (else it is a SQLite file path)."""
        return is_postgres(self.db)

    @property
    def db_path(self) -> Path:
        """The SQLite file (meaningless for a PostgreSQL URL)."""
        return Path(self.db).expanduser()

    @property
    def llm_enabled(self) -> bool:
        """The LLM summarizer is on when a key or a base URL is set."""
        return bool(self.openai_api_key or self.openai_base_url)

    def config_path(self) -> Path | None:
        """The TOML config to read: ``NEWSBRIEF_CONFIG``, else ``./newsbrief.toml`` if present."""
        if self.config is not None:
            return self.config
        default = Path("newsbrief.toml")
        return default if default.exists() else None


def environment(environ: Mapping[str, str], env_file: str | Path | None) -> dict[str, str]:
    """The values of the variables newsbrief reads, by variable name: from ``environ``,
    else from ``env_file`` if it exists (a name matches in any case)."""
    names = {
        field.alias.lower(): field.alias for field in Settings.model_fields.values() if field.alias
    }
    found: dict[str, str] = {}
    for source in (_env_file_values(env_file), environ):
        for name, value in source.items():
            if name.lower() in names and value is not None:
                found[names[name.lower()]] = value
    return found


def _env_file_values(env_file: str | Path | None) -> Mapping[str, str | None]:
    """The ``.env`` file's variables, parsed as python-dotenv parses them (``export``,
    quotes, comments, ``${VAR}`` expansion); none when there is no such file."""
    if env_file is None:
        return {}
    path = Path(env_file).expanduser()
    if not (path.is_file() or path.is_fifo()):
        return {}
    from dotenv import dotenv_values  # only when there is a file to read

    return dotenv_values(path, encoding="utf-8")


def load_settings(env_file: str | None = ENV_FILE) -> Settings:
    """Read the settings once.

    Raises:
        ConfigError: a variable has a value we cannot use.
    """
    try:
        return Settings(_env_file=env_file)
    except ValidationError as e:
        raise ConfigError(f"invalid environment: {e}") from e

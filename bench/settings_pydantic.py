"""The settings model as it was before issue 11's start-up work: pydantic read every
variable. Kept, independent on purpose, so tests can check that ``bot.app.settings`` reads
every value as it did and words every error as it did (tests/bot/app/test_settings.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.app.settings import DEFAULT_TELEGRAM_BASE_URL
from bot.errors import ConfigError


class Settings(BaseModel):
    """The previous ``Settings``, reading the variables' values only (by variable name)."""

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

    @field_validator("config", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value


def previous_read(values: dict[str, Any]) -> dict[str, Any]:
    """The settings, by field name, as the previous model read ``values``.

    Raises:
        ConfigError: as ``load_settings`` raised it, word for word.
    """
    try:
        return dict(Settings(**values))
    except ValidationError as e:
        raise ConfigError(f"invalid environment: {e}") from e

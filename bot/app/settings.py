"""Settings from the environment and ``.env``, loaded once by the composition root.

A variable set in the environment wins over the same one in ``.env``; names match whatever
their case; names newsbrief does not read are ignored. This is how pydantic-settings read
them; reading them here instead spares every command its 23 modules and 8 MiB.

The values are read here too, not by a pydantic model: importing pydantic and building the
model cost every command about 30 ms of start-up. What pydantic accepted and the error
it gave are kept exactly: a value read here is one pydantic reads the same way (tested
against the previous model, ``bench/settings_pydantic.py``), and anything else (a bad
value, or an unusual spelling such as ``" 450"`` or ``"4_50"``) is handed to a pydantic
model built from the same fields, which reads it or words the error as it always did.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any

from bot.errors import ConfigError
from bot.store import is_postgres

DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
ENV_FILE = ".env"
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})  # as pydantic reads a boolean
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
_UNSURE = object()  # a value left to pydantic


def _var(default: Any, name: str, kind: Any = str, **limits: int) -> Any:
    """A setting: its default, read from the variable ``name``, of ``kind`` (str, int,
    bool, or Path for ``Path | None``), within pydantic's ``limits`` (``ge``, ``le``,
    ``min_length``). Not an ``__init__`` argument: ``dataclasses.replace`` refuses it (the
    constructor reads variables; ``Settings.replace`` changes fields)."""
    meta = {"variable": name, "kind": kind, "limits": limits}
    return field(init=False, default=default, metadata=meta)


@dataclass(frozen=True, init=False)
class Settings:
    """Every environment variable newsbrief reads (documented in ``.env.example``).

    ``Settings(**values)`` reads the environment and the ``_env_file`` (default ``.env``;
    None for none) under ``values``, which win; each is named as its variable is.
    """

    db: str = _var("newsbrief.db", "NEWSBRIEF_DB", min_length=1)
    config: Path | None = _var(None, "NEWSBRIEF_CONFIG", Path)  # noqa: RUF009 (a field)
    telegram_bot_token: str = _var("", "TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = _var(DEFAULT_TELEGRAM_BASE_URL, "TELEGRAM_API_BASE_URL")
    telegram_webhook_url: str = _var("", "TELEGRAM_WEBHOOK_URL")
    telegram_webhook_listen: str = _var("127.0.0.1:8443", "TELEGRAM_WEBHOOK_LISTEN")
    telegram_webhook_secret: str = _var("", "TELEGRAM_WEBHOOK_SECRET")
    discord_bot_token: str = _var("", "DISCORD_BOT_TOKEN")
    discord_api_base_url: str = _var("", "DISCORD_API_BASE_URL")
    discord_gateway_url: str = _var("", "DISCORD_GATEWAY_URL")
    openai_api_key: str = _var("", "OPENAI_API_KEY")
    openai_base_url: str = _var("", "OPENAI_BASE_URL")
    llm_model: str = _var("gpt-4o-mini", "NEWSBRIEF_LLM_MODEL")
    llm_daily_tokens: int = _var(200_000, "NEWSBRIEF_LLM_DAILY_TOKENS", int, ge=0)
    allow_private_hosts: bool = _var(False, "NEWSBRIEF_ALLOW_PRIVATE_HOSTS", bool)
    summary_chars: int = _var(450, "NEWSBRIEF_SUMMARY_CHARS", int, ge=80, le=2000)
    log_level: str = _var("INFO", "NEWSBRIEF_LOG_LEVEL")
    metrics_listen: str = _var("", "NEWSBRIEF_METRICS_LISTEN")

    def __init__(self, _env_file: str | Path | None = ENV_FILE, **values: Any) -> None:
        """Read the settings.

        Raises:
            ConfigError: a variable has a value we cannot use.
        """
        given = {**environment(os.environ, _env_file), **values}
        for name, value in _read(given).items():
            object.__setattr__(self, name, value)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings (by field name, not variable) changed, unchecked."""
        copy = object.__new__(Settings)
        for f in fields(self):
            object.__setattr__(copy, f.name, changes.get(f.name, getattr(self, f.name)))
        return copy

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


VARIABLES: dict[str, str] = {f.metadata["variable"]: f.name for f in fields(Settings)}
"""Every variable newsbrief reads, with the setting it gives."""


def _read(given: Mapping[str, Any]) -> dict[str, Any]:
    """Each setting's value, from its variable in ``given`` or its default.

    Raises:
        ConfigError: a variable has a value we cannot use.
    """
    read = {}
    for f in fields(Settings):
        name = f.metadata["variable"]
        value = _value(given[name], f.metadata) if name in given else f.default
        if value is _UNSURE:
            return _read_by_pydantic(given)
        read[f.name] = value
    return read


def _value(value: Any, meta: Mapping[str, Any]) -> Any:
    """A variable's value in its kind, when pydantic surely reads it so; else ``_UNSURE``."""
    kind, limits = meta["kind"], meta["limits"]
    if kind is str:
        shortest = limits.get("min_length", 0)
        plain = isinstance(value, str) and len(value) >= shortest and _encodable(value)
        return value if plain else _UNSURE
    if kind is int:
        number = _integer(value)
        low, high = limits.get("ge", number), limits.get("le", number)
        return number if number is not _UNSURE and low <= number <= high else _UNSURE
    if kind is bool:
        return _boolean(value)
    if value is None or value == "":
        return None
    return Path(value) if isinstance(value, str | Path) else _UNSURE


def _integer(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)  # a longer one goes to pydantic, which reads what int() may not
    return _UNSURE


def _encodable(text: str) -> bool:
    """No lone surrogate (undecodable bytes in the environment), which pydantic refuses
    where it checks a length."""
    return text.isascii() or not any("\ud800" <= c <= "\udfff" for c in text)


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
        return value.lower() in _TRUE
    return _UNSURE


def _read_by_pydantic(given: Mapping[str, Any]) -> dict[str, Any]:
    """The settings read by a pydantic model of the same fields: the values it accepts,
    or the error it words (the way every value was read before).

    Raises:
        ConfigError: a variable has a value we cannot use.
    """
    from pydantic import ValidationError

    try:
        return dict(_pydantic_model().model_validate(given))
    except ValidationError as e:
        raise ConfigError(f"invalid environment: {e}") from e


def _pydantic_model() -> Any:
    from pydantic import BeforeValidator, ConfigDict, Field, create_model

    def empty_is_none(value: object) -> object:
        return None if value == "" else value

    definitions: dict[str, Any] = {}
    for f in fields(Settings):
        kind = f.metadata["kind"]
        if kind is Path:  # optional, and "" is None, as it always was
            kind = Annotated[Path | None, BeforeValidator(empty_is_none)]
        spec = Field(default=f.default, alias=f.metadata["variable"], **f.metadata["limits"])
        definitions[f.name] = (kind, spec)
    config = ConfigDict(extra="ignore", validate_default=True)
    return create_model("Settings", __config__=config, **definitions)


def environment(environ: Mapping[str, str], env_file: str | Path | None) -> dict[str, str]:
    """The values of the variables newsbrief reads, by variable name: from ``environ``,
    else from ``env_file`` if it exists (a name matches in any case)."""
    names = {name.lower(): name for name in VARIABLES}
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
    return Settings(_env_file=env_file)

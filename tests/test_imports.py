"""The layers hold: the core never loads a platform library or the LLM SDK, only the app
package knows the adapters and the composition root, and the summarizer stands below the
core. Every module is checked, not a list of names."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, python_prints


def _modules(package: str) -> dict[str, Path]:
    """Dotted module name → file, for every module of a top-level package."""
    root = REPO / package
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _offenders(
    package: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """Modules of ``package`` (outside ``allowed``) importing anything in ``forbidden``."""
    bad = {}
    for name, path in _modules(package).items():
        hits = sorted(i for i in _imports(path) if _within(i, forbidden))
        if hits and not _within(name, allowed):
            bad[name] = hits
    return bad


def test_core_imports_no_platform() -> None:
    """Importing every core module (the app included) leaves telegram, discord and openai
    unloaded: platforms and the SDK load only when one is used."""
    code = (
        "import sys, pkgutil, importlib, bot, summarizer.base\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    if m.name not in ('bot.__main__',): importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in "
        "('telegram', 'discord', 'openai'))\n"
        "print(','.join(bad))\n"
    )
    assert python_prints(code).strip() == ""


def test_only_the_app_package_imports_adapters_or_the_root() -> None:
    """No core module outside ``bot.app`` imports ``adapters`` or anything of ``bot.app``
    (settings, config, the composition root, the runner, the CLI). ``python -m bot`` is the
    one entry point besides, and it only calls the CLI."""
    app = ("bot.app", "bot.__main__")
    assert _offenders("bot", ("adapters", "bot.app"), allowed=app) == {}


def test_the_core_never_names_a_platform_library() -> None:
    """No core module imports telegram, discord or openai, even lazily."""
    assert _offenders("bot", ("telegram", "discord", "openai")) == {}


def test_the_summarizer_stands_below_the_core() -> None:
    """The summarizer imports nothing from the core or the adapters; only its LLM module
    imports the SDK."""
    assert _offenders("summarizer", ("bot", "adapters")) == {}
    assert _offenders("summarizer", ("openai",), allowed=("summarizer.llm",)) == {}


def test_only_each_store_imports_its_driver() -> None:
    """aiosqlite appears only in the SQLite implementation of the store port, asyncpg only
    in the PostgreSQL one."""
    assert _offenders("bot", ("aiosqlite",), allowed=("bot.store.sqlite",)) == {}
    assert _offenders("bot", ("asyncpg",), allowed=("bot.store.postgres",)) == {}


def test_adapters_use_the_core_not_the_app() -> None:
    """Adapters speak the core's ports and types; they never reach into the app."""
    assert _offenders("adapters", ("bot.app",)) == {}


def _loaded_by(*args: str, tmp: Path) -> set[str]:
    """Top-level modules a ``newsbrief`` command imports, from ``python -X importtime``."""
    return {name.split(".")[0] for name in _modules_loaded_by(*args, tmp=tmp)}


def _modules_loaded_by(*args: str, tmp: Path) -> set[str]:
    """Every module a ``newsbrief`` command imports, from ``python -X importtime``."""
    (tmp / "newsbrief.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DISCORD_"))}
    env.update(NEWSBRIEF_DB=str(tmp / "nb.db"), NEWSBRIEF_CONFIG=str(tmp / "newsbrief.toml"))
    env.pop("OPENAI_API_KEY", None)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        check=False,  # summary exits 1 when nothing matches; the imports are what counts
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines}


@pytest.mark.parametrize("args", [("ingest", "--json"), ("summary", "tram", "--json")])
def test_ingest_and_summary_load_no_chat_library(args: tuple[str, ...], tmp_path: Path) -> None:
    """``newsbrief ingest`` and ``summary`` import neither the chat libraries, the LLM SDK,
    the chart library, the page extractor, feedparser nor the metrics server (aiohttp,
    prometheus-client): they load when used."""
    loaded = _loaded_by(*args, tmp=tmp_path)
    assert "bot" in loaded
    unwanted = {"telegram", "discord", "openai", "matplotlib", "trafilatura", "feedparser"}
    unwanted |= {"aiohttp", "prometheus_client"}
    assert loaded & unwanted == set()


ONE_SHOT_NEVER = (
    "adapters",  # no platform is configured, and the console prints nothing here
    "bot.delivery",
    "bot.digests.compose",
    "bot.digests.scheduler",
    "bot.polls.closer",
    "bot.app.root",
    "bot.app.supervisor",
    "bot.app.observe",
    "bot.app.runner",
    "click",  # httpx's own command-line client, which newsbrief never runs
    "pygments",
)


def test_ingest_builds_only_the_ingest_path(tmp_path: Path) -> None:
    """``newsbrief ingest --json`` imports neither the chat service, polls, digests,
    delivery, the supervisor, the full composition root, any adapter, a summarizer, rich
    (it prints no log line, table or progress bar) nor pydantic (settings and a valid
    config are read without it, and so is the command line). (RE2 it loads: fingerprints
    find boilerplate sentences with it, 1.7x faster than ``re``.) Feeds are fetched with
    h11 alone: httpx, httpcore and anyio stay unloaded."""
    loaded = _modules_loaded_by("ingest", "--json", tmp=tmp_path)
    assert {"bot.ingest.pipeline", "bot.feeds.fetch", "h11"} <= loaded
    never = (*ONE_SHOT_NEVER, "bot.chat", "bot.digests", "bot.polls", "summarizer.extractive")
    never += ("rich", "pydantic", "pydantic_core", "pydantic_settings", "bot.app.config_model")
    never += ("httpx", "httpcore", "anyio")
    assert sorted(n for n in loaded if _within(n, never)) == []


def test_summary_builds_the_chat_service_without_delivery(tmp_path: Path) -> None:
    """``newsbrief summary --json`` builds the chat service and a summarizer, but not the
    dispatcher, the poll closer, digests' scheduler, the supervisor or any adapter."""
    loaded = _modules_loaded_by("summary", "tram", "--json", tmp=tmp_path)
    assert "bot.chat.service" in loaded
    assert sorted(n for n in loaded if _within(n, ONE_SHOT_NEVER)) == []


def test_help_loads_neither_the_core_nor_the_settings(tmp_path: Path) -> None:
    """``newsbrief --help`` imports no store, fetcher, feed parser, ingest module, nor
    the settings (pydantic): the help comes from the command line's own definitions."""
    loaded = _modules_loaded_by("--help", tmp=tmp_path)
    assert "bot.app.cli" in loaded
    never = ("aiosqlite", "httpx", "fastfeedparser", "bot.ingest", "bot.store", "pydantic")
    assert sorted(n for n in loaded if _within(n, never)) == []


def test_the_cli_loads_numpy_only_after_its_thread_settings() -> None:
    """Importing the CLI module does not import numpy, so ``main`` can still choose
    OpenBLAS's threads (numpy reads the setting once, when first imported)."""
    probe = "import sys, bot.app.cli; print('numpy' in sys.modules)"
    assert python_prints(probe).strip() == "False"

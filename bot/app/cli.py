"""The ``newsbrief`` command line (also ``python -m bot``).

Posts and JSON go to stdout; logs and progress go to stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer._click import Context as ClickContext
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType

from bot.app.memory import (
    collect_after_start_up,
    limit_blas_threads,
    limit_malloc_arenas,
    start_collecting,
)
from bot.errors import NewsbriefError

if TYPE_CHECKING:
    from rich.console import Console

    from bot.app.actions import Summarized
    from bot.app.settings import Settings
    from bot.chat.topics import Cited, TopicAnswer
    from bot.types import Post, Skip, Story, StoryUpdate

T = TypeVar("T")


def _help_false_when_absent(option: TyperOption | None) -> TyperOption | None:
    """``--help`` reading False when it is not given, as a flag should.

    typer leaves it None then, and coerces that None through a pydantic ``TypeAdapter`` it
    builds for the option: that alone imported pydantic into every command (about 40 ms of
    start-up), where a flag that is already False is passed through as it is. The help
    shown and what the option does are unchanged.
    """
    if option is not None and option.default is None:
        option.default = False
    return option


class _Command(TyperCommand):
    """A ``newsbrief`` command (its ``--help``: :func:`_help_false_when_absent`)."""

    def get_help_option(self, ctx: ClickContext) -> TyperOption | None:
        return _help_false_when_absent(super().get_help_option(ctx))


class _Group(TyperGroup):
    """A ``newsbrief`` command group (its ``--help``: :func:`_help_false_when_absent`)."""

    def get_help_option(self, ctx: ClickContext) -> TyperOption | None:
        return _help_false_when_absent(super().get_help_option(ctx))


class _Typer(typer.Typer):
    """A ``typer.Typer`` whose groups and commands are newsbrief's (see :class:`_Group`)."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(cls=_Group, **settings)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **settings: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        """As ``typer.Typer.command``, the command being a :class:`_Command` by default."""
        return super().command(name, cls=cls or _Command, **settings)


app = _Typer(
    help="newsbrief: follows news feeds, summarizes articles, posts them to chats.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
feeds_app = _Typer(help="Manage feeds (also OPML import/export).", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")


@functools.cache
def _err() -> Console:
    """Rich's console on stderr, for logs, errors and progress; rich loads with it, so a
    command that prints none of these (``ingest --json``) never imports rich."""
    from rich.console import Console

    return Console(stderr=True)


class _RichLog(logging.Handler):
    """Rich's log handler on stderr, made at the first record this process logs."""

    def __init__(self) -> None:
        super().__init__()
        self._rich: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._rich is None:
            from rich.logging import RichHandler

            self._rich = RichHandler(console=_err(), show_path=False, rich_tracebacks=False)
            self._rich.setFormatter(self.formatter)
        self._rich.emit(record)


class RoleChoice(StrEnum):
    """``--role`` values."""

    ALL = "all"
    INGEST = "ingest"
    DELIVER = "deliver"
    CHAT = "chat"


def _setup(verbose: bool = False) -> Settings:
    from bot.app.settings import load_settings  # pydantic: not for --help

    settings: Settings = _or_exit(load_settings)
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level.upper(), logging.INFO)
    logging.basicConfig(
        level=level,
        format="%(name)s: %(message)s",
        handlers=[_RichLog()],
        force=True,
    )
    # httpx logs every request URL at INFO; URLs can carry bot tokens
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return settings


def print_error(message: str, *, label: str = "error") -> None:
    """One line on stderr, ``label: message``; the message is shown as written (never
    read as markup) with its line breaks folded."""
    from rich.text import Text

    line = Text(f"{label}:", style="red")
    line.append(" " + " ".join(message.split()))
    _err().print(line, highlight=False, soft_wrap=True)


def _or_exit(func: Any, *args: Any) -> Any:
    try:
        return func(*args)
    except NewsbriefError as e:
        print_error(str(e))
        raise typer.Exit(1) from e


def _run(coro: Coroutine[Any, Any, T]) -> T:
    start_collecting()
    result: T = _or_exit(asyncio.run, coro)
    return result


@app.command()
def run(
    once: Annotated[bool, typer.Option("--once", help="One ingest pass, deliver, exit.")] = False,
    console: Annotated[
        bool, typer.Option("--console", help="Read chat commands on stdin.")
    ] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    role: Annotated[
        RoleChoice,
        typer.Option(
            "--role",
            help="What this worker does: fetch feeds, deliver posts, answer chats, or all.",
        ),
    ] = RoleChoice.ALL,
) -> None:
    """Run the bot until stopped (SIGTERM/SIGINT)."""
    from bot.app.runner import run_bot, stdin_is_terminal
    from bot.app.supervisor import Role

    settings = _setup(verbose)
    code = _run(
        run_bot(
            settings,
            once=once,
            console_input=console or stdin_is_terminal(),
            stdin=sys.stdin,
            stdout=sys.stdout,
            roles=Role.parse(role.value),
        )
    )
    raise typer.Exit(code)


@app.command()
def ingest(
    as_json: Annotated[bool, typer.Option("--json", help="Print counts as JSON.")] = False,
) -> None:
    """One ingest pass over every active feed."""
    from bot.app.actions import ingest_once

    settings = _setup()
    if sys.stderr.isatty() and not as_json:
        from rich.progress import Progress

        with Progress(console=_err(), transient=True) as progress:
            counts = _run(ingest_once(settings, progress))
    else:
        counts = _run(ingest_once(settings))
    if as_json:
        typer.echo(json.dumps(counts.__dict__))
        return
    columns = ("feeds", "fetched", "unchanged", "failed", "entries", "new", "dupes", "queued")
    _print_table(columns, [[str(v) for v in counts.__dict__.values()]])


def _print_table(columns: tuple[str, ...], rows: list[list[str]]) -> None:
    """A table on stdout, drawn by rich (loaded here: only tables need it on stdout)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@app.command(context_settings={"ignore_unknown_options": True})
def summary(
    topic: Annotated[str, typer.Argument(help="What to summarize, e.g. venezuela.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    days: Annotated[float, typer.Option("--days", min=0.01, help="Time window.")] = 7.0,
) -> None:
    """What /summary TOPIC answers in chat."""
    from bot.app.actions import topic_summary

    settings = _setup()
    answer = _run(topic_summary(settings, topic, days))
    if as_json:
        typer.echo(json.dumps(_summary_json(answer), ensure_ascii=False))
        return
    from adapters.console.render import render_reply
    from bot.chat.service import summary_reply

    typer.echo(render_reply(summary_reply(answer)))


def _summary_json(answer: TopicAnswer) -> dict[str, Any]:
    """``summary --json``: the topic, the cited summary text, the numbered sources, the
    method, and the story with its cited sentences and those new since the last ask."""
    story = answer.story
    return {
        "topic": answer.topic,
        "summary": answer.summary,
        "sources": [{"title": s.title, "url": s.url} for s in answer.sources],
        "method": answer.method,
        "story": {"id": story.id, "title": story.title, "sources": story.sources}
        if story
        else None,
        "sentences": [_cited_json(s) for s in answer.sentences],
        "new": [_cited_json(s) for s in answer.new],
    }


def _cited_json(sentence: Cited) -> dict[str, Any]:
    return {"text": sentence.text, "sources": list(sentence.sources)}


@app.command()
def summarize(
    sources: Annotated[list[str], typer.Argument(help="URLs, .html or .txt files.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Summarize each article given as a URL, an .html file or a .txt file."""
    from bot.app.actions import summarize_sources

    settings = _setup()
    failed = False
    for result in _run(summarize_sources(settings, sources)):
        failed |= bool(result.error)
        if as_json:
            typer.echo(json.dumps(_summarized_json(result), ensure_ascii=False))
        elif result.error:
            print_error(result.error, label=result.source)
        else:
            typer.echo(f"■ {result.title}\n\n{result.summary}\n")
    raise typer.Exit(1 if failed else 0)


def _summarized_json(result: Summarized) -> dict[str, Any]:
    """One line of the contract's shape for every source; a failed one has empty fields and
    says why in ``error``."""
    line: dict[str, Any] = {
        "source": result.source,
        "title": result.title,
        "summary": result.summary,
        "sentences": list(result.sentences),
        "method": result.method,
    }
    if result.error:
        line |= {"title": "", "summary": "", "sentences": [], "method": "", "error": result.error}
    return line


@app.command()
def stories(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    days: Annotated[float, typer.Option("--days", min=0.01, help="Time window.")] = 2.0,
) -> None:
    """Current stories: articles from any feeds that report the same event."""
    from bot.app.actions import list_stories

    found = _run(list_stories(_setup(), days))
    if as_json:
        payload = {"stories": [_story_json(story) for story in found]}
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    for story in found:
        span = f"{_iso(story.first_seen)} – {_iso(story.last_seen)}"
        typer.echo(f"■ {story.title}\n  {len(story.articles)} article(s), {span}")
        for article in story.articles:
            typer.echo(f"  - {article.feed_name}: {article.title} {article.url}")
        typer.echo("")


def _story_json(story: Story) -> dict[str, Any]:
    articles = [{"title": a.title, "url": a.url, "feed": a.feed_name} for a in story.articles]
    return {
        "id": story.id,
        "title": story.title,
        "articles": articles,
        "first_seen": _iso(story.first_seen),
        "last_seen": _iso(story.last_seen),
    }


def _iso(when: float) -> str:
    """A time as ISO 8601 in UTC, to the second ("2026-05-01T12:00:00Z")."""
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@app.command()
def preview(
    channel: Annotated[
        str, typer.Argument(help="The channel's `to`: telegram:@name, discord:123, console.")
    ],
    article: Annotated[int | None, typer.Option("--article", help="A stored article's id.")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="A page to summarize (not stored).")
    ] = None,
) -> None:
    """Print exactly what a channel would get for an article (default: the latest it
    takes), as its platform is sent it; nothing is sent."""
    from bot.app.preview import preview as make_preview
    from bot.types import Post

    if article is not None and url is not None:
        print_error("give --article or --url, not both")
        raise typer.Exit(2)
    shown = _run(make_preview(_setup(), channel, article_id=article, url=url))
    typer.echo(f"channel: {shown.channel}")
    typer.echo(f"article: {shown.article.id or '(not stored)'} {shown.article.title}")
    typer.echo(_preview_kind(shown.message))
    if isinstance(shown.message, Post):
        typer.echo(f"image: {shown.message.image or '(none)'}")
        poll = shown.message.poll
        typer.echo(
            f"poll: {poll.question} | {' | '.join(poll.options)}" if poll else "poll: (none)"
        )
    if shown.rendered:
        typer.echo(f"--- as sent to {shown.channel.platform}\n{shown.rendered}")


def _preview_kind(message: Post | StoryUpdate | Skip) -> str:
    from bot.types import Post, Skip

    if isinstance(message, Skip):
        return f"skipped: {message.reason}"
    return "post" if isinstance(message, Post) else "story update (in reply to its post)"


@feeds_app.command("add")
def feeds_add(
    url: Annotated[str, typer.Argument(help="Feed URL or local file path.")],
    name: Annotated[str, typer.Option(help="Short label.")] = "",
    every: Annotated[str, typer.Option(help="Interval, e.g. 10m.")] = "15m",
    backfill: Annotated[int, typer.Option(min=0, help="Post the latest N on first fetch.")] = 0,
) -> None:
    """Follow a feed (operator-added: goes to channels that take all feeds)."""
    from bot.app.actions import add_feed

    feed = _run(add_feed(_setup(), url, name, every, backfill))
    typer.echo(f"added {feed.label} ({feed.url})")


@feeds_app.command("list")
def feeds_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List feeds with their health."""
    from bot.app.actions import list_feeds

    feeds = _run(list_feeds(_setup()))
    if as_json:
        rows = [
            {
                "id": f.id,
                "url": f.url,
                "name": f.label,
                "origin": f.origin.value,
                "paused": f.paused,
                "failures": f.failures,
                "last_error": f.last_error,
            }
            for f in feeds
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table: list[list[str]] = []
    for f in feeds:
        state = "paused" if f.paused else ("failing" if f.failures else "ok")
        status = f"{state}: {f.last_error}" if f.last_error else state
        table.append([str(f.id), f.label, f.url, f.origin.value, status])
    _print_table(("id", "name", "url", "origin", "state"), table)


@feeds_app.command("remove")
def feeds_remove(feed: Annotated[str, typer.Argument(help="Feed id, name or URL.")]) -> None:
    """Stop following a feed (its articles stay searchable)."""
    from bot.app.actions import remove_feed

    removed = _run(remove_feed(_setup(), feed))
    typer.echo(f"removed {removed.label}")


@feeds_app.command("import")
def feeds_import(path: Annotated[Path, typer.Argument(help="OPML file.")]) -> None:
    """Add every http(s) feed listed in an OPML file (other entries are refused)."""
    from bot.app.actions import import_opml

    imported = _run(import_opml(_setup(), path))
    typer.echo(f"imported {imported.added} feed(s)")
    if imported.refused:
        shown = ", ".join(url[:80] for url in imported.refused[:3])
        more = f" and {len(imported.refused) - 3} more" if len(imported.refused) > 3 else ""
        print_error(
            f"refused {len(imported.refused)} entries that are not http(s) URLs: {shown}{more}"
        )
        raise typer.Exit(1)


@feeds_app.command("export")
def feeds_export(
    path: Annotated[Path | None, typer.Argument(help="Output file; stdout if omitted.")] = None,
) -> None:
    """Write the followed feeds as OPML."""
    from bot.app.actions import export_opml

    text = _run(export_opml(_setup()))
    if path is None:
        typer.echo(text, nl=False)
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        print_error(f"cannot write {path}: {e.strerror or e}")
        raise typer.Exit(1) from e


db_app = _Typer(help="Database tools.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("copy")
def db_copy(
    source: Annotated[str, typer.Argument(help="SQLite file or postgresql:// URL to copy.")],
    target: Annotated[str, typer.Argument(help="SQLite file or postgresql:// URL to fill.")],
    force: Annotated[
        bool, typer.Option("--force", help="Copy into a target that already holds data.")
    ] = False,
) -> None:
    """Move an install between SQLite and PostgreSQL: every feed, article, summary, channel,
    outbox row and poll, nothing lost. Stop the bot first."""
    from rich.progress import Progress

    from bot.app.actions import copy_database

    _setup()
    with Progress(console=_err(), disable=not sys.stderr.isatty(), transient=True) as progress:
        copied = _run(copy_database(source, target, force=force, progress=progress))
    total = sum(copied.values())
    typer.echo(f"copied {total} row(s): " + ", ".join(f"{n} {t}" for t, n in copied.items()))


discord_app = _Typer(help="Discord tools.", no_args_is_help=True)
app.add_typer(discord_app, name="discord")


@discord_app.command("sync")
def discord_sync() -> None:
    """Register the slash commands with Discord now (normally done on first start)."""
    from bot.app.actions import sync_discord_commands

    count = _run(sync_discord_commands(_setup()))
    typer.echo(f"synced {count} command(s)")


def main() -> None:
    """Console-script entry point: every error is one line on stderr and a non-zero exit
    (2 for a malformed command line, 130 when interrupted)."""
    collect_after_start_up()
    limit_malloc_arenas()
    limit_blas_threads()
    _skip_httpx_cli()
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as e:
        if type(e).__name__ != "NoArgsIsHelpError":  # a bare group printed its help already
            print_error(_usage_error(e))
        _leave(e.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print_error("interrupted")
        _leave(130)
    _leave(code if isinstance(code, int) else 0)


def _skip_httpx_cli() -> None:
    """Keep httpx from importing its own command-line client, which newsbrief never runs.

    httpx's package imports ``httpx._main`` whenever click, rich and pygments are installed
    (they are: typer, rich and nltk bring them), which loaded 83 modules into every command
    that fetches: about 4 MiB and a quarter of ``ingest``'s imports besides the fetcher.
    A ``None`` in ``sys.modules`` makes that import fail as if they were missing, the case
    httpx handles (its ``httpx.main`` then only says the CLI is unavailable).
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def _leave(code: int) -> NoReturn:
    """End the process with its output flushed, skipping the interpreter's teardown.

    Freeing every object one by one at exit cost a cold ingest of the corpus feeds about
    0.25 s of CPU (8% of the run; python -m bench ingest). Nothing is left to do by then:
    the store and every connection are closed, and newsbrief registers no atexit work.
    """
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe, a closed stream
            stream.flush()
    os._exit(code)


def _usage_error(error: typer.TyperException) -> str:
    """A command-line mistake on one line, with where to read the usage."""
    message = " ".join(error.format_message().split())
    ctx = getattr(error, "ctx", None)
    if ctx is None:
        return message
    return f"{message} (see: {ctx.command_path} --help)"

"""What the one-shot CLI commands do, each on the one-shot composition root
(:mod:`bot.app.tools`: the parts of ``run``'s root it uses, built the same way)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.app.config import parse_duration, resolve_feed_url
from bot.app.settings import Settings
from bot.app.tools import Tools
from bot.errors import FeedError, NotFound, UserInputError
from bot.feeds.netguard import is_web_url
from bot.ports import FetchRequest
from bot.store.ports import Store
from bot.types import Feed, FeedOrigin, IngestCounts, Story, record

if TYPE_CHECKING:
    from rich.progress import Progress

    from bot.chat.topics import TopicAnswer
    from bot.ingest.pipeline import FeedOutcome
    from bot.store.tables import Table
    from summarizer.base import Document

PAGE_MAX_BYTES = 5 * 1024 * 1024
CLI_FEED_EVERY = 15 * 60.0
MAX_STORIES_LISTED = 1000  # `newsbrief stories` lists at most this many, latest first


@record
class Summarized:
    """One ``summarize`` source's result: a summary, or the error that kept it from one."""

    source: str
    title: str = ""
    summary: str = ""
    sentences: tuple[str, ...] = ()
    method: str = ""
    error: str = ""


def tool(settings: Settings) -> AbstractAsyncContextManager[Tools]:
    """What a one-shot command runs on: no chat adapter, no outbox recovery."""
    return Tools.open(settings)


async def ingest_once(settings: Settings, progress: Progress | None = None) -> IngestCounts:
    """One pass over every active feed, with a progress bar when one is given."""
    async with tool(settings) as tools:
        if progress is None:
            return await tools.ingest()
        task = progress.add_task("ingesting", total=len(await tools.store.feeds.active()))

        def advance(outcome: FeedOutcome) -> None:
            progress.update(task, advance=1, description=outcome.feed.label[:40])

        return await tools.ingest(progress=advance)


async def topic_summary(settings: Settings, topic: str, days: float) -> TopicAnswer:
    """The ``/summary`` answer for the CLI."""
    async with tool(settings) as tools:
        return await tools.service().topic(topic, days)


async def list_stories(settings: Settings, days: float) -> list[Story]:
    """Stories with an article published in the last ``days`` days, latest first."""
    async with tool(settings) as tools:
        since = tools.clock.now() - days * 86400.0
        return await tools.store.articles.stories_since(since, MAX_STORIES_LISTED)


async def summarize_sources(settings: Settings, sources: list[str]) -> list[Summarized]:
    """Summarize each URL / .html / .txt; a failure is reported per source, never fatal."""
    async with tool(settings) as tools:
        return [await _summarize_one(tools, source) for source in sources]


async def _summarize_one(tools: Tools, source: str) -> Summarized:
    try:
        doc = await _load_document(tools, source)
    except (FeedError, UserInputError) as e:
        return Summarized(source, error=str(e))
    summary = await tools.summarizer().summarize(doc)
    if not summary.text.strip():
        return Summarized(source, error="no sentences to summarize in it")
    return Summarized(source, doc.title, summary.text, summary.sentences, summary.method)


async def _load_document(tools: Tools, source: str) -> Document:
    from bot.feeds.extract import extract_article, split_plain_text
    from summarizer.base import Document

    if source.lower().endswith(".txt") and "://" not in source:
        text = await read_text_file(Path(source), "text file")
        article = split_plain_text(text)
        if not article.text.strip():
            raise UserInputError("the file has no text to summarize")
        return Document(title=article.title, text=article.text, url=source)
    result = await tools.fetcher.fetch(
        FetchRequest(url=source, max_bytes=PAGE_MAX_BYTES, trusted=True)
    )
    page = await asyncio.to_thread(extract_article, result.body, result.url)
    if page is None or not page.text.strip():
        raise UserInputError("no article text found on that page")
    return Document(title=page.title, text=page.text, url=result.url)


async def add_feed(settings: Settings, url: str, name: str, every: str, backfill: int) -> Feed:
    """Follow a feed from the command line (operator trust).

    Raises:
        UserInputError: ``every`` is not a duration.
    """
    try:
        seconds = parse_duration(every)
    except ValueError as e:
        raise UserInputError(str(e)) from e
    async with tool(settings) as tools:
        return await tools.store.feeds.upsert(
            resolve_feed_url(url, Path.cwd()),
            name=name,
            origin=FeedOrigin.CLI,
            every=max(seconds, 10.0),
            backfill=backfill,
            now=tools.clock.now(),
        )


async def list_feeds(settings: Settings) -> list[Feed]:
    """Every feed with its state."""
    async with tool(settings) as tools:
        return await tools.store.feeds.all()


async def remove_feed(settings: Settings, wanted: str) -> Feed:
    """Stop following a feed named by id, name or URL.

    Raises:
        NotFound: no active feed is called that.
    """
    async with tool(settings) as tools:
        for feed in await tools.store.feeds.active():
            if wanted in (str(feed.id), feed.url, feed.name):
                await tools.store.feeds.remove(feed.id)
                return feed
    raise NotFound(f"no active feed {wanted!r} (see: newsbrief feeds list)")


async def read_text_file(path: Path, what: str) -> str:
    """A UTF-8 text file the operator named, read off the loop.

    Raises:
        UserInputError: it cannot be read, or is not UTF-8 text.
    """
    try:
        return await asyncio.to_thread(path.read_text, encoding="utf-8")
    except UnicodeDecodeError as e:
        raise UserInputError(f"{path} is not a UTF-8 {what}") from e
    except OSError as e:
        raise UserInputError(f"cannot read {path}: {e.strerror or e}") from e


@record
class Imported:
    """What an OPML import did: feeds added, and entries refused (not http(s) URLs)."""

    added: int
    refused: tuple[str, ...] = ()


async def import_opml(settings: Settings, path: Path) -> Imported:
    """Add the http(s) feeds of an OPML file; any other entry (a path, ``file:``,
    ``javascript:``...) is refused: an OPML file is data from elsewhere, never a way to
    make newsbrief read a local file.

    Raises:
        UserInputError: the file cannot be read or is not OPML.
    """
    from bot.feeds.opml import parse_opml

    listed = parse_opml(await read_text_file(path, "OPML file"))
    accepted = [item for item in listed if is_web_url(item.url)]
    refused = tuple(item.url for item in listed if not is_web_url(item.url))
    async with tool(settings) as tools:
        for item in accepted:
            await tools.store.feeds.upsert(
                item.url,
                name="",
                origin=FeedOrigin.CLI,
                every=CLI_FEED_EVERY,
                backfill=0,
                now=tools.clock.now(),
            )
    return Imported(len(accepted), refused)


async def export_opml(settings: Settings) -> str:
    """The active http(s) feeds as OPML (local files are this machine's, not shareable)."""
    from bot.feeds.opml import OpmlFeed, render_opml

    async with tool(settings) as tools:
        feeds = await tools.store.feeds.active()
    return render_opml([OpmlFeed(f.url, f.name or f.title) for f in feeds if is_web_url(f.url)])


async def sync_discord_commands(settings: Settings) -> int:
    """Register the slash commands now; returns how many Discord reports.

    Raises:
        UserInputError: no Discord token is set.
    """
    from bot.app.root import Runtime
    from bot.ports import CommandRegistry

    if not settings.discord_bot_token:
        raise UserInputError("DISCORD_BOT_TOKEN is not set")
    built = Runtime.build(settings, serving=False)
    async with built as runtime, runtime.chat_adapter("discord") as adapter:
        if not isinstance(adapter, CommandRegistry):
            raise UserInputError("this Discord adapter cannot sync commands")
        return await adapter.sync_commands()


COPY_BATCH = 500


async def copy_database(
    source: str, target: str, *, force: bool, progress: Progress
) -> dict[str, int]:
    """Copy every table of the store at ``source`` into the store at ``target`` (SQLite
    paths or PostgreSQL URLs, either way), row for row; returns the rows copied per table.

    Raises:
        UserInputError: the two are the same, or the target holds data and ``force`` is
            not given.
        StoreError: either database failed.
    """
    from bot.store import open_store

    if source == target:
        raise UserInputError("the source and the target are the same database")
    src = await open_store(source)
    try:
        dst = await open_store(target)
        try:
            return await _copy_tables(src, dst, force, progress)
        finally:
            await dst.close()
    finally:
        await src.close()


async def _copy_tables(src: Store, dst: Store, force: bool, progress: Progress) -> dict[str, int]:
    from bot.store.tables import TABLES

    if not force and any([await dst.tables.count(t) for t in TABLES]):
        raise UserInputError(
            "the target already holds data; pass --force to copy into it anyway "
            "(rows with the same keys are replaced, so a copy can be run again)"
        )
    totals = {t.name: await src.tables.count(t) for t in TABLES}
    task = progress.add_task("copying", total=sum(totals.values()))
    # read before the articles: a source upgraded meanwhile recomputes after this look,
    # and the target then recomputes the copied (older) fingerprints itself
    version = await src.articles.fingerprint_version()
    for table in TABLES:
        progress.update(task, description=table.name)
        await _copy_table(src, dst, table, lambda n: progress.advance(task, n))
    await dst.articles.record_fingerprint_version(version)
    await dst.tables.finish()
    return totals


async def _copy_table(src: Store, dst: Store, table: Table, advance: Callable[[int], None]) -> None:
    positions = [table.columns.index(k) for k in table.key]
    after: tuple[object, ...] | None = None
    while rows := await src.tables.read(table, after, COPY_BATCH):
        await dst.tables.write(table, rows)
        after = tuple(rows[-1][i] for i in positions)
        advance(len(rows))

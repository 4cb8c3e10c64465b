"""What the one-shot CLI commands do, built on the same app as ``run``."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rich.progress import Progress

from bot.app.config import parse_duration, resolve_feed_url
from bot.app.root import App, build_app
from bot.app.settings import Settings
from bot.chat.service import TopicAnswer
from bot.errors import FeedError, NotFound, UserInputError
from bot.feeds.extract import extract_article
from bot.feeds.opml import OpmlFeed, parse_opml, render_opml
from bot.ingest.pipeline import FeedOutcome
from bot.ports import FetchRequest
from bot.types import Feed, FeedOrigin, IngestCounts
from summarizer.base import Document

PAGE_MAX_BYTES = 5 * 1024 * 1024


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[App]:
    """The app for one command, closed afterwards."""
    app = await build_app(settings)
    try:
        yield app
    finally:
        await app.close()


async def ingest_once(settings: Settings, progress: Progress) -> IngestCounts:
    """One pass over every active feed, with a progress bar."""
    async with opened(settings) as app:
        total = len([f for f in await app.store.feeds() if not f.paused])
        task = progress.add_task("ingesting", total=total)

        def advance(outcome: FeedOutcome) -> None:
            progress.update(task, advance=1, description=outcome.feed.label[:40])

        return await app.ingestor.run(only_due=False, progress=advance)


async def topic_summary(settings: Settings, topic: str, days: float) -> TopicAnswer:
    """The ``/summary`` answer for the CLI."""
    async with opened(settings) as app:
        return await app.service.topic(topic, days)


async def summarize_sources(settings: Settings, sources: list[str]) -> list[dict[str, Any]]:
    """Summarize each URL / .html / .txt; a failure is reported per source, never fatal."""
    async with opened(settings) as app:
        return [await _summarize_one(app, source) for source in sources]


async def _summarize_one(app: App, source: str) -> dict[str, Any]:
    try:
        doc = await _load_document(app, source)
    except (FeedError, UserInputError, OSError) as e:
        return {"source": source, "error": str(e)}
    summary = await app.summaries.summarizer.summarize(doc)
    return {
        "source": source,
        "title": doc.title,
        "summary": summary.text,
        "sentences": list(summary.sentences),
        "method": summary.method,
    }


async def _load_document(app: App, source: str) -> Document:
    if source.lower().endswith(".txt") and "://" not in source:
        text = await asyncio.to_thread(Path(source).read_text, encoding="utf-8")
        title, _, body = text.strip().partition("\n")
        return Document(title=title.strip(), text=body.strip(), url=source)
    result = await app.fetcher.fetch(
        FetchRequest(url=source, max_bytes=PAGE_MAX_BYTES, trusted=True)
    )
    page = await asyncio.to_thread(extract_article, result.body, result.url)
    if page is None or not page.text.strip():
        raise UserInputError("no article text found on that page")
    return Document(title=page.title, text=page.text, url=result.url)


async def add_feed(settings: Settings, url: str, name: str, every: str, backfill: int) -> Feed:
    """Follow a feed from the command line (operator trust)."""
    try:
        seconds = parse_duration(every)
    except ValueError as e:
        raise UserInputError(str(e)) from e
    async with opened(settings) as app:
        return await app.store.upsert_feed(
            resolve_feed_url(url, Path.cwd()),
            name=name,
            origin=FeedOrigin.CLI,
            every=max(seconds, 10.0),
            backfill=backfill,
            now=app.clock.now(),
        )


async def list_feeds(settings: Settings) -> list[Feed]:
    """Every feed with its state."""
    async with opened(settings) as app:
        return await app.store.feeds()


async def remove_feed(settings: Settings, wanted: str) -> Feed:
    """Stop following a feed named by id, name or URL."""
    async with opened(settings) as app:
        for feed in await app.store.feeds():
            if wanted in (str(feed.id), feed.url, feed.name) and not feed.paused:
                await app.store.remove_feed(feed.id)
                return feed
    raise NotFound(f"no active feed {wanted!r} (see: newsbrief feeds list)")


async def import_opml(settings: Settings, path: Path) -> int:
    """Add the feeds of an OPML file; returns how many were listed."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    listed = parse_opml(text)
    async with opened(settings) as app:
        for item in listed:
            await app.store.upsert_feed(
                item.url,
                name="",
                origin=FeedOrigin.CLI,
                every=15 * 60.0,
                backfill=0,
                now=app.clock.now(),
            )
    return len(listed)


async def export_opml(settings: Settings) -> str:
    """The active feeds as OPML."""
    async with opened(settings) as app:
        feeds = [f for f in await app.store.feeds() if not f.paused]
    return render_opml([OpmlFeed(f.url, f.name or f.title) for f in feeds])


async def sync_discord_commands(settings: Settings) -> int:
    """Register the slash commands now; returns how many Discord reports."""
    if not settings.discord_bot_token:
        raise UserInputError("DISCORD_BOT_TOKEN is not set")
    from bot.app.root import ADAPTER_FACTORIES, discord_sync_state

    module_name, _, attr = ADAPTER_FACTORIES["discord"].partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    async with opened(settings) as app:
        adapter = factory(
            token=settings.discord_bot_token,
            api_base_url=settings.discord_api_base_url or None,
            gateway_url=settings.discord_gateway_url or None,
            core=app.service,
            sync_state_path=discord_sync_state(settings),
        )
        count: int = await adapter.sync_commands()
        return count
